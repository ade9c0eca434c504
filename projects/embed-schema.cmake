# Script mode (cmake -DSCHEMA_DIR=... -DOUT=... -P embed-schema.cmake): embeds the numbered
# migrations SCHEMA_DIR/NNNN-name.sql into the C++ source OUT, which defines
# moe::projects::embeddedMigrations(). The installed binary then needs no .sql files.
# Fails the build when the numbers do not run 1, 2, 3, ... without gaps or duplicates.
file(GLOB files RELATIVE ${SCHEMA_DIR} ${SCHEMA_DIR}/*.sql)
list(SORT files)
if(NOT files)
    message(FATAL_ERROR "${SCHEMA_DIR}: no migrations (*.sql)")
endif()

set(body "")
set(expected 1)
foreach(f IN LISTS files)
    if(NOT f MATCHES "^([0-9][0-9][0-9][0-9])-[a-z0-9-]+\\.sql$")
        message(FATAL_ERROR "${SCHEMA_DIR}/${f}: migration names must look like 0001-what.sql")
    endif()
    math(EXPR version "${CMAKE_MATCH_1}")
    if(NOT version EQUAL expected)
        message(FATAL_ERROR "${SCHEMA_DIR}/${f}: expected migration number ${expected}")
    endif()
    file(READ ${SCHEMA_DIR}/${f} sql)
    if(sql MATCHES "\\)moesql\"")
        message(FATAL_ERROR "${SCHEMA_DIR}/${f}: contains the raw-string delimiter )moesql\"")
    endif()
    string(APPEND body "    {${version}, \"${f}\", R\"moesql(${sql})moesql\"},\n")
    math(EXPR expected "${expected} + 1")
endforeach()

set(content "// Generated from ${SCHEMA_DIR} by embed-schema.cmake. Do not edit.
#include \"migrations.h\"

namespace moe::projects {

namespace {
const Migration kMigrations[] = {
${body}};
} // namespace

std::span<const Migration> embeddedMigrations() { return kMigrations; }

} // namespace moe::projects
")

# Rewrite only on change so dependents do not rebuild needlessly.
if(EXISTS ${OUT})
    file(READ ${OUT} old)
    if(old STREQUAL content)
        return()
    endif()
endif()
file(WRITE ${OUT} "${content}")
