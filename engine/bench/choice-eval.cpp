// Multiple-choice accuracy by log-likelihood, the way lm-evaluation-harness scores a
// multiple_choice task (moe/evals.h): per choice one loglikelihood request (context = question,
// continuation = delimiter + choice; trailing spaces of the context move to the continuation; the
// continuation's tokens are tokens(context + continuation) past tokens(context)); acc compares the
// argmax of the sums with the answer, acc_norm the argmax of sum / characters of the choice.
// Every request runs from an empty KV cache, so the result does not depend on the item order.
#include "bench/eval-common.h"

#include <cctype>
#include <cmath>

namespace moe {

namespace {

// Unicode code points of UTF-8 text (Python's len(), which lm-eval's acc_norm divides by).
double codePoints(const std::string& s) {
    double n = 0;
    for (unsigned char c : s)
        if ((c & 0xC0) != 0x80) ++n;
    return n;
}

// Sample standard deviation over sqrt(n) (lm-eval's mean_stderr); 0 for fewer than 2 values.
double meanStderr(const std::vector<double>& xs) {
    const double n = double(xs.size());
    if (xs.size() < 2) return 0;
    double mean = 0;
    for (double x : xs)
        mean += x;
    mean /= n;
    double var = 0;
    for (double x : xs)
        var += (x - mean) * (x - mean);
    return std::sqrt(var / (n - 1)) / std::sqrt(n);
}

int argmaxOf(const std::vector<double>& v) {
    int best = 0;
    for (size_t i = 1; i < v.size(); ++i)
        if (v[i] > v[size_t(best)]) best = int(i);
    return best;
}

} // namespace

Result<std::vector<ChoiceItem>> readChoiceItems(const std::string& file) {
    MOE_ASSIGN_OR_RETURN(std::vector<evals::JsonlLine> lines, evals::readJsonl(file));
    std::vector<ChoiceItem> items;
    for (const evals::JsonlLine& l : lines) {
        const std::string at = file + ":" + std::to_string(l.line) + ": ";
        const nlohmann::json& j = l.value;
        ChoiceItem it;
        it.line = l.line;
        if (!j.contains("question") || !j["question"].is_string())
            return Status(StatusCode::InvalidArgument, at + "\"question\" must be a string");
        it.question = j["question"].get<std::string>();
        if (!j.contains("choices") || !j["choices"].is_array() || j["choices"].size() < 2)
            return Status(StatusCode::InvalidArgument,
                          at + "\"choices\" must be an array of at least 2 strings");
        for (const auto& c : j["choices"]) {
            if (!c.is_string())
                return Status(StatusCode::InvalidArgument,
                              at + "\"choices\" must hold strings only");
            it.choices.push_back(c.get<std::string>());
        }
        if (!j.contains("answer"))
            return Status(StatusCode::InvalidArgument,
                          at + "\"answer\" is missing (an index or a letter)");
        const nlohmann::json& a = j["answer"];
        if (a.is_number_integer()) {
            it.answer = a.get<int>();
        } else if (a.is_string() && a.get<std::string>().size() == 1 &&
                   std::isalpha(static_cast<unsigned char>(a.get<std::string>()[0]))) {
            it.answer = std::toupper(static_cast<unsigned char>(a.get<std::string>()[0])) - 'A';
        } else {
            return Status(StatusCode::InvalidArgument,
                          at + "\"answer\" must be a 0-based index or a letter A-Z");
        }
        if (it.answer < 0 || it.answer >= int(it.choices.size()))
            return Status(StatusCode::InvalidArgument,
                          at + "\"answer\" " + a.dump() + " is not one of the " +
                              std::to_string(it.choices.size()) + " choices");
        items.push_back(std::move(it));
    }
    return items;
}

Result<ChoiceResult> evalChoiceItems(std::shared_ptr<const Model> model,
                                     std::span<const ChoiceItem> items, const ChoiceConfig& config,
                                     const EvalOptions& options, const EvalProgress& progress) {
    if (!model) return Status(StatusCode::InvalidArgument, "choice: no model");
    MOE_TRY(evals::requireTokenizer(*model, "choice"));
    const Tokenizer& tok = model->tokenizer();
    if (config.limit > 0 && size_t(config.limit) < items.size())
        items = items.first(size_t(config.limit));
    if (items.empty()) return Status(StatusCode::InvalidArgument, "choice: no items");

    // Tokenize every request first: the session's context must hold the longest.
    struct Request {
        std::vector<int32_t> whole;
        size_t contextLen = 0;
    };
    std::vector<std::vector<Request>> requests(items.size());
    int longest = 1;
    for (size_t i = 0; i < items.size(); ++i) {
        for (const std::string& choice : items[i].choices) {
            std::string context = items[i].question, continuation = config.delimiter + choice;
            const size_t kept = context.find_last_not_of(' ');
            const size_t nSpaces =
                kept == std::string::npos ? context.size() : context.size() - kept - 1;
            if (nSpaces > 0) {
                continuation = context.substr(context.size() - nSpaces) + continuation;
                context.resize(context.size() - nSpaces);
            }
            Request rq;
            rq.whole = tok.encode(context + continuation, true);
            rq.contextLen = tok.encode(context, true).size();
            if (rq.contextLen < 1 || rq.whole.size() <= rq.contextLen)
                return Status(
                    StatusCode::InvalidArgument,
                    "choice: line " + std::to_string(items[i].line) + ": choice \"" + choice +
                        "\" adds no tokens after the question (or the question has none)");
            longest = std::max(longest, int(rq.whole.size()));
            requests[i].push_back(std::move(rq));
        }
    }
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<Session> session,
                         evals::makeSession(model, options, longest));
    if (session->contextSize() < longest)
        return Status(StatusCode::InvalidArgument,
                      "choice: an item needs " + std::to_string(longest) +
                          " tokens, the session holds " + std::to_string(session->contextSize()));

    ChoiceResult r;
    std::vector<double> acc, accNorm;
    for (size_t i = 0; i < items.size(); ++i) {
        MOE_TRY(evals::checkProgress(progress, "choice", int64_t(i), int64_t(items.size())));
        ChoiceItemResult ir;
        ir.answer = items[i].answer;
        std::vector<double> normed;
        for (size_t c = 0; c < requests[i].size(); ++c) {
            const Request& rq = requests[i][c];
            double ll = 0;
            session->reset();
            MOE_TRY(evals::evaluateRows(
                *session, rq.whole, int64_t(rq.contextLen) - 1, int64_t(rq.whole.size()) - 1,
                [&](int64_t row, std::span<const float> logits) {
                    ll += double(logits[size_t(rq.whole[size_t(row + 1)])]) -
                          evals::logSumExp(logits);
                    return Status::ok();
                }));
            ir.logLikelihoods.push_back(ll);
            ir.continuationTokens.push_back(int(rq.whole.size() - rq.contextLen));
            normed.push_back(ll / std::max(1.0, codePoints(items[i].choices[c])));
        }
        ir.predicted = argmaxOf(ir.logLikelihoods);
        ir.predictedNorm = argmaxOf(normed);
        ir.correct = ir.predicted == ir.answer;
        ir.correctNorm = ir.predictedNorm == ir.answer;
        acc.push_back(ir.correct ? 1.0 : 0.0);
        accNorm.push_back(ir.correctNorm ? 1.0 : 0.0);
        r.perItem.push_back(std::move(ir));
    }
    r.items = int64_t(items.size());
    r.delimiter = config.delimiter;
    for (size_t i = 0; i < acc.size(); ++i) {
        r.acc += acc[i];
        r.accNorm += accNorm[i];
    }
    r.acc /= double(r.items);
    r.accNorm /= double(r.items);
    r.accStderr = meanStderr(acc);
    r.accNormStderr = meanStderr(accNorm);
    return r;
}

Result<ChoiceResult> evalChoice(std::shared_ptr<const Model> model, const std::string& jsonlFile,
                                const ChoiceConfig& config, const EvalOptions& options,
                                const EvalProgress& progress) {
    MOE_ASSIGN_OR_RETURN(std::vector<ChoiceItem> items, readChoiceItems(jsonlFile));
    auto r = evalChoiceItems(std::move(model), items, config, options, progress);
    if (!r.isOk()) return Status(r.status().code(), jsonlFile + ": " + r.status().message());
    return r;
}

std::string choiceResultsJson(const ChoiceResult& r, const std::string& task,
                              const std::string& dataFile, const std::string& modelPath,
                              const std::string& device) {
    using json = nlohmann::ordered_json;
    json j;
    j["results"][task] = {{"alias", task},
                          {"acc,none", r.acc},
                          {"acc_stderr,none", r.accStderr},
                          {"acc_norm,none", r.accNorm},
                          {"acc_norm_stderr,none", r.accNormStderr}};
    j["group_subtasks"][task] = json::array();
    j["configs"][task] = {
        {"task", task},
        {"dataset_path", dataFile},
        {"output_type", "multiple_choice"},
        {"target_delimiter", r.delimiter},
        {"num_fewshot", 0},
        {"metric_list",
         json::array(
             {{{"metric", "acc"}, {"aggregation", "mean"}, {"higher_is_better", true}},
              {{"metric", "acc_norm"}, {"aggregation", "mean"}, {"higher_is_better", true}}})},
        {"metadata", {{"version", 1.0}}}};
    j["versions"][task] = 1.0;
    j["n-shot"][task] = 0;
    j["higher_is_better"][task] = {{"acc", true}, {"acc_norm", true}};
    j["n-samples"][task] = {{"original", r.items}, {"effective", r.items}};
    j["config"] = {{"model", "moestudio"}, {"model_args", "pretrained=" + modelPath},
                   {"batch_size", 1},      {"device", device},
                   {"limit", nullptr},     {"bootstrap_iters", 0}};
    j["model_name"] = modelPath;
    return j.dump(2);
}

} // namespace moe
