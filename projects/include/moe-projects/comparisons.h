// ComparisonRepo: a prompt set run against N model versions, one output (with its generation
// stats) per (prompt, version) cell, as the Compare panel shows them side by side.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <string>
#include <vector>

namespace moe::projects {

class Database;

struct ComparisonRecord {
    int64_t id = 0;
    std::string name;
    std::vector<std::string> prompts;
    std::string samplingJson;
    std::string createdAt;
};

struct ComparisonOutput {
    int64_t comparisonId = 0;
    int promptIndex = 0;
    int64_t versionId = 0;
    std::string output;
    std::string statsJson; // {"tokens":..,"ttft_ms":..,"tok_s":..}
    std::string createdAt;
};

class ComparisonRepo {
public:
    explicit ComparisonRepo(Database& db) : m_db(db) {}
    Result<int64_t> create(const std::string& name, const std::vector<std::string>& prompts,
                           const std::string& samplingJson = {});
    // Records (or replaces) one cell; promptIndex must be inside the prompt set.
    Status setOutput(const ComparisonOutput& output);
    Result<ComparisonRecord> comparison(int64_t id);
    Result<std::vector<ComparisonRecord>> list();
    // Cells ordered by prompt index, then version id.
    Result<std::vector<ComparisonOutput>> outputs(int64_t comparisonId);

private:
    Database& m_db;
};

} // namespace moe::projects
