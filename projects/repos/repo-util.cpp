// Shared repository helpers (see repo-util.h).
#include "repos/repo-util.h"

#include <nlohmann/json.hpp>

namespace moe::projects {

Status checkJsonField(const std::string& text, const char* field) {
    if (text.empty() || nlohmann::json::accept(text)) return Status::ok();
    return errorStatus(StatusCode::InvalidArgument,
                       std::string(field) + " is not valid JSON: " + text.substr(0, 80));
}

Status requireRow(Database& db, const char* table, const char* what, int64_t id) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         db.prepare(std::string("SELECT 1 FROM ") + table + " WHERE id = ?",
                                    std::string("look up ") + what));
    MOE_TRY(s.bind(1, id));
    MOE_ASSIGN_OR_RETURN(const bool found, s.step());
    if (found) return Status::ok();
    return errorStatus(StatusCode::NotFound,
                       db.path() + ": no " + what + " with id " + std::to_string(id));
}

Status bindOptional(Statement& s, int index, const std::optional<int64_t>& value) {
    return value ? s.bind(index, *value) : s.bindNull(index);
}

Status bindOptional(Statement& s, int index, const std::optional<double>& value) {
    return value ? s.bind(index, *value) : s.bindNull(index);
}

std::optional<int64_t> optionalInt(const Statement& s, int column) {
    if (s.columnIsNull(column)) return std::nullopt;
    return s.columnInt64(column);
}

std::optional<double> optionalDouble(const Statement& s, int column) {
    if (s.columnIsNull(column)) return std::nullopt;
    return s.columnDouble(column);
}

} // namespace moe::projects
