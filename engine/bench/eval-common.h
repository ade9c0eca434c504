// Helpers shared by the quality evals (engine/bench/*-eval.cpp): reading text and JSONL files with
// errors that name the file and line, log-softmax in double precision, feeding a token sequence
// to a Session in bounded chunks while visiting the logits rows an eval needs, percentiles, and
// the progress/cancel check.
#pragma once

#include "moe/evals.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <functional>
#include <span>
#include <string>
#include <vector>

namespace moe::evals {

// The whole file as bytes; IoError naming the file when it cannot be read.
Result<std::string> readTextFile(const std::string& path);

struct JsonlLine {
    int line = 0; // 1-based
    nlohmann::json value;
};
// Every non-blank line parsed as a JSON object; errors: "FILE:LINE: ..." (not JSON, not an object).
Result<std::vector<JsonlLine>> readJsonl(const std::string& path);

// ln(sum_v exp(row[v])) in double: ln p(v) = row[v] - logSumExp(row).
double logSumExp(std::span<const float> row);
// Index of the largest logit (the first on ties).
int32_t argmaxRow(std::span<const float> row);

// Feeds tokens to the session (appending to its cache) in chunks of at most kChunk tokens and
// calls visit(row, logits [nVocab]) for every row in [firstRow, lastRow) in order; a row's logits
// predict the token after it. Keeps at most one chunk of logits in memory.
constexpr int kChunk = 512;
using RowVisitor = std::function<Status(int64_t row, std::span<const float> logits)>;
Status evaluateRows(Session& session, std::span<const int32_t> tokens, int64_t firstRow,
                    int64_t lastRow, const RowVisitor& visit);

// A session for an eval: options.session with nCtx = needCtx when the caller left it 0.
Result<std::unique_ptr<Session>> makeSession(std::shared_ptr<const Model> model,
                                             const EvalOptions& options, int needCtx);

Status requireTokenizer(const Model& model, const std::string& what);

// Percentile q in [0, 100] of sorted values, linear interpolation between closest ranks (numpy's
// default); 0 for no values.
double percentileLinear(const std::vector<double>& sorted, double q);

// Cancelled when progress returns false.
Status checkProgress(const EvalProgress& progress, const std::string& stage, int64_t done,
                     int64_t total);

// The file name of a path without folders ("data/wiki.txt" -> "wiki.txt").
std::string baseName(const std::string& path);

} // namespace moe::evals
