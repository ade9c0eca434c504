// Speed benchmark. Prompt ids are drawn from the non-control vocabulary with a seeded Rng, so two
// runs feed the model identical work. Decode feeds the argmax of each step back, as greedy
// generation does, so the attention length grows as in real use.
#include "moe/bench.h"

#include "moe/batch.h"

#include "core/rng.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <sys/resource.h>

namespace moe {

void summarize(BenchPoint& p) {
    if (p.samples.empty()) return;
    std::vector<double> s = p.samples;
    std::sort(s.begin(), s.end());
    const size_t n = s.size();
    p.median = n % 2 ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    p.min = s.front();
    p.max = s.back();
    double sum = 0;
    for (double x : s)
        sum += x;
    p.mean = sum / double(n);
    double var = 0;
    for (double x : s)
        var += (x - p.mean) * (x - p.mean);
    p.stddev = n > 1 ? std::sqrt(var / double(n - 1)) : 0.0;
}

namespace {

using Clock = std::chrono::steady_clock;
double seconds(Clock::duration d) {
    return std::chrono::duration<double>(d).count();
}

std::vector<int32_t> promptIds(const Tokenizer& tok, int n, uint64_t seed) {
    Rng rng(seed);
    std::vector<int32_t> ids;
    ids.reserve(size_t(n));
    if (tok.bosId() >= 0) ids.push_back(tok.bosId());
    while (int(ids.size()) < n) {
        const int32_t id = int32_t(rng.next() % uint64_t(tok.vocabSize()));
        if (!tok.isControl(id)) ids.push_back(id);
    }
    return ids;
}

int32_t argmax(const std::vector<float>& l) {
    return int32_t(std::max_element(l.begin(), l.end()) - l.begin());
}

using PointRunner = std::function<Status(const std::string&, const std::string&,
                                         const std::function<Result<double>(bool)>&)>;

// tgN_bB: B sequences, each prefilled with the same start tokens in one forward, then N steps that
// each decode one token of every sequence (its own argmax) in one forward; tokens/s counts all B.
// BatchSession runs on the CPU backend.
Status batchPoint(const std::shared_ptr<const Model>& model, const BenchConfig& config,
                  const std::vector<int32_t>& start, int n, int batch,
                  const std::string& depthSuffix, const PointRunner& runPoint) {
    const std::string name = "tg" + std::to_string(n) + "_b" + std::to_string(batch) + depthSuffix;
    if (config.session.device != "cpu")
        return Status(StatusCode::Unsupported,
                      "bench: " + name + ": batched decode runs on the cpu device only");
    BatchOptions bo;
    bo.maxSequences = batch;
    bo.pageSize = 64;
    bo.maxSeqLen = (int(start.size()) + n + 1 + 63) / 64 * 64; // whole pages per sequence
    bo.nThreads = config.session.nThreads;
    bo.expertPolicy = config.session.expertPolicy;
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<BatchSession> bs, BatchSession::create(model, bo));
    return runPoint(name, "tok/s", [&](bool) -> Result<double> {
        std::vector<SequenceStep> steps;
        for (int b = 0; b < batch; ++b) {
            MOE_ASSIGN_OR_RETURN(int seq, bs->addSequence());
            steps.push_back({.sequence = seq, .tokens = start});
        }
        MOE_ASSIGN_OR_RETURN(std::vector<std::vector<float>> logits, bs->step(steps));
        const auto t0 = Clock::now();
        for (int i = 0; i < n; ++i) {
            for (size_t b = 0; b < steps.size(); ++b)
                steps[b].tokens = {argmax(logits[b])};
            MOE_ASSIGN_OR_RETURN(logits, bs->step(steps));
        }
        const double elapsed = seconds(Clock::now() - t0);
        for (const SequenceStep& st : steps)
            MOE_TRY(bs->removeSequence(st.sequence));
        return double(n) * double(batch) / std::max(1e-9, elapsed);
    });
}

} // namespace

Result<BenchReport> runSpeedBench(std::shared_ptr<const Model> model, const BenchConfig& config,
                                  const BenchProgress& progress) {
    if (config.repetitions < 1)
        return Status(StatusCode::InvalidArgument, "bench: repetitions must be >= 1");
    BenchReport report;
    report.modelPath = model->info().path;
    report.modelName = model->spec().name;
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<Session> session, Session::create(model, config.session));
    report.device = session->device(); // resolved: "auto" -> "cuda:0", "cuda" -> "cuda:0"
    report.threads = config.session.nThreads;
    if (!model->hasTokenizer())
        return Status(StatusCode::InvalidArgument,
                      report.modelPath + ": bench needs the model's tokenizer");
    const Tokenizer& tok = model->tokenizer();

    auto runPoint = [&](const std::string& name, const std::string& unit,
                        const std::function<Result<double>(bool measured)>& once) -> Status {
        BenchPoint point;
        point.name = name;
        point.unit = unit;
        const int total = config.warmup + config.repetitions;
        for (int rep = 0; rep < total; ++rep) {
            if (progress && !progress(name, rep, total))
                return Status(StatusCode::Cancelled, "bench cancelled");
            MOE_ASSIGN_OR_RETURN(double value, once(rep >= config.warmup));
            if (rep >= config.warmup) point.samples.push_back(value);
        }
        summarize(point);
        report.points.push_back(std::move(point));
        return Status::ok();
    };

    for (int n : config.promptTokens) {
        if (n < 1 || n > session->contextSize())
            return Status(StatusCode::InvalidArgument, "bench: pp" + std::to_string(n) +
                                                           " does not fit the context size " +
                                                           std::to_string(session->contextSize()));
        const std::vector<int32_t> ids = promptIds(tok, n, config.seed);
        MOE_TRY(runPoint("pp" + std::to_string(n), "tok/s", [&](bool) -> Result<double> {
            session->reset();
            const auto t0 = Clock::now();
            MOE_TRY(session->evaluate(ids, true).status());
            return double(n) / std::max(1e-9, seconds(Clock::now() - t0));
        }));
        // Time to first token for a chat request of this prompt length: prefill + one sample.
        MOE_TRY(runPoint("ttft" + std::to_string(n), "ms", [&](bool) -> Result<double> {
            session->reset();
            SamplingParams sp;
            sp.maxTokens = 1;
            sp.seed = config.seed;
            MOE_ASSIGN_OR_RETURN(GenerationStats st, session->generate(ids, sp, {}));
            return st.ttftMs;
        }));
    }
    for (int depth : config.depths) {
        for (int n : config.genTokens) {
            const std::vector<int32_t> start = promptIds(tok, 8 + depth, config.seed);
            const std::string depthSuffix = depth > 0 ? "_d" + std::to_string(depth) : "";
            if (int(start.size()) + n > session->contextSize())
                return Status(StatusCode::InvalidArgument,
                              "bench: tg" + std::to_string(n) + depthSuffix +
                                  " does not fit the context size " +
                                  std::to_string(session->contextSize()));
            for (int batch : config.batchSizes) {
                if (batch < 1)
                    return Status(StatusCode::InvalidArgument, "bench: batch sizes must be >= 1");
                if (batch > 1) {
                    MOE_TRY(batchPoint(model, config, start, n, batch, depthSuffix, runPoint));
                    continue;
                }
                BenchPoint itl;
                itl.name = "itl" + std::to_string(n) + depthSuffix;
                itl.unit = "ms";
                MOE_TRY(runPoint("tg" + std::to_string(n) + depthSuffix, "tok/s",
                                 [&](bool measured) -> Result<double> {
                                     session->reset();
                                     MOE_ASSIGN_OR_RETURN(std::vector<float> l,
                                                          session->evaluate(start, true));
                                     const auto t0 = Clock::now();
                                     auto last = t0;
                                     for (int i = 0; i < n; ++i) {
                                         const int32_t next[1] = {argmax(l)};
                                         MOE_ASSIGN_OR_RETURN(l, session->evaluate(next, true));
                                         const auto now = Clock::now();
                                         if (measured)
                                             itl.samples.push_back(1000.0 * seconds(now - last));
                                         last = now;
                                     }
                                     return double(n) / std::max(1e-9, seconds(Clock::now() - t0));
                                 }));
                summarize(itl);
                report.points.push_back(std::move(itl));
            }
        }
    }
    struct rusage ru {};
    if (getrusage(RUSAGE_SELF, &ru) == 0) report.peakResidentBytes = uint64_t(ru.ru_maxrss) * 1024;
    return report;
}

} // namespace moe
