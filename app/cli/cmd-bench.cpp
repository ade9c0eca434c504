// `moestudio-cli bench`: prefill and decode speed, TTFT and peak memory of one model (moe/bench.h),
// as a table or JSON; with --project the run and its samples are recorded. `bench run SUITE.json`
// is the suite runner (cmd-bench-run.cpp).
#include "cli-args.h"
#include "cli-output.h"
#include "cli-record.h"
#include "commands.h"

#include "moe/bench.h"
#include "moe/devices.h"
#include "moe/version.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unistd.h>

namespace {

bool parseList(const std::string& text, std::vector<int>& out) {
    out.clear();
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        char* end = nullptr;
        long v = std::strtol(item.c_str(), &end, 10);
        if (item.empty() || *end || v < 0 || v > (1 << 22)) return false;
        if (v > 0) out.push_back(int(v));
    }
    return true;
}

nlohmann::json toJson(const moe::BenchReport& r) {
    nlohmann::json j = {{"model", r.modelPath}, {"model_name", r.modelName}, {"device", r.device},
                        {"threads", r.threads}, {"load_ms", r.loadMs},
                        {"peak_resident_bytes", r.peakResidentBytes}, {"version", moe::versionString()}};
    for (const auto& d : moe::listDevices().devices)
        if (d.backend == r.device || d.backend + ":" + std::to_string(d.index) == r.device ||
            (d.index == 0 && d.backend == r.device.substr(0, r.device.find(':'))))
            j["device_name"] = d.name;
    for (const auto& p : r.points)
        j["points"].push_back({{"name", p.name}, {"unit", p.unit}, {"median", p.median}, {"min", p.min},
                               {"max", p.max}, {"mean", p.mean}, {"stddev", p.stddev}, {"samples", p.samples}});
    return j;
}

} // namespace

int cmdBench(int argc, char** argv) {
    if (argc > 1 && std::string(argv[1]) == "run") return cmdBenchRun(argc - 1, argv + 1);
    CliArgs args;
    if (!args.parse(argc, argv, {"model", "pp", "tg", "reps", "warmup", "threads", "ctx", "json", "project", "device"}, {}))
        return cliUsage("bench: " + args.error());
    auto modelPath = args.value("model");
    if (!modelPath || !args.positional().empty())
        return cliUsage("usage: moestudio-cli bench --model MODEL [--pp 128,512] [--tg 128] [--reps 5] [--warmup 1]\n"
                        "       [--threads N] [--ctx N] [--device cpu|cuda[:N]|vulkan[:N]|auto] [--json FILE] [--project DIR]");
    moe::BenchConfig cfg;
    long long reps = cfg.repetitions, warmup = cfg.warmup, threads = 0, ctx = 0;
    if (!args.intValue("reps", 1, 1000, reps) || !args.intValue("warmup", 0, 100, warmup) ||
        !args.intValue("threads", 0, 1024, threads) || !args.intValue("ctx", 0, 1 << 22, ctx))
        return cliUsage("bench: " + args.error());
    if ((args.value("pp") && !parseList(*args.value("pp"), cfg.promptTokens)) ||
        (args.value("tg") && !parseList(*args.value("tg"), cfg.genTokens)))
        return cliUsage("bench: --pp and --tg take comma-separated token counts");
    cfg.repetitions = int(reps);
    cfg.warmup = int(warmup);
    cfg.session.nThreads = int(threads);
    cfg.session.nCtx = int(ctx);
    cfg.session.device = args.value("device", "cpu");

    std::unique_ptr<moe::projects::ProjectStore> store;
    if (auto dir = args.value("project")) {
        auto opened = moe::projects::ProjectStore::open(*dir);
        if (!opened.isOk()) return cliFail(opened.status().message());
        store = std::move(opened).value();
    }
    const auto t0 = std::chrono::steady_clock::now();
    auto model = moe::Model::load(*modelPath);
    if (!model.isOk()) return cliFail(model.status().message());
    const double loadMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();

    const bool tty = isatty(STDERR_FILENO);
    auto report = moe::runSpeedBench(*model, cfg, [tty](const std::string& point, int rep, int total) {
        if (tty) std::cerr << "\r" << point << " " << rep + 1 << "/" << total << "   " << std::flush;
        return true;
    });
    if (tty) std::cerr << "\r                    \r";
    if (!report.isOk()) return cliFail(report.status().message());
    report->loadMs = loadMs;
    const nlohmann::json j = toJson(*report);

    std::printf("%s on %s, %d threads (0 = all cores), load %.1f ms, peak RSS %.1f MiB\n",
                report->modelName.c_str(), report->device.c_str(), report->threads, loadMs,
                double(report->peakResidentBytes) / (1 << 20));
    std::printf("%-10s %12s %12s %12s %10s  %s\n", "test", "median", "min", "max", "stddev", "unit");
    for (const auto& p : report->points)
        std::printf("%-10s %12.2f %12.2f %12.2f %10.2f  %s (%zu runs)\n", p.name.c_str(), p.median, p.min,
                    p.max, p.stddev, p.unit.c_str(), p.samples.size());
    if (auto out = args.value("json")) {
        std::ofstream f(*out);
        f << j.dump(2) << "\n";
        if (!f) return cliFail(*out + ": cannot write the JSON report");
    }
    if (store) {
        auto modelId = recordModel(*store, **model);
        if (!modelId.isOk()) return cliFail(modelId.status().message());
        nlohmann::json config = {{"pp", cfg.promptTokens}, {"tg", cfg.genTokens}, {"reps", cfg.repetitions},
                                 {"warmup", cfg.warmup}, {"threads", cfg.session.nThreads}};
        auto run = store->beginRun("bench", config.dump(), *modelId);
        if (!run.isOk()) return cliFail(run.status().message());
        moe::Status st = store->finishRun(*run, "completed", j.dump());
        if (!st.isOk()) return cliFail(st.message());
    }
    return 0;
}
