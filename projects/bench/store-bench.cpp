// moestudio-store-bench: speed of the project store's hot paths, for docs/perf/store.md.
//   1. bulk insert: N metric rows (default 1,000,000) over R runs through
//      TrainingRunRepo::appendMetrics, one transaction per batch (default 20,000 rows).
//   2. the Runs panel's history query (newest 100 runs with their summaries) and the loss curve
//      of one run downsampled to 2,000 points, on the database just filled, each timed as the
//      median of 20 repetitions on a fresh read-only store (as the GUI reads while a worker
//      writes).
// Usage: moestudio-store-bench [--rows N] [--runs R] [--batch B] [--dir DIR]
// Prints one line per measurement. Measures; asserts nothing (speed is never asserted in tests).
#include "moe-projects/project-store.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include <unistd.h>

using namespace moe::projects;
using Clock = std::chrono::steady_clock;

namespace {

double msSince(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

int fail(const moe::Status& status) {
    std::fprintf(stderr, "moestudio-store-bench: %s\n", status.toString().c_str());
    return 1;
}

} // namespace

int main(int argc, char** argv) {
    long long rows = 1000000, runs = 100, batch = 20000;
    std::string dir;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--rows")) rows = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--runs")) runs = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--batch")) batch = std::atoll(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--dir")) dir = argv[i + 1];
        else {
            std::fprintf(stderr, "usage: moestudio-store-bench [--rows N] [--runs R] "
                                 "[--batch B] [--dir DIR]\n");
            return 2;
        }
    }
    if (rows <= 0 || runs <= 0 || batch <= 0) return 2;
    if (dir.empty()) {
        dir = (std::filesystem::temp_directory_path() /
               ("moestudio-store-bench-" + std::to_string(::getpid())))
                  .string();
    }
    std::filesystem::remove_all(dir);
    auto created = ProjectStore::create(dir, "store bench");
    if (!created) return fail(created.status());
    TrainingRunRepo& repo = (*created)->trainingRuns();

    const long long perRun = (rows + runs - 1) / runs;
    std::vector<int64_t> runIds;
    for (long long r = 0; r < runs; ++r) {
        auto id = repo.begin("finetune", R"({"lr":0.0002,"rank":16})");
        if (!id) return fail(id.status());
        runIds.push_back(*id);
    }
    std::vector<MetricRow> buffer;
    buffer.reserve(static_cast<size_t>(batch));
    long long written = 0;
    const auto start = Clock::now();
    for (long long r = 0; r < runs && written < rows; ++r) {
        for (long long step = 0; step < perRun && written < rows; ++step, ++written) {
            MetricRow m;
            m.step = step;
            m.loss = 3.0 * std::exp(-static_cast<double>(step) / 2000.0) + 0.5;
            m.learningRate = 2e-4;
            m.gradNorm = 1.0 + 0.001 * static_cast<double>(step % 100);
            m.epoch = static_cast<double>(step) / static_cast<double>(perRun);
            m.tokens = step * 4096;
            m.elapsed = static_cast<double>(step) * 0.25;
            if (step % 100 == 0) m.evalLoss = *m.loss + 0.1;
            buffer.push_back(m);
            if (static_cast<long long>(buffer.size()) == batch) {
                if (auto s = repo.appendMetrics(runIds[static_cast<size_t>(r)], buffer); !s)
                    return fail(s);
                buffer.clear();
            }
        }
        if (!buffer.empty()) {
            if (auto s = repo.appendMetrics(runIds[static_cast<size_t>(r)], buffer); !s)
                return fail(s);
            buffer.clear();
        }
    }
    const double insertMs = msSince(start);
    std::printf("bulk insert: %lld metric rows in %.1f ms = %.0f rows/s (batch %lld, %lld runs)\n",
                written, insertMs, static_cast<double>(written) / (insertMs / 1000.0), batch, runs);

    auto reader = ProjectStore::open(dir, ProjectStore::OpenMode::ReadOnly);
    if (!reader) return fail(reader.status());
    std::vector<double> historyMs, curveMs;
    size_t historyRows = 0, curveRows = 0;
    for (int rep = 0; rep < 20; ++rep) {
        auto t = Clock::now();
        auto history = (*reader)->trainingRuns().history({.kind = std::nullopt,
                                                          .status = std::nullopt,
                                                          .limit = 100,
                                                          .offset = 0});
        if (!history) return fail(history.status());
        historyMs.push_back(msSince(t));
        historyRows = history->size();
        t = Clock::now();
        auto curve = (*reader)->trainingRuns().metrics(history->front().id, 0, 2000);
        if (!curve) return fail(curve.status());
        curveMs.push_back(msSince(t));
        curveRows = curve->size();
    }
    std::printf("run history (newest 100 runs with summaries): %zu rows, median %.3f ms\n",
                historyRows, median(historyMs));
    std::printf("loss curve of one run (%lld steps -> %zu points): median %.3f ms\n", perRun,
                curveRows, median(curveMs));
    reader = moe::Result<std::unique_ptr<ProjectStore>>(
        moe::errorStatus(moe::StatusCode::Internal, "closed"));
    created = moe::Result<std::unique_ptr<ProjectStore>>(
        moe::errorStatus(moe::StatusCode::Internal, "closed"));
    std::printf("database: %.1f MiB\n",
                static_cast<double>(std::filesystem::file_size(dir + "/project.sqlite")) /
                    (1024.0 * 1024.0));
    std::filesystem::remove_all(dir);
    return 0;
}
