# Script mode: turns a SPIR-V binary (SPV) into a C++ header (HDR) with a uint32_t array kSpv_<IDENT>.
file(READ ${SPV} hex HEX)
string(LENGTH "${hex}" n)
math(EXPR rem "${n} % 8")
if(NOT rem EQUAL 0)
    message(FATAL_ERROR "${SPV}: size is not a multiple of 4 bytes")
endif()
# SPIR-V words are little-endian on disk: reorder each 4 bytes into a 0x........ literal.
string(REGEX REPLACE "([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])([0-9a-f][0-9a-f])"
       "0x\\4\\3\\2\\1u," words "${hex}")
file(WRITE ${HDR} "// Generated from ${SPV} by MoeSpvToHeader.cmake. Do not edit.\n#pragma once\n#include <cstdint>\ninline constexpr uint32_t kSpv_${IDENT}[] = {${words}};\n")
