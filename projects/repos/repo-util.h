// Helpers shared by the typed repositories: JSON field checks, existence checks that name the
// entity, optional binds/reads, and reading a whole result set into records.
#pragma once

#include "sqlite-db.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moe::projects {

// Empty or valid JSON; otherwise InvalidArgument naming the field.
Status checkJsonField(const std::string& text, const char* field);

// NotFound "<db>: no <what> with id N" unless table has a row with that id. table is a fixed
// name from our code, never user text.
Status requireRow(Database& db, const char* table, const char* what, int64_t id);

Status bindOptional(Statement& s, int index, const std::optional<int64_t>& value);
Status bindOptional(Statement& s, int index, const std::optional<double>& value);
std::optional<int64_t> optionalInt(const Statement& s, int column);
std::optional<double> optionalDouble(const Statement& s, int column);

// Steps s to the end, appending read(s) for each row.
template <class T, class ReadRow>
Result<std::vector<T>> collectRows(Statement& s, ReadRow read) {
    std::vector<T> rows;
    while (true) {
        MOE_ASSIGN_OR_RETURN(const bool row, s.step());
        if (!row) break;
        rows.push_back(read(s));
    }
    return rows;
}

} // namespace moe::projects
