// `moestudio-cli runs show ID --project DIR`: one run in full: state, owner, times, config,
// result, metric summary (count, first/last step, last loss, best eval loss, last learning rate)
// and checkpoints. Opens the project read-only, so it works while the studio has it open.
#include "cli-output.h"
#include "commands.h"

#include "moe-projects/project-store.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace {

using moe::projects::ProjectStore;

constexpr const char* kUsage = "usage: moestudio-cli runs show ID --project DIR\n";

int fail(const std::string& message) {
    return cliFail(message);
}

int usage(const std::string& message) {
    return cliUsage("moestudio-cli: " + message + "\n" + kUsage);
}

std::string number(const std::optional<double>& v) {
    if (!v) return "-";
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.6g", *v);
    return buffer;
}

} // namespace

int cmdRuns(int argc, char** argv) {
    if (argc >= 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
        std::cout << kUsage;
        return 0;
    }
    if (argc < 2 || std::string_view(argv[1]) != "show") return usage("runs: expected 'show'");
    std::string dir;
    std::string idText;
    for (int i = 2; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--project" && i + 1 < argc)
            dir = argv[++i];
        else if (arg.starts_with("--project="))
            dir = std::string(arg.substr(10));
        else if (arg.starts_with("-"))
            return usage("runs show: unknown option '" + std::string(arg) + "'");
        else if (idText.empty())
            idText = std::string(arg);
        else
            return usage("runs show: one ID expected");
    }
    if (dir.empty()) return usage("runs show: missing --project DIR");
    char* end = nullptr;
    const long long id = std::strtoll(idText.c_str(), &end, 10);
    if (idText.empty() || *end != '\0' || id <= 0) {
        return usage("runs show: ID must be a positive number, got '" + idText + "'");
    }
    auto store = ProjectStore::open(dir, ProjectStore::OpenMode::ReadOnly);
    if (!store) return fail(store.status().message());
    auto& runs = (*store)->trainingRuns();
    auto run = runs.run(id);
    if (!run) return fail(run.status().message());
    auto metrics = runs.metrics(id, 0, 2);
    if (!metrics) return fail(metrics.status().message());
    auto checkpoints = runs.checkpoints(id);
    if (!checkpoints) return fail(checkpoints.status().message());

    std::cout << "run " << run->id << " (" << run->kind << ")\n"
              << "  status      " << run->status << "\n"
              << "  model       " << (run->modelId ? std::to_string(*run->modelId) : "-") << "\n"
              << "  dataset     " << (run->datasetId ? std::to_string(*run->datasetId) : "-")
              << "\n"
              << "  owner       " << (run->owner.empty() ? "-" : run->owner) << "\n"
              << "  started     " << run->startedAt << "\n"
              << "  finished    " << (run->finishedAt.empty() ? "-" : run->finishedAt) << "\n"
              << "  config      " << (run->configJson.empty() ? "{}" : run->configJson) << "\n"
              << "  result      " << (run->resultJson.empty() ? "-" : run->resultJson) << "\n"
              << "metrics\n"
              << "  rows        " << run->metricCount << "\n";
    if (!metrics->empty()) {
        std::cout << "  steps       " << metrics->front().step << " .. " << metrics->back().step
                  << "\n"
                  << "  last loss   " << number(run->lastLoss) << "\n"
                  << "  best eval   " << number(run->bestEvalLoss) << "\n"
                  << "  last lr     " << number(metrics->back().learningRate) << "\n";
    }
    std::cout << "checkpoints (" << checkpoints->size() << ")\n";
    for (const auto& c : *checkpoints) {
        std::cout << "  " << c.id << "  step " << c.step << "  " << c.path
                  << (run->lastCheckpointId == c.id ? "  (last)" : "") << "\n";
    }
    return 0;
}
