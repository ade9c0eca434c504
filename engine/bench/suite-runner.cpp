// Running a benchmark suite on one model (moe/bench-suite.h): the speed sweep through
// runSpeedBench, then each quality entry through its eval, turned into what the project database
// records per eval — the headline metrics under fixed names (perplexity: ppl, nll_mean; kl:
// kl_mean, kl_p95, top1_agreement; choice: acc, acc_norm; generation: the scoring name; routing:
// entropy_mean) and a details JSON holding the configuration and the raw per-sample values, so two
// runs can be compared sample by sample. Names are shared with the report writer: keep them.
#include "moe/bench-suite.h"

#include "bench/eval-common.h"

namespace moe {

namespace {

using json = nlohmann::ordered_json;

// Per-token arrays above this length are left out of details (the per-window sums stay).
constexpr size_t kMaxTokenValues = 8192;

json matrix(const std::vector<double>& v, int rows, int cols) {
    json m = json::array();
    for (int r = 0; r < rows; ++r)
        m.push_back(std::vector<double>(v.begin() + ptrdiff_t(r) * cols,
                                        v.begin() + ptrdiff_t(r + 1) * cols));
    return m;
}

// The experts a domain routes to most above the average: up to 8 (layer, expert, affinity, share).
json topAffinity(const RoutingAnalysis& r, const RoutingDomainResult& d) {
    std::vector<size_t> order;
    for (size_t i = 0; i < d.affinity.size(); ++i)
        if (d.affinity[i] > 0) order.push_back(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return d.affinity[a] > d.affinity[b]; });
    json top = json::array();
    for (size_t k = 0; k < std::min<size_t>(8, order.size()); ++k) {
        const size_t i = order[k];
        top.push_back({{"layer", int(i) / r.nExpert},
                       {"expert", int(i) % r.nExpert},
                       {"affinity", d.affinity[i]},
                       {"share", d.share[i]}});
    }
    return top;
}

Result<SuiteEvalOutcome> runEntry(const QualityEval& q, const std::shared_ptr<const Model>& model,
                                  const SuiteRunOptions& options, const EvalProgress& progress) {
    EvalOptions eo{.session = options.session};
    SuiteEvalOutcome out{.type = q.type,
                         .name = q.name,
                         .file = q.file,
                         .metrics = {},
                         .sampleCount = 0,
                         .detailsJson = {},
                         .lmEvalJson = {}};
    EvalProgress stage = [&](const std::string&, int64_t done, int64_t total) {
        return !progress || progress(q.name, done, total);
    };
    json d = {{"name", q.name}};
    if (!q.file.empty()) d["file"] = q.file;
    if (q.type == "perplexity") {
        MOE_ASSIGN_OR_RETURN(PerplexityResult r,
                             evalPerplexity(model, q.file, q.window, eo, stage));
        out.metrics = {{"ppl", r.ppl}, {"nll_mean", r.nllMean}};
        out.sampleCount = r.tokens;
        d["context"] = q.window.context;
        d["stride"] = q.window.stride > 0 ? q.window.stride : q.window.context;
        d["tokens"] = r.tokens;
        d["nll_sum"] = r.nllSum;
        json windows = json::array();
        for (size_t w = 0; w < r.windows.size(); ++w)
            windows.push_back({{"begin", r.windows[w].begin},
                               {"end", r.windows[w].end},
                               {"score_from", r.windows[w].scoreFrom},
                               {"nll_sum", r.windowNll[w]}});
        d["windows"] = windows;
        if (r.tokenNll.size() <= kMaxTokenValues) d["token_nll"] = r.tokenNll;
    } else if (q.type == "kl") {
        if (!options.resolveReference)
            return Status(StatusCode::InvalidArgument,
                          "no reference model resolver for \"" + q.reference + "\"");
        MOE_ASSIGN_OR_RETURN(std::shared_ptr<const Model> ref,
                             options.resolveReference(q.reference));
        d["reference"] = q.reference;
        d["reference_path"] = ref->info().path;
        d["context"] = q.window.context;
        d["stride"] = q.window.stride > 0 ? q.window.stride : q.window.context;
        if (ref == model) {
            out.metrics = {{"kl_mean", 0.0}, {"kl_p95", 0.0}, {"top1_agreement", 1.0}};
            d["reference_is_self"] = true;
        } else {
            MOE_ASSIGN_OR_RETURN(KlResult r, evalKl(model, ref, q.file, q.window, eo, stage));
            out.metrics = {
                {"kl_mean", r.klMean}, {"kl_p95", r.klP95}, {"top1_agreement", r.top1Agreement}};
            out.sampleCount = r.tokens;
            d["tokens"] = r.tokens;
            d["kl_median"] = r.klMedian;
            d["kl_max"] = r.klMax;
            d["ppl_model"] = r.pplModel;
            d["ppl_reference"] = r.pplReference;
            if (r.tokenKl.size() <= kMaxTokenValues) d["token_kl"] = r.tokenKl;
        }
    } else if (q.type == "choice") {
        MOE_ASSIGN_OR_RETURN(std::vector<ChoiceItem> items, readChoiceItems(q.file));
        auto run = evalChoiceItems(model, items, q.choice, eo, stage);
        if (!run.isOk()) return Status(run.status().code(), q.file + ": " + run.status().message());
        const ChoiceResult& r = *run;
        out.metrics = {{"acc", r.acc}, {"acc_norm", r.accNorm}};
        out.sampleCount = r.items;
        const std::string task =
            evals::baseName(q.file).substr(0, evals::baseName(q.file).find('.'));
        out.lmEvalJson =
            choiceResultsJson(r, task, q.file, model->info().path, options.session.device);
        d["task"] = task;
        d["items"] = r.items;
        d["acc_stderr"] = r.accStderr;
        d["acc_norm_stderr"] = r.accNormStderr;
        json per = json::array();
        for (size_t i = 0; i < r.perItem.size(); ++i) {
            const ChoiceItemResult& it = r.perItem[i];
            per.push_back({{"line", items[i].line},
                           {"answer", it.answer},
                           {"pred", it.predicted},
                           {"pred_norm", it.predictedNorm},
                           {"loglikelihoods", it.logLikelihoods}});
        }
        d["per_item"] = per;
    } else if (q.type == "generation") {
        MOE_ASSIGN_OR_RETURN(std::vector<GenerationItem> items, readGenerationItems(q.file));
        auto run = evalGenerationItems(model, items, q.generation, eo, stage);
        if (!run.isOk()) return Status(run.status().code(), q.file + ": " + run.status().message());
        const GenerationResult& r = *run;
        out.metrics = {{q.generation.scoring, r.score}};
        out.sampleCount = r.items;
        d["scoring"] = q.generation.scoring;
        d["max_tokens"] = q.generation.maxTokens;
        d["chat"] = q.generation.chat;
        d["items"] = r.items;
        json per = json::array();
        for (size_t i = 0; i < r.perItem.size(); ++i)
            per.push_back({{"line", items[i].line},
                           {"output", r.perItem[i].output},
                           {"correct", r.perItem[i].correct},
                           {"tokens", r.perItem[i].generatedTokens}});
        d["per_item"] = per;
    } else if (q.type == "routing") {
        MOE_ASSIGN_OR_RETURN(RoutingAnalysis r,
                             analyzeRouting(model, q.domains, q.routing, eo, stage));
        out.metrics = {{"entropy_mean", r.entropyMean}};
        out.sampleCount = r.tokens;
        d["layers"] = r.nLayer;
        d["experts"] = r.nExpert;
        d["moe_layers"] = r.moeLayer;
        d["context"] = q.routing.context;
        d["tokens"] = r.tokens;
        d["share"] = matrix(r.share, r.nLayer, r.nExpert);
        d["entropy"] = r.entropy;
        json domains = json::object();
        for (const RoutingDomainResult& dr : r.domains)
            domains[dr.name] = {{"file", dr.file},
                                {"tokens", dr.tokens},
                                {"share", matrix(dr.share, r.nLayer, r.nExpert)},
                                {"affinity", matrix(dr.affinity, r.nLayer, r.nExpert)},
                                {"entropy", dr.entropy},
                                {"top_experts", topAffinity(r, dr)}};
        d["domains"] = domains;
    } else {
        return Status(StatusCode::InvalidArgument, "unknown eval type \"" + q.type + "\"");
    }
    out.detailsJson = d.dump();
    return out;
}

} // namespace

std::string benchMetricName(const BenchPoint& point) {
    return point.name + "_" + (point.unit == "tok/s" ? std::string("tok_s") : point.unit);
}

Result<SuiteModelResult> runBenchSuite(const BenchSuite& suite, std::shared_ptr<const Model> model,
                                       const SuiteRunOptions& options,
                                       const EvalProgress& progress) {
    if (!model) return Status(StatusCode::InvalidArgument, "bench suite: no model");
    SuiteModelResult result;
    if (suite.hasSpeed) {
        BenchConfig bc;
        bc.promptTokens = suite.speed.promptTokens;
        bc.genTokens = suite.speed.genTokens;
        bc.batchSizes = suite.speed.batch;
        bc.depths = suite.speed.depths;
        bc.repetitions = suite.speed.repetitions;
        bc.warmup = suite.speed.warmup;
        bc.seed = suite.speed.seed;
        bc.session = options.session;
        // The sweep needs room for the longest prompt and the deepest decode.
        int need = 1;
        for (int p : bc.promptTokens)
            need = std::max(need, p);
        for (int d : bc.depths)
            for (int g : bc.genTokens)
                need = std::max(need, d + g + 9);
        if (bc.session.nCtx <= 0) bc.session.nCtx = need;
        auto speed = runSpeedBench(model, bc, [&](const std::string& point, int rep, int reps) {
            return !progress || progress("speed " + point, rep, reps);
        });
        if (!speed.isOk())
            return Status(speed.status().code(),
                          suite.path + ": speed: " + speed.status().message());
        result.hasSpeed = true;
        result.speed = std::move(speed).value();
    }
    for (size_t i = 0; i < suite.quality.size(); ++i) {
        const QualityEval& q = suite.quality[i];
        auto r = runEntry(q, model, options, progress);
        if (!r.isOk())
            return Status(r.status().code(), suite.path + ": quality[" + std::to_string(i) + "] (" +
                                                 q.name + "): " + r.status().message());
        result.quality.push_back(std::move(r).value());
    }
    return result;
}

} // namespace moe
