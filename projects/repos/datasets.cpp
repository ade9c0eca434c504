// DatasetRepo (see moe-projects/datasets.h).
#include "moe-projects/datasets.h"

#include "repos/repo-util.h"

namespace moe::projects {

namespace {

constexpr const char* kColumns =
    "id, path, name, content_hash, format, row_count, token_count, added_at";

DatasetRecord readDataset(const Statement& s) {
    return {.id = s.columnInt64(0),
            .path = s.columnText(1),
            .name = s.columnText(2),
            .contentHash = s.columnText(3),
            .format = s.columnText(4),
            .rowCount = s.columnInt64(5),
            .tokenCount = s.columnInt64(6),
            .addedAt = s.columnText(7)};
}

} // namespace

Result<int64_t> DatasetRepo::add(const DatasetRecord& d) {
    if (d.path.empty() || d.contentHash.empty()) {
        return errorStatus(StatusCode::InvalidArgument,
                           "dataset '" + d.path + "': path and content hash must be set");
    }
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "add dataset"));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT INTO datasets (path, name, content_hash, format, "
                                      "row_count, token_count, added_at) VALUES (?, ?, ?, ?, ?, "
                                      "?, ?) ON CONFLICT (path, content_hash) DO NOTHING",
                                      "add dataset"));
    MOE_TRY(s.bind(1, d.path));
    MOE_TRY(s.bind(2, d.name));
    MOE_TRY(s.bind(3, d.contentHash));
    MOE_TRY(s.bind(4, d.format));
    MOE_TRY(s.bind(5, d.rowCount));
    MOE_TRY(s.bind(6, d.tokenCount));
    MOE_TRY(s.bind(7, utcTimestampNow()));
    MOE_TRY(s.run());
    int64_t id = m_db.lastInsertRowId();
    if (m_db.changes() == 0) {
        MOE_ASSIGN_OR_RETURN(Statement find,
                             m_db.prepare("SELECT id FROM datasets WHERE path = ? AND "
                                          "content_hash = ?",
                                          "find existing dataset"));
        MOE_TRY(find.bind(1, d.path));
        MOE_TRY(find.bind(2, d.contentHash));
        MOE_TRY(find.step().status());
        id = find.columnInt64(0);
    }
    MOE_TRY(tx.commit());
    return id;
}

Result<DatasetRecord> DatasetRepo::dataset(int64_t id) {
    MOE_ASSIGN_OR_RETURN(Statement s, m_db.prepare(std::string("SELECT ") + kColumns +
                                                       " FROM datasets WHERE id = ?",
                                                   "read dataset"));
    MOE_TRY(s.bind(1, id));
    MOE_ASSIGN_OR_RETURN(const bool row, s.step());
    if (!row) {
        return errorStatus(StatusCode::NotFound,
                           m_db.path() + ": no dataset with id " + std::to_string(id));
    }
    return readDataset(s);
}

Result<std::vector<DatasetRecord>> DatasetRepo::list() {
    MOE_ASSIGN_OR_RETURN(Statement s, m_db.prepare(std::string("SELECT ") + kColumns +
                                                       " FROM datasets ORDER BY id",
                                                   "list datasets"));
    return collectRows<DatasetRecord>(s, readDataset);
}

} // namespace moe::projects
