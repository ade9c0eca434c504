// Speed benchmark harness: prefill (ppN: N prompt tokens from an empty cache) and decode (tgN:
// N tokens one at a time after a short prompt; at a context depth D: tgN_dD after D cached tokens;
// at batch B > 1: tgN_bB, B sequences decoded together in one BatchSession), each repeated after
// warm-up runs, reported as median and spread of tokens/s, plus time to first token (ttftN),
// inter-token latency (itlN: every decode step's milliseconds) and peak resident memory. Speed is
// measured here and recorded in docs/perf/, never asserted in tests.
#pragma once

#include "moe/model.h"
#include "moe/session.h"
#include "moe/status.h"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace moe {

struct BenchConfig {
    std::vector<int> promptTokens = {128, 512}; // one ppN point each
    std::vector<int> genTokens = {128};         // one tgN point each
    std::vector<int> batchSizes = {1};          // decode batch sizes (1: the Session path)
    std::vector<int> depths = {0};              // decode after this many cached tokens
    int repetitions = 5;
    int warmup = 1;
    uint64_t seed = 1; // picks the (random, non-control) token ids fed to the model
    SessionOptions session;
};

struct BenchPoint {
    std::string name;   // "pp512", "tg128", "ttft128", "itl128", "tg128_b4", "tg128_d4096"
    std::string unit;   // "tok/s" or "ms"
    std::vector<double> samples;
    double median = 0, min = 0, max = 0, mean = 0, stddev = 0;
};

struct BenchReport {
    std::string modelPath, modelName, device;
    int threads = 0;
    std::vector<BenchPoint> points;
    double loadMs = 0;             // filled by callers that time the load
    uint64_t peakResidentBytes = 0; // of this process, after the runs
};

// Called before each measured or warm-up run; returns false to cancel (Status Cancelled).
using BenchProgress = std::function<bool(const std::string& point, int rep, int reps)>;

Result<BenchReport> runSpeedBench(std::shared_ptr<const Model> model, const BenchConfig& config,
                                  const BenchProgress& progress = {});

// Fills median/min/max/mean/stddev from samples.
void summarize(BenchPoint& point);

} // namespace moe
