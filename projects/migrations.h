// Schema migrations of project.sqlite: the numbered scripts of projects/schema/ (embedded at build
// time by embed-schema.cmake) and the code that applies them by PRAGMA user_version.
#pragma once

#include "moe/status.h"

#include <functional>
#include <span>
#include <string_view>

namespace moe::projects {

class Database;

struct Migration {
    int version;           // NNNN of NNNN-name.sql; versions run 1, 2, 3, ... (checked at build)
    std::string_view name; // file name, for error messages
    std::string_view sql;
};

// Defined in the generated schema-migrations.cpp.
std::span<const Migration> embeddedMigrations();

// The newest schema version this build knows (the last embedded migration).
int latestMigrationVersion();

// Reads PRAGMA user_version without writing anything. Fails with Unsupported, naming the file and
// both versions, when the database is newer than this build: callers do this before any write so
// a newer project is left byte-for-byte unchanged.
Result<int> checkSchemaVersion(Database& db);

// Brings db to latestMigrationVersion(): applies every migration newer than user_version, in
// order, then sets user_version, all in one IMMEDIATE transaction (a crash leaves the old schema
// intact). inTransaction, when given, runs in the same transaction after the last migration
// (create() writes the project meta there so a new project is never half made).
// Returns the version the database is at afterwards.
Result<int> migrate(Database& db, const std::function<Status()>& inTransaction = {});

} // namespace moe::projects
