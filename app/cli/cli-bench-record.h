// Recording a benchmark suite run in a project (docs/bench.md, "What gets recorded"): one runs row
// of kind "bench" per model with its bench_runs environment, the speed samples and summaries
// (bench_samples, bench_summaries: "pp512_tok_s", "tg128_tok_s", "ttft512_ms", "load_ms", ...),
// one eval_results row per quality metric (eval = the entry's type) with the raw per-sample
// details, the data files as datasets, and choice tasks' lm-evaluation-harness JSON as artifacts.
#pragma once

#include "moe-projects/project-store.h"
#include "moe/bench-suite.h"

#include <optional>
#include <string>

struct BenchRunContext {
    const moe::BenchSuite* suite = nullptr;
    const moe::Model* model = nullptr;
    int64_t modelId = 0;
    int64_t versionId = 0;
    std::string device; // resolved ("cpu", "cuda:0")
    int threads = 0;
    double loadMs = 0;
};

// A running bench run with its environment and config (suite, version_id, model, device).
moe::Result<int64_t> beginSuiteRun(moe::projects::ProjectStore& store, const BenchRunContext& ctx);
// Stores the results under runId and marks the run completed.
moe::Status recordSuiteResult(moe::projects::ProjectStore& store, int64_t runId,
                              const BenchRunContext& ctx, const moe::SuiteModelResult& result);
