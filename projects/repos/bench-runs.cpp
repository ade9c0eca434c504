// BenchRepo (see moe-projects/bench-runs.h). Summaries use nearest-rank percentiles over the
// sorted samples and the population standard deviation.
#include "moe-projects/bench-runs.h"

#include "moe-projects/training-runs.h"
#include "repos/repo-util.h"

#include <algorithm>
#include <cmath>

namespace moe::projects {

namespace {

double percentile(const std::vector<double>& sorted, double p) {
    const auto rank = static_cast<size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
    return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

} // namespace

Result<int64_t> BenchRepo::begin(const BenchEnvironment& env, const std::string& configJson,
                                 std::optional<int64_t> modelId) {
    if (env.suite.empty()) return errorStatus(StatusCode::InvalidArgument, "bench suite is empty");
    MOE_TRY(checkJsonField(env.environmentJson, "bench environment_json"));
    // One transaction for the run row and its environment: a crash or a failed insert never
    // leaves a bench run that history() (a join on bench_runs) cannot see.
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "begin bench run"));
    MOE_ASSIGN_OR_RETURN(const int64_t runId,
                         m_runs.insertRunning("bench", configJson, modelId, std::nullopt));
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("INSERT INTO bench_runs (run_id, suite, gpu, driver, "
                                      "backend, build_commit, environment_json) VALUES (?, ?, ?, "
                                      "?, ?, ?, ?)",
                                      "record bench environment"));
    MOE_TRY(s.bind(1, runId));
    MOE_TRY(s.bind(2, env.suite));
    MOE_TRY(s.bind(3, env.gpu));
    MOE_TRY(s.bind(4, env.driver));
    MOE_TRY(s.bind(5, env.backend));
    MOE_TRY(s.bind(6, env.buildCommit));
    MOE_TRY(s.bind(7, env.environmentJson));
    MOE_TRY(s.run());
    MOE_TRY(tx.commit());
    return runId;
}

Status BenchRepo::addSamples(int64_t runId, const std::string& metric,
                             std::span<const double> values) {
    if (metric.empty()) return errorStatus(StatusCode::InvalidArgument, "bench metric is empty");
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "add bench samples"));
    MOE_TRY(requireRow(m_db, "runs", "run", runId));
    MOE_ASSIGN_OR_RETURN(Statement next,
                         m_db.prepare("SELECT coalesce(max(idx) + 1, 0) FROM bench_samples WHERE "
                                      "run_id = ? AND metric = ?",
                                      "next bench sample index"));
    MOE_TRY(next.bind(1, runId));
    MOE_TRY(next.bind(2, metric));
    MOE_TRY(next.step().status());
    int64_t idx = next.columnInt64(0);
    MOE_ASSIGN_OR_RETURN(Statement s, m_db.prepare("INSERT INTO bench_samples (run_id, metric, "
                                                   "idx, value) VALUES (?, ?, ?, ?)",
                                                   "add bench samples"));
    for (const double v : values) {
        if (!std::isfinite(v)) {
            return errorStatus(StatusCode::InvalidArgument,
                               "bench sample " + std::to_string(idx) + " of '" + metric +
                                   "' is not a finite number");
        }
        MOE_TRY(s.bind(1, runId));
        MOE_TRY(s.bind(2, metric));
        MOE_TRY(s.bind(3, idx++));
        MOE_TRY(s.bind(4, v));
        MOE_TRY(s.run());
        MOE_TRY(s.reset());
    }
    return tx.commit();
}

Result<std::vector<double>> BenchRepo::samples(int64_t runId, const std::string& metric) {
    MOE_ASSIGN_OR_RETURN(Statement s, m_db.prepare("SELECT value FROM bench_samples WHERE run_id "
                                                   "= ? AND metric = ? ORDER BY idx",
                                                   "read bench samples"));
    MOE_TRY(s.bind(1, runId));
    MOE_TRY(s.bind(2, metric));
    return collectRows<double>(s, [](const Statement& r) { return r.columnDouble(0); });
}

Result<std::vector<BenchSummary>> BenchRepo::summarize(
    int64_t runId, const std::map<std::string, std::string>& units) {
    MOE_ASSIGN_OR_RETURN(Transaction tx, Transaction::begin(m_db, "summarize bench run"));
    MOE_ASSIGN_OR_RETURN(Statement names, m_db.prepare("SELECT DISTINCT metric FROM bench_samples "
                                                       "WHERE run_id = ? ORDER BY metric",
                                                       "list bench metrics"));
    MOE_TRY(names.bind(1, runId));
    MOE_ASSIGN_OR_RETURN(const auto metrics, collectRows<std::string>(names, [](const Statement& r) {
                             return r.columnText(0);
                         }));
    MOE_ASSIGN_OR_RETURN(Statement put,
                         m_db.prepare("INSERT OR REPLACE INTO bench_summaries (run_id, metric, "
                                      "unit, count, mean, median, p5, p95, stddev) VALUES (?, ?, "
                                      "?, ?, ?, ?, ?, ?, ?)",
                                      "store bench summary"));
    std::vector<BenchSummary> out;
    for (const std::string& metric : metrics) {
        MOE_ASSIGN_OR_RETURN(std::vector<double> v, samples(runId, metric));
        std::sort(v.begin(), v.end());
        BenchSummary b;
        b.metric = metric;
        b.count = static_cast<int64_t>(v.size());
        if (auto it = units.find(metric); it != units.end()) b.unit = it->second;
        double sum = 0;
        for (const double x : v)
            sum += x;
        b.mean = sum / static_cast<double>(v.size());
        double sq = 0;
        for (const double x : v)
            sq += (x - b.mean) * (x - b.mean);
        b.stddev = std::sqrt(sq / static_cast<double>(v.size()));
        const size_t n = v.size();
        b.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
        b.p5 = percentile(v, 5);
        b.p95 = percentile(v, 95);
        MOE_TRY(put.bind(1, runId));
        MOE_TRY(put.bind(2, b.metric));
        MOE_TRY(put.bind(3, b.unit));
        MOE_TRY(put.bind(4, b.count));
        MOE_TRY(put.bind(5, b.mean));
        MOE_TRY(put.bind(6, b.median));
        MOE_TRY(put.bind(7, b.p5));
        MOE_TRY(put.bind(8, b.p95));
        MOE_TRY(put.bind(9, b.stddev));
        MOE_TRY(put.run());
        MOE_TRY(put.reset());
        out.push_back(b);
    }
    MOE_TRY(tx.commit());
    return out;
}

Result<std::vector<BenchSummary>> BenchRepo::summaries(int64_t runId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT metric, unit, count, mean, median, p5, p95, stddev "
                                      "FROM bench_summaries WHERE run_id = ? ORDER BY metric",
                                      "read bench summaries"));
    MOE_TRY(s.bind(1, runId));
    return collectRows<BenchSummary>(s, [](const Statement& r) {
        return BenchSummary{.metric = r.columnText(0),
                            .unit = r.columnText(1),
                            .count = r.columnInt64(2),
                            .mean = r.columnDouble(3),
                            .median = r.columnDouble(4),
                            .p5 = r.columnDouble(5),
                            .p95 = r.columnDouble(6),
                            .stddev = r.columnDouble(7)};
    });
}

namespace {

BenchRunRecord readBenchRunRow(const Statement& r) {
    return BenchRunRecord{.runId = r.columnInt64(0),
                          .status = r.columnText(1),
                          .startedAt = r.columnText(2),
                          .environment = {.suite = r.columnText(3),
                                          .gpu = r.columnText(4),
                                          .driver = r.columnText(5),
                                          .backend = r.columnText(6),
                                          .buildCommit = r.columnText(7),
                                          .environmentJson = r.columnText(8)}};
}

} // namespace

Result<std::vector<BenchRunRecord>> BenchRepo::history(std::optional<std::string> suite) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT r.id, r.status, r.started_at, b.suite, b.gpu, "
                                      "b.driver, b.backend, b.build_commit, b.environment_json "
                                      "FROM bench_runs b JOIN runs r ON r.id = b.run_id WHERE ?1 "
                                      "IS NULL OR b.suite = ?1 ORDER BY r.started_at DESC, r.id "
                                      "DESC",
                                      "list bench runs"));
    if (suite) MOE_TRY(s.bind(1, *suite));
    return collectRows<BenchRunRecord>(s, readBenchRunRow);
}

Result<BenchRunRecord> BenchRepo::run(int64_t runId) {
    MOE_ASSIGN_OR_RETURN(Statement s,
                         m_db.prepare("SELECT r.id, r.status, r.started_at, b.suite, b.gpu, "
                                      "b.driver, b.backend, b.build_commit, b.environment_json "
                                      "FROM bench_runs b JOIN runs r ON r.id = b.run_id WHERE "
                                      "b.run_id = ?",
                                      "read bench run"));
    MOE_TRY(s.bind(1, runId));
    MOE_ASSIGN_OR_RETURN(const bool found, s.step());
    if (!found) {
        return errorStatus(StatusCode::NotFound, m_db.path() + ": no bench run with id " +
                                                     std::to_string(runId));
    }
    return readBenchRunRow(s);
}

} // namespace moe::projects
