// `moestudio-cli bench run SUITE.json`: a benchmark suite (moe/bench-suite.h) on one or more
// models — paths (--model, repeatable) or a project's model versions (--versions 3,5) — printed
// as a table per model and, for several models, a quality comparison; --json prints one JSON
// document instead. With --project every model's run is recorded (cli-bench-record.h).
// A kl entry's reference "base" is the base version of a version's lineage, else the first model.
#include "cli-bench-record.h"
#include "cli-bench-run.h"
#include "cli-output.h"
#include "cli-record.h"
#include "commands.h"

#include "moe/bench-suite.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>
#include <unistd.h>

namespace {

using json = nlohmann::ordered_json;
namespace fs = std::filesystem;

struct Loaded {
    std::shared_ptr<const moe::Model> model;
    double loadMs = 0;
};

std::string absPath(const std::string& p) {
    std::error_code ec;
    const fs::path a = fs::absolute(p, ec);
    return ec ? p : a.lexically_normal().string();
}

class ModelCache {
public:
    moe::Result<Loaded> get(const std::string& path) {
        const std::string key = absPath(path);
        if (auto it = m_models.find(key); it != m_models.end()) return it->second;
        const auto t0 = std::chrono::steady_clock::now();
        MOE_ASSIGN_OR_RETURN(std::shared_ptr<const moe::Model> m, moe::Model::load(path));
        Loaded l{.model = m,
                 .loadMs = std::chrono::duration<double, std::milli>(
                               std::chrono::steady_clock::now() - t0)
                               .count()};
        m_models[key] = l;
        return l;
    }

private:
    std::map<std::string, Loaded> m_models;
};

} // namespace

std::vector<std::string> takeRepeated(int& argc, char** argv, const std::string& name) {
    std::vector<std::string> values;
    const std::string flag = "--" + name, prefix = flag + "=";
    int out = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == flag && i + 1 < argc) {
            values.push_back(argv[++i]);
        } else if (a.rfind(prefix, 0) == 0) {
            values.push_back(a.substr(prefix.size()));
        } else {
            argv[out++] = argv[i];
        }
    }
    argc = out;
    return values;
}

namespace {

moe::Result<std::vector<SuiteTarget>> resolveVersions(moe::projects::ProjectStore& store,
                                                      const std::string& list) {
    std::vector<SuiteTarget> targets;
    std::stringstream ss(list);
    std::string item;
    while (std::getline(ss, item, ',')) {
        char* end = nullptr;
        const long long id = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end || id < 1)
            return moe::Status(moe::StatusCode::InvalidArgument,
                               "--versions: \"" + item + "\" is not a version id");
        MOE_ASSIGN_OR_RETURN(moe::projects::ModelVersionRecord v,
                             store.modelVersions().version(id));
        if (v.kind == "adapter" || v.kind == "esft-delta")
            return moe::Status(
                moe::StatusCode::Unsupported,
                "version " + item + " (" + v.kind + " \"" + v.name + "\", " + v.path +
                    ") is not a model file; bench runs model files (merge the adapter first)");
        MOE_ASSIGN_OR_RETURN(std::vector<moe::projects::ModelVersionRecord> lineage,
                             store.modelVersions().lineage(id));
        SuiteTarget t{.path = v.path,
                      .versionId = id,
                      .modelId = v.modelId,
                      .basePath = lineage.front().path,
                      .label = "v" + item + " " + (v.name.empty() ? v.kind : v.name)};
        if (t.path.empty())
            return moe::Status(moe::StatusCode::NotFound, "version " + item + " has no path");
        targets.push_back(std::move(t));
    }
    return targets;
}

void printResult(const SuiteTarget& t, const Loaded& l, const moe::SuiteModelResult& r,
                 const std::string& device) {
    std::printf("== %s (%s) on %s, load %.1f ms\n", t.label.c_str(), l.model->spec().name.c_str(),
                device.c_str(), l.loadMs);
    if (r.hasSpeed) {
        std::printf("%-18s %12s %12s %12s %10s  %s\n", "speed", "median", "min", "max", "stddev",
                    "unit");
        for (const auto& p : r.speed.points)
            std::printf("%-18s %12.2f %12.2f %12.2f %10.2f  %s (%zu samples)\n",
                        moe::benchMetricName(p).c_str(), p.median, p.min, p.max, p.stddev,
                        p.unit.c_str(), p.samples.size());
        std::printf("peak RSS %.1f MiB\n", double(r.speed.peakResidentBytes) / (1 << 20));
    }
    if (!r.quality.empty()) {
        std::printf("%-28s %-16s %14s %10s\n", "quality", "metric", "value", "samples");
        for (const auto& q : r.quality)
            for (const auto& [metric, value] : q.metrics)
                std::printf("%-28s %-16s %14.6g %10lld\n", q.name.c_str(), metric.c_str(), value,
                            static_cast<long long>(q.sampleCount));
    }
}

json resultJson(const SuiteTarget& t, const Loaded& l, const moe::SuiteModelResult& r,
                int64_t runId, int64_t versionId) {
    json j = {{"model", absPath(t.path)}, {"label", t.label}, {"load_ms", l.loadMs}};
    if (versionId > 0) j["version_id"] = versionId;
    if (runId > 0) j["run_id"] = runId;
    if (r.hasSpeed) {
        j["peak_resident_bytes"] = r.speed.peakResidentBytes;
        for (const auto& p : r.speed.points)
            j["speed"].push_back({{"metric", moe::benchMetricName(p)},
                                  {"unit", p.unit},
                                  {"median", p.median},
                                  {"min", p.min},
                                  {"max", p.max},
                                  {"stddev", p.stddev},
                                  {"samples", p.samples}});
    }
    j["quality"] = json::array();
    for (const auto& q : r.quality) {
        json metrics = json::object();
        for (const auto& [m, v] : q.metrics)
            metrics[m] = v;
        j["quality"].push_back({{"type", q.type},
                                {"name", q.name},
                                {"file", q.file},
                                {"metrics", metrics},
                                {"sample_count", q.sampleCount},
                                {"details", json::parse(q.detailsJson)}});
    }
    return j;
}

} // namespace

int cmdBenchRun(int argc, char** argv) {
    std::vector<std::string> models = takeRepeated(argc, argv, "model");
    CliArgs args;
    if (!args.parse(argc, argv, {"versions", "project", "device", "threads", "lm-eval-dir"},
                    {"json"}))
        return cliUsage("bench run: " + args.error());
    if (args.positional().size() != 1 || (models.empty() && !args.has("versions")))
        return cliUsage("usage: moestudio-cli bench run SUITE.json (--model PATH [--model PATH "
                        "...] | --versions ID,... "
                        "--project DIR)\n"
                        "       [--project DIR] [--device cpu|cuda[:N]|vulkan[:N]|auto] [--threads "
                        "N] [--json]\n"
                        "       [--lm-eval-dir DIR]   (suite format: docs/bench.md)");
    if (args.has("versions") && !args.has("project"))
        return cliUsage(
            "bench run: --versions needs --project DIR (the project that holds the versions)");
    SuiteCliOptions opts;
    if (!readSuiteCliOptions(args, opts)) return cliUsage("bench run: " + args.error());
    auto suite = moe::loadBenchSuite(args.positional()[0]);
    if (!suite.isOk()) return cliFail(suite.status().message());
    std::unique_ptr<moe::projects::ProjectStore> store;
    if (auto dir = args.value("project")) {
        auto opened = moe::projects::ProjectStore::open(*dir);
        if (!opened.isOk()) return cliFail(opened.status().message());
        store = std::move(opened).value();
    }
    std::vector<SuiteTarget> targets;
    for (const std::string& m : models)
        targets.push_back({.path = m, .versionId = 0, .modelId = 0, .basePath = {}, .label = m});
    if (auto list = args.value("versions")) {
        auto v = resolveVersions(*store, *list);
        if (!v.isOk()) return cliFail(v.status().message());
        targets.insert(targets.end(), v->begin(), v->end());
    }
    return runSuiteOnTargets(*suite, targets, store.get(), opts);
}

bool readSuiteCliOptions(CliArgs& args, SuiteCliOptions& opts) {
    long long threads = 0;
    if (!args.intValue("threads", 0, 1024, threads)) return false;
    opts.threads = int(threads);
    opts.device = args.value("device", "cpu");
    opts.json = args.has("json");
    opts.lmEvalDir = args.value("lm-eval-dir", "");
    return true;
}

int runSuiteOnTargets(const moe::BenchSuite& suite, const std::vector<SuiteTarget>& targets,
                      moe::projects::ProjectStore* store, const SuiteCliOptions& opts) {
    ModelCache cache;
    moe::SuiteRunOptions options;
    options.session.device = opts.device;
    options.session.nThreads = opts.threads;
    const bool tty = isatty(STDERR_FILENO);
    json all = {{"suite", suite.name}, {"suite_path", suite.path}, {"models", json::array()}};
    std::vector<std::pair<std::string, moe::SuiteModelResult>> results;
    for (const SuiteTarget& t : targets) {
        auto loaded = cache.get(t.path);
        if (!loaded.isOk()) return cliFail(loaded.status().message());
        const SuiteTarget& first = targets.front();
        options.resolveReference =
            [&](const std::string& ref) -> moe::Result<std::shared_ptr<const moe::Model>> {
            const std::string path = ref != "base"         ? ref
                                     : !t.basePath.empty() ? t.basePath
                                                           : first.path;
            MOE_ASSIGN_OR_RETURN(Loaded r, cache.get(path));
            return r.model;
        };
        BenchRunContext ctx{.suite = &suite,
                            .model = loaded->model.get(),
                            .modelId = 0,
                            .versionId = t.versionId,
                            .device = options.session.device,
                            .threads = opts.threads,
                            .loadMs = loaded->loadMs};
        int64_t runId = 0;
        if (store && t.modelId > 0) {
            ctx.modelId = t.modelId;
        } else if (store) {
            auto modelId = recordModel(*store, *loaded->model);
            if (!modelId.isOk()) return cliFail(modelId.status().message());
            ctx.modelId = *modelId;
            if (t.versionId == 0) {
                auto base = store->modelVersions().baseVersion(*modelId);
                if (!base.isOk()) return cliFail(base.status().message());
                ctx.versionId = base->id;
            }
        }
        if (store) {
            auto run = beginSuiteRun(*store, ctx);
            if (!run.isOk()) return cliFail(run.status().message());
            runId = *run;
        }
        auto r = moe::runBenchSuite(suite, loaded->model, options,
                                    [&](const std::string& stage, int64_t done, int64_t total) {
                                        if (tty)
                                            std::cerr << "\r" << t.label << ": " << stage << " "
                                                      << done + 1 << "/" << total << "      "
                                                      << std::flush;
                                        return true;
                                    });
        if (tty) std::cerr << "\r" << std::string(60, ' ') << "\r";
        if (!r.isOk()) {
            if (store)
                (void)store->finishRun(runId, "failed",
                                       json({{"error", r.status().message()}}).dump());
            return cliFail(r.status().message());
        }
        if (store) {
            moe::Status st = recordSuiteResult(*store, runId, ctx, *r);
            if (!st.isOk()) return cliFail(st.message());
        }
        if (!opts.lmEvalDir.empty()) {
            std::error_code ec;
            fs::create_directories(opts.lmEvalDir, ec);
            for (const auto& q : r->quality) {
                if (q.lmEvalJson.empty()) continue;
                const fs::path out =
                    fs::path(opts.lmEvalDir) / (fs::path(t.path).stem().string() + "-" +
                                                fs::path(q.file).stem().string() + "-results.json");
                std::ofstream f(out);
                f << q.lmEvalJson << "\n";
                if (!f) return cliFail(out.string() + ": cannot write the lm-eval results");
            }
        }
        if (!opts.json) printResult(t, *loaded, *r, options.session.device);
        all["models"].push_back(resultJson(t, *loaded, *r, runId, ctx.versionId));
        results.emplace_back(t.label, std::move(r).value());
    }
    if (opts.json) {
        std::cout << all.dump(2) << "\n";
        return 0;
    }
    if (results.size() > 1 && !results.front().second.quality.empty()) {
        std::printf("== comparison\n%-28s %-16s", "quality", "metric");
        for (const auto& [label, r] : results)
            std::printf(" %14.14s", label.c_str());
        std::printf("\n");
        const auto& ref = results.front().second.quality;
        for (size_t i = 0; i < ref.size(); ++i)
            for (size_t m = 0; m < ref[i].metrics.size(); ++m) {
                std::printf("%-28s %-16s", ref[i].name.c_str(), ref[i].metrics[m].first.c_str());
                for (const auto& res : results)
                    std::printf(" %14.6g", res.second.quality[i].metrics[m].second);
                std::printf("\n");
            }
    }
    return 0;
}
