// Benchmark suites: one JSON file that names a speed sweep and a list of quality evals, so the same
// measurements can be saved, shared and re-run on another model version (format: docs/bench.md).
// loadBenchSuite() parses and validates it — unknown fields, wrong types, out-of-range values and
// missing data files are errors naming the suite file and the field ("quality[2].context") —
// and resolves relative data paths against the suite file's folder. runBenchSuite() runs it on one
// model and returns, per eval, the metrics, raw per-sample details (JSON) and sample count that
// the project database records (eval_results), plus the speed report.
#pragma once

#include "moe/bench.h"
#include "moe/evals.h"

#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace moe {

struct SpeedSuite {
    std::vector<int> promptTokens = {128, 512};
    std::vector<int> genTokens = {128};
    std::vector<int> batch = {1};
    std::vector<int> depths = {0};
    int repetitions = 5;
    int warmup = 1;
    uint64_t seed = 1;
};

// One entry of "quality". Only the fields of its type are meaningful.
struct QualityEval {
    std::string type;        // "perplexity", "kl", "choice", "generation", "routing"
    std::string name;        // the entry's "name", else "<type>:<file name>" (routing: "routing")
    std::string file;        // resolved path (routing: empty; see domains)
    PerplexityConfig window; // perplexity, kl: context and stride
    std::string reference = "base"; // kl: "base" or a model path (resolved against the suite)
    ChoiceConfig choice;
    GenerationConfig generation;
    std::vector<RoutingDomain> domains; // routing (files resolved)
    RoutingConfig routing;
};

struct BenchSuite {
    std::string name;
    std::string path; // the suite file
    bool hasSpeed = false;
    SpeedSuite speed;
    std::vector<QualityEval> quality;
    std::string json; // the suite as read (recorded with each run)
};

// Parses suite text; path names it in messages and is the folder relative files resolve against.
Result<BenchSuite> parseBenchSuite(const std::string& text, const std::string& path);
Result<BenchSuite> loadBenchSuite(const std::string& path);

// ---- Running a suite ----------------------------------------------------------------------------

struct SuiteEvalOutcome {
    std::string type, name, file;
    std::vector<std::pair<std::string, double>> metrics; // eval_results.metric -> value
    int64_t sampleCount = 0; // tokens (perplexity, kl, routing) or items (choice, generation)
    std::string detailsJson; // configuration and raw per-sample values
    std::string lmEvalJson;  // choice: lm-evaluation-harness results JSON
};

struct SuiteModelResult {
    bool hasSpeed = false;
    BenchReport speed;
    std::vector<SuiteEvalOutcome> quality;
};

// Returns the reference model of a kl entry ("base" or a path); the caller decides what "base"
// means (the first model of a comparison, the base of a version's lineage).
using ReferenceResolver =
    std::function<Result<std::shared_ptr<const Model>>(const std::string& reference)>;

struct SuiteRunOptions {
    SessionOptions session; // device, threads, expert policy of every session the suite makes
    ReferenceResolver resolveReference;
};

// Runs the speed sweep (when the suite has one) and every quality eval on model, in file order.
// A kl entry whose reference is the model itself records kl 0 and agreement 1 without running
// (details {"reference_is_self": true}). Stops at the first error, naming the entry.
Result<SuiteModelResult> runBenchSuite(const BenchSuite& suite, std::shared_ptr<const Model> model,
                                       const SuiteRunOptions& options,
                                       const EvalProgress& progress = {});

// The project database's name of a speed point: "pp512" tok/s -> "pp512_tok_s", "ttft512" ms ->
// "ttft512_ms", "tg128_b4" -> "tg128_b4_tok_s".
std::string benchMetricName(const BenchPoint& point);

} // namespace moe
