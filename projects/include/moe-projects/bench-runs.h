// BenchRepo: benchmark runs (a runs row of kind "bench" plus its suite and environment: GPU,
// driver, backend, build commit), their raw samples per metric, and the summaries computed from
// them (count, mean, median, p5, p95, stddev). The Bench panel plots history per suite.
#pragma once

#include "moe/status.h"

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace moe::projects {

class Database;
class TrainingRunRepo;

struct BenchEnvironment {
    std::string suite; // "decode", "prefill", "moe-routing", ...
    std::string gpu;
    std::string driver;
    std::string backend; // "cpu", "cuda", "vulkan"
    std::string buildCommit;
    std::string environmentJson; // anything else (CPU, threads, OS)
};

struct BenchSummary {
    std::string metric;
    std::string unit;
    int64_t count = 0;
    double mean = 0, median = 0, p5 = 0, p95 = 0, stddev = 0;
};

struct BenchRunRecord {
    int64_t runId = 0;
    std::string status;
    std::string startedAt;
    BenchEnvironment environment;
};

class BenchRepo {
public:
    BenchRepo(Database& db, TrainingRunRepo& runs) : m_db(db), m_runs(runs) {}
    // A running "bench" run with its environment; finish it with TrainingRunRepo::finish().
    Result<int64_t> begin(const BenchEnvironment& environment, const std::string& configJson,
                          std::optional<int64_t> modelId = {});
    // Appends raw samples of one metric (indices continue after those already stored).
    Status addSamples(int64_t runId, const std::string& metric, std::span<const double> values);
    Result<std::vector<double>> samples(int64_t runId, const std::string& metric);
    // Computes and stores the summary of every metric of the run; units by metric name.
    Result<std::vector<BenchSummary>> summarize(int64_t runId,
                                                const std::map<std::string, std::string>& units = {});
    Result<std::vector<BenchSummary>> summaries(int64_t runId);
    // One bench run with its environment; NotFound when runId is not a bench run.
    Result<BenchRunRecord> run(int64_t runId);
    // Bench runs, newest first; suite filters when set.
    Result<std::vector<BenchRunRecord>> history(std::optional<std::string> suite = {});

private:
    Database& m_db;
    TrainingRunRepo& m_runs;
};

} // namespace moe::projects
