// Recording a benchmark suite run in a project (cli-bench-record.h).
#include "cli-bench-record.h"

#include "moe/devices.h"
#include "moe/version.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <sys/utsname.h>

namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

std::string absolute(const std::string& path) {
    std::error_code ec;
    const fs::path p = fs::absolute(path, ec);
    return ec ? path : p.lexically_normal().string();
}

std::string cpuName() {
    std::ifstream f("/proc/cpuinfo");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("model name", 0) == 0) {
            const size_t colon = line.find(':');
            if (colon != std::string::npos)
                return line.substr(line.find_first_not_of(' ', colon + 1));
        }
    return {};
}

moe::projects::BenchEnvironment environment(const BenchRunContext& ctx) {
    moe::projects::BenchEnvironment env;
    env.suite = ctx.suite->name;
    env.backend = ctx.device.substr(0, ctx.device.find(':'));
    for (const moe::DeviceInfo& d : moe::listDevices().devices)
        if (env.backend != "cpu" && d.backend + ":" + std::to_string(d.index) == ctx.device) {
            env.gpu = d.name;
            env.driver = d.detail;
        }
    env.buildCommit = moe::buildDescription();
    struct utsname u {};
    std::string os;
    if (uname(&u) == 0) os = std::string(u.sysname) + " " + u.release + " " + u.machine;
    json e = {{"cpu", cpuName()},
              {"threads", ctx.threads},
              {"device", ctx.device},
              {"os", os},
              {"model", absolute(ctx.model->info().path)},
              {"version", moe::versionString()}};
    env.environmentJson = e.dump();
    return env;
}

// The data file as a project dataset (by path and fingerprint), or none for routing's several
// files.
std::optional<int64_t> recordDataset(moe::projects::ProjectStore& store,
                                     const moe::SuiteEvalOutcome& q) {
    if (q.file.empty()) return std::nullopt;
    std::error_code ec;
    const std::string abs = fs::absolute(q.file, ec).lexically_normal().string();
    auto hash = moe::projects::fileFingerprint(abs);
    if (!hash.isOk()) return std::nullopt;
    moe::projects::DatasetRecord d;
    d.path = abs;
    d.name = fs::path(abs).filename().string();
    d.contentHash = *hash;
    d.format = fs::path(abs).extension() == ".jsonl" ? "jsonl" : "text";
    if (q.type == "choice" || q.type == "generation")
        d.rowCount = q.sampleCount;
    else
        d.tokenCount = q.sampleCount;
    auto id = store.datasets().add(d);
    return id.isOk() ? std::optional<int64_t>(*id) : std::nullopt;
}

// Writes a choice task's lm-eval results JSON under exports/bench-run-N/ and records it.
moe::Status recordLmEval(moe::projects::ProjectStore& store, int64_t runId,
                         const moe::SuiteEvalOutcome& q) {
    const std::string rel = "exports/bench-run-" + std::to_string(runId) + "/" +
                            fs::path(q.file).stem().string() + "-lm-eval-results.json";
    const fs::path abs = fs::path(store.dir()) / rel;
    std::error_code ec;
    fs::create_directories(abs.parent_path(), ec);
    std::ofstream f(abs);
    f << q.lmEvalJson << "\n";
    f.close();
    if (!f)
        return moe::Status(moe::StatusCode::IoError,
                           abs.string() + ": cannot write the lm-eval results");
    moe::projects::ArtifactRecord a;
    a.runId = runId;
    a.kind = "export";
    a.path = rel;
    a.bytes = int64_t(q.lmEvalJson.size() + 1);
    return store.trainingRuns().addArtifact(a).status();
}

} // namespace

moe::Result<int64_t> beginSuiteRun(moe::projects::ProjectStore& store, const BenchRunContext& ctx) {
    json config = {{"suite", ctx.suite->name},
                   {"suite_path", absolute(ctx.suite->path)},
                   {"suite_json", json::parse(ctx.suite->json)},
                   {"version_id", ctx.versionId},
                   {"model", absolute(ctx.model->info().path)},
                   {"device", ctx.device},
                   {"threads", ctx.threads}};
    return store.bench().begin(environment(ctx), config.dump(), ctx.modelId);
}

moe::Status recordSuiteResult(moe::projects::ProjectStore& store, int64_t runId,
                              const BenchRunContext& ctx, const moe::SuiteModelResult& result) {
    json summary = {
        {"suite", ctx.suite->name}, {"version_id", ctx.versionId}, {"load_ms", ctx.loadMs}};
    if (result.hasSpeed) {
        std::map<std::string, std::string> units = {{"load_ms", "ms"}, {"peak_rss_mib", "MiB"}};
        for (const moe::BenchPoint& p : result.speed.points) {
            const std::string metric = moe::benchMetricName(p);
            units[metric] = p.unit;
            MOE_TRY(store.bench().addSamples(runId, metric, p.samples));
            summary["speed"][metric] = p.median;
        }
        const double rss = double(result.speed.peakResidentBytes) / (1 << 20);
        MOE_TRY(store.bench().addSamples(runId, "load_ms", std::vector<double>{ctx.loadMs}));
        MOE_TRY(store.bench().addSamples(runId, "peak_rss_mib", std::vector<double>{rss}));
        MOE_TRY(store.bench().summarize(runId, units).status());
    }
    for (const moe::SuiteEvalOutcome& q : result.quality) {
        const std::optional<int64_t> datasetId = recordDataset(store, q);
        for (size_t m = 0; m < q.metrics.size(); ++m) {
            moe::projects::EvalResultRecord r;
            r.runId = runId;
            if (ctx.versionId > 0) r.versionId = ctx.versionId;
            r.datasetId = datasetId;
            r.eval = q.type;
            r.metric = q.metrics[m].first;
            r.value = q.metrics[m].second;
            r.sampleCount = q.sampleCount;
            // The raw samples once, with the eval's first metric; the others point at it.
            if (m == 0) {
                r.detailsJson = q.detailsJson;
            } else {
                json brief = {
                    {"name", q.name}, {"file", q.file}, {"details_with", q.metrics[0].first}};
                const json full = json::parse(q.detailsJson, nullptr, false);
                if (full.is_object() && full.contains("task")) brief["task"] = full["task"];
                r.detailsJson = brief.dump();
            }
            MOE_TRY(store.evals().add(r).status());
            summary["quality"][q.name][r.metric] = r.value;
        }
        if (!q.lmEvalJson.empty()) MOE_TRY(recordLmEval(store, runId, q));
    }
    return store.finishRun(runId, "completed", summary.dump());
}
