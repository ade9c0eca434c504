// Helpers shared by the quality evals (eval-common.h).
#include "bench/eval-common.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace moe::evals {

Result<std::string> readTextFile(const std::string& path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return Status(StatusCode::IoError, path + ": cannot open the file");
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) return Status(StatusCode::IoError, path + ": read failed");
    return ss.str();
}

Result<std::vector<JsonlLine>> readJsonl(const std::string& path) {
    MOE_ASSIGN_OR_RETURN(std::string text, readTextFile(path));
    std::vector<JsonlLine> out;
    std::istringstream in(text);
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        if (line.find_first_not_of(" \t\r\n") == std::string::npos) continue;
        JsonlLine l;
        l.line = lineNo;
        l.value = nlohmann::json::parse(line, nullptr, false);
        if (l.value.is_discarded())
            return Status(StatusCode::CorruptFile,
                          path + ":" + std::to_string(lineNo) + ": not valid JSON");
        if (!l.value.is_object())
            return Status(StatusCode::CorruptFile, path + ":" + std::to_string(lineNo) +
                                                       ": expected a JSON object per line");
        out.push_back(std::move(l));
    }
    if (out.empty())
        return Status(StatusCode::InvalidArgument,
                      path + ": no items (the file has no JSON lines)");
    return out;
}

double logSumExp(std::span<const float> row) {
    double mx = -INFINITY;
    for (float v : row)
        mx = std::max(mx, double(v));
    double sum = 0;
    for (float v : row)
        sum += std::exp(double(v) - mx);
    return mx + std::log(sum);
}

int32_t argmaxRow(std::span<const float> row) {
    return int32_t(std::max_element(row.begin(), row.end()) - row.begin());
}

Status evaluateRows(Session& session, std::span<const int32_t> tokens, int64_t firstRow,
                    int64_t lastRow, const RowVisitor& visit) {
    const int64_t n = int64_t(tokens.size());
    const int64_t nVocab = session.model().spec().nVocab;
    lastRow = std::min(lastRow, n);
    for (int64_t at = 0; at < n && at < lastRow; at += kChunk) {
        const int64_t len = std::min<int64_t>(kChunk, n - at);
        // A chunk that holds no visited row only fills the cache: ask for its last row alone.
        const bool needed = at + len > firstRow;
        MOE_ASSIGN_OR_RETURN(std::vector<float> logits,
                             session.evaluate(tokens.subspan(size_t(at), size_t(len)), !needed));
        if (!needed) continue;
        for (int64_t r = std::max(at, firstRow); r < std::min(at + len, lastRow); ++r) {
            const std::span<const float> row(logits.data() + size_t((r - at) * nVocab),
                                             size_t(nVocab));
            MOE_TRY(visit(r, row));
        }
    }
    return Status::ok();
}

Result<std::unique_ptr<Session>> makeSession(std::shared_ptr<const Model> model,
                                             const EvalOptions& options, int needCtx) {
    SessionOptions so = options.session;
    if (so.nCtx <= 0) so.nCtx = std::max(needCtx, 1);
    so.reusePrefix = false;
    return Session::create(std::move(model), so);
}

Status requireTokenizer(const Model& model, const std::string& what) {
    if (!model.hasTokenizer())
        return Status(StatusCode::InvalidArgument,
                      model.info().path + ": " + what + " needs the model's tokenizer");
    return Status::ok();
}

double percentileLinear(const std::vector<double>& sorted, double q) {
    if (sorted.empty()) return 0;
    const double pos = q / 100.0 * double(sorted.size() - 1);
    const size_t lo = size_t(std::floor(pos));
    const size_t hi = std::min(lo + 1, sorted.size() - 1);
    const double frac = pos - double(lo);
    return sorted[lo] + (sorted[hi] - sorted[lo]) * frac;
}

Status checkProgress(const EvalProgress& progress, const std::string& stage, int64_t done,
                     int64_t total) {
    if (progress && !progress(stage, done, total))
        return Status(StatusCode::Cancelled, stage + ": cancelled");
    return Status::ok();
}

std::string baseName(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    return slash == std::string::npos ? path : path.substr(slash + 1);
}

} // namespace moe::evals
