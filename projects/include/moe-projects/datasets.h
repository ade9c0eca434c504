// DatasetRepo: training and evaluation data sets referenced by path and content hash (like
// models, never copied), with their format and row/token counts.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace moe::projects {

class Database;

struct DatasetRecord {
    int64_t id = 0;
    std::string path;
    std::string name;
    std::string contentHash; // fileFingerprint()
    std::string format;      // "jsonl", "parquet", "text"
    int64_t rowCount = 0;
    int64_t tokenCount = 0;
    std::string addedAt;
};

class DatasetRepo {
public:
    explicit DatasetRepo(Database& db) : m_db(db) {}
    // Adding the same path + hash again returns the existing id (counts are not changed).
    Result<int64_t> add(const DatasetRecord& dataset);
    Result<DatasetRecord> dataset(int64_t id);
    Result<std::vector<DatasetRecord>> list();

private:
    Database& m_db;
};

} // namespace moe::projects
