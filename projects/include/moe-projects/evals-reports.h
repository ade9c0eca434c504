// EvalRepo and ReportRepo: quality evaluation results (perplexity, KL, choice accuracy, exact
// match) per model version and data set, and the reports (HTML/PDF/CSV/Markdown files under
// reports/) made from runs, comparisons and evals.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace moe::projects {

class Database;

struct EvalResultRecord {
    int64_t id = 0;
    std::optional<int64_t> runId;
    std::optional<int64_t> versionId;
    std::optional<int64_t> datasetId;
    std::string eval;   // "perplexity", "kl", "choice", "exact_match"
    std::string metric; // "ppl", "accuracy", ...
    double value = 0;
    int64_t sampleCount = 0;
    std::string detailsJson;
    std::string createdAt;
};

class EvalRepo {
public:
    explicit EvalRepo(Database& db) : m_db(db) {}
    Result<int64_t> add(const EvalResultRecord& result);
    // Newest first; versionId filters when set.
    Result<std::vector<EvalResultRecord>> list(std::optional<int64_t> versionId = {});
    // The results a run recorded, in the order it added them.
    Result<std::vector<EvalResultRecord>> byRun(int64_t runId);

private:
    Database& m_db;
};

struct ReportRecord {
    int64_t id = 0;
    std::string title;
    std::string format; // "html", "pdf", "csv", "md"
    std::string path;   // relative to the project folder
    std::string sourceJson;
    std::string createdAt;
};

class ReportRepo {
public:
    explicit ReportRepo(Database& db) : m_db(db) {}
    Result<int64_t> add(const ReportRecord& report);
    Result<std::vector<ReportRecord>> list();

private:
    Database& m_db;
};

} // namespace moe::projects
