// `moestudio-cli finetune CONFIG.json --model MODEL`: a fine-tuning run (moe/training.h) with a
// progress line per step, Ctrl-C stopping at the next step with a checkpoint, --resume DIR, and,
// with --project, the run recorded in the project database: config, per-step metrics,
// checkpoints, the result as an artifact and a new model version (adapter or ESFT delta).
#include "cli-args.h"
#include "cli-output.h"
#include "cli-record.h"
#include "commands.h"

#include "moe-projects/project-store.h"
#include "moe/training.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

std::atomic<bool> g_stop{false};

void onSignal(int) {
    g_stop = true;
}

std::string duration(double s) {
    const long long t = static_cast<long long>(s + 0.5);
    char buf[32];
    if (t >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", t / 3600, (t / 60) % 60);
    else std::snprintf(buf, sizeof buf, "%lldm%02llds", t / 60, t % 60);
    return buf;
}

// A JSON string literal of s (the result fields the run row keeps).
std::string jsonQuote(const std::string& s) {
    return nlohmann::json(s).dump();
}

} // namespace

int cmdFinetune(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"model", "resume", "project", "threads", "output"}, {"quiet"}))
        return cliUsage("finetune: " + args.error());
    const auto model = args.value("model");
    if (!model || args.positional().size() != 1)
        return cliUsage("usage: moestudio-cli finetune CONFIG.json --model MODEL [--output DIR] [--resume CHECKPOINT_DIR]\n"
                        "       [--project DIR] [--threads N] [--quiet]");
    const std::string configPath = args.positional()[0];
    std::ifstream in(configPath);
    if (!in) return cliFail(configPath + ": cannot open");
    std::stringstream ss;
    ss << in.rdbuf();
    auto config = moe::parseTrainingConfig(ss.str(), configPath);
    if (!config.isOk()) return cliFail(config.status().message());
    // Relative dataset paths are relative to the config file.
    const std::filesystem::path base = std::filesystem::path(configPath).parent_path();
    for (std::string* p : {&config->datasetPath, &config->validationPath})
        if (!p->empty() && std::filesystem::path(*p).is_relative()) *p = (base / *p).string();
    long long threads = config->threads;
    if (!args.intValue("threads", 0, 1024, threads)) return cliUsage("finetune: " + args.error());
    config->threads = int(threads);
    if (auto o = args.value("output")) config->outputDir = *o;

    auto m = moe::Model::load(*model);
    if (!m.isOk()) return cliFail(m.status().message());
    std::unique_ptr<moe::projects::ProjectStore> store;
    int64_t runId = 0, modelId = 0;
    if (auto dir = args.value("project")) {
        auto opened = moe::projects::ProjectStore::open(*dir);
        if (!opened.isOk()) return cliFail(opened.status().message());
        store = std::move(*opened);
        auto id = recordModel(*store, **m);
        if (!id.isOk()) return cliFail(id.status().message());
        modelId = *id;
        auto run = store->trainingRuns().begin("training", moe::trainingConfigJson(*config), modelId);
        if (!run.isOk()) return cliFail(run.status().message());
        runId = *run;
        if (config->outputDir.empty()) config->outputDir = store->dir() + "/runs/run-" + std::to_string(runId);
    }
    auto finish = [&](const std::string& status, const std::string& result) {
        if (store) (void)store->trainingRuns().finish(runId, status, result);
    };
    auto run = moe::TrainingRun::create(*m, *config);
    if (!run.isOk()) {
        finish("failed", "{\"error\": " + jsonQuote(run.status().message()) + "}");
        return cliFail(run.status().message());
    }
    moe::TrainingRun& r = **run;
    std::cerr << r.summary() << "\n";
    if (auto dir = args.value("resume")) {
        if (moe::Status st = r.resume(*dir); !st.isOk()) {
            finish("failed", "{\"error\": " + jsonQuote(st.message()) + "}");
            return cliFail(st.message());
        }
        std::cerr << "resumed at step " << r.step() << " of " << r.totalSteps() << "\n";
    }
    std::signal(SIGINT, onSignal);
    std::signal(SIGTERM, onSignal);
    const bool quiet = args.has("quiet");
    const auto t0 = std::chrono::steady_clock::now();
    moe::Status st = r.run([&](const moe::TrainingProgress& p) {
        if (store) {
            moe::projects::MetricRow row;
            row.step = p.step;
            row.loss = p.loss;
            if (p.evaluated) row.evalLoss = p.evalLoss;
            row.learningRate = p.learningRate;
            row.gradNorm = p.gradNorm;
            row.epoch = p.epoch;
            row.tokens = p.tokensSeen;
            row.elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            (void)store->trainingRuns().appendMetrics(runId, std::span(&row, 1));
            const std::string ck = "checkpoints/step-" + std::to_string(p.step);
            if (config->checkpointEvery > 0 && p.step % config->checkpointEvery == 0)
                (void)store->trainingRuns().addCheckpoint(runId, p.step, config->outputDir + "/" + ck,
                                                          "{\"loss\": " + std::to_string(p.loss) + "}");
        }
        if (!quiet) {
            std::fprintf(stderr, "step %d/%d  loss %.4f%s  lr %.3g  grad-norm %.3g  %.0f tok/s  ETA %s\n", p.step,
                         p.totalSteps, p.loss,
                         p.evalLoss >= 0 ? ("  eval " + std::to_string(p.evalLoss).substr(0, 6)).c_str() : "",
                         p.learningRate, p.gradNorm, p.tokensPerSecond, duration(p.etaSeconds).c_str());
        }
        return !g_stop.load();
    });
    if (st.code() == moe::StatusCode::Cancelled) {
        finish("cancelled", "{\"step\": " + std::to_string(r.step()) + "}");
        std::cerr << st.message() << "; resume with --resume " << config->outputDir << "/checkpoints/step-" << r.step()
                  << "\n";
        return 1;
    }
    if (!st.isOk()) {
        finish("failed", "{\"error\": " + jsonQuote(st.message()) + "}");
        return cliFail(st.message());
    }
    const bool lora = config->method == moe::TrainingMethod::Lora;
    const std::string result = config->outputDir + (lora ? "/adapter" : "/weights");
    if (store) {
        moe::projects::ArtifactRecord a;
        a.runId = runId;
        a.kind = lora ? "adapter" : "weights";
        a.path = result;
        (void)store->trainingRuns().addArtifact(a);
        if (config->method != moe::TrainingMethod::Full) {
            auto baseVersion = store->modelVersions().baseVersion(modelId);
            if (baseVersion.isOk()) {
                moe::projects::ModelVersionRecord v;
                v.kind = lora ? "adapter" : "esft-delta";
                v.name = std::filesystem::path(configPath).stem().string() + " (" +
                         moe::trainingMethodName(config->method) + ", run " + std::to_string(runId) + ")";
                v.path = result;
                v.configJson = moe::trainingConfigJson(*config);
                v.runId = runId;
                (void)store->modelVersions().addDerived(baseVersion->id, v);
            }
        }
        finish("completed", "{\"result\": " + jsonQuote(result) + ", \"steps\": " + std::to_string(r.step()) + "}");
    }
    std::cout << "saved " << result << "\n";
    return 0;
}
