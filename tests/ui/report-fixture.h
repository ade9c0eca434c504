// The project contents test-report renders: one model with three versions (base "tiny-mixtral",
// adapter "lora", quantization "q4_k") and one finished bench run each, recorded through the
// store API as the suite runner records them (config_json "version_id"; samples summarized with
// units: pp128/512/2048, tg128 at batch 1/4/16 and depth 4096, ttft128/512 with 30 samples,
// load_ms; evals: ppl, nll_mean, KL vs base (not for the base), acc/acc_norm on the data set
// "mmlu-mini", exact_match, routing entropy with a 6 x 8 share matrix and domains code, legal).
#pragma once

#include "moe-projects/project-store.h"

#include <cstdint>
#include <vector>

struct ReportFixture {
    int64_t modelId = 0;
    std::vector<int64_t> versions; // base, lora, q4_k
    std::vector<int64_t> runs;     // their bench runs, same order
    int64_t datasetId = 0;
};

// Fails the running test (QVERIFY) on a store error: check QTest::currentTestFailed().
void recordReportFixture(moe::projects::ProjectStore& store, ReportFixture& fixture);
