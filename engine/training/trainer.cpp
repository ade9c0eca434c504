// TrainingRun: creation (data, ESFT selection, binding) and the optimization loop — micro-batches
// with gradient accumulation, global-norm clipping, AdamW (ops::adamwStep, torch's arithmetic),
// warmup + constant/linear/cosine schedules as transformers' get_*_schedule_with_warmup, periodic
// evaluation and checkpoints. See moe/training.h for the state machine.
#include "training/trainer-impl.h"

#include "models/model-impl.h"
#include "ops/ops-backward.h"

#include <chrono>
#include <cmath>
#include <numbers>
#include <sstream>

namespace moe {

TrainingRun::TrainingRun(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
TrainingRun::~TrainingRun() = default;

Result<std::unique_ptr<TrainingRun>> TrainingRun::create(std::shared_ptr<const Model> model,
                                                         const TrainingConfig& config) {
    if (!model->hasTokenizer())
        return Status(StatusCode::InvalidArgument,
                      model->info().path + ": training needs the model's tokenizer");
    auto impl = std::make_unique<Impl>();
    Impl& r = *impl;
    r.config = config;
    r.model = model;
    r.pool = std::make_unique<ThreadPool>(config.threads);
    DatasetOptions d;
    MOE_ASSIGN_OR_RETURN(d.format, parseDatasetFormat(config.datasetFormat));
    d.maxSeqLen = config.maxSeqLen;
    d.assistantOnlyLoss = config.assistantOnlyLoss;
    d.validationFraction = config.validationFraction;
    d.validationPath = config.validationPath;
    d.seed = config.seed;
    const ChatTemplate* tmpl = model->impl().chatTemplate ? &*model->impl().chatTemplate : nullptr;
    MOE_ASSIGN_OR_RETURN(r.data, loadDataset(config.datasetPath, model->tokenizer(), tmpl, d));
    if (r.data.train.empty())
        return Status(StatusCode::InvalidArgument,
                      config.datasetPath + ": no training example has a token to learn");

    train::TrainTargets& t = r.targets;
    t.seed = config.seed;
    switch (config.method) {
    case TrainingMethod::Lora:
        t.loraRank = config.loraRank;
        t.loraAlpha = config.loraAlpha;
        t.loraDropout = config.loraDropout;
        t.rsLora = config.rsLora;
        t.loraModules = config.targetModules;
        break;
    case TrainingMethod::Esft:
        if (!config.esftExperts.empty()) {
            t.esftExperts = config.esftExperts;
        } else {
            MOE_ASSIGN_OR_RETURN(t.esftExperts, selectEsftExperts(model, r.data.train, config));
        }
        if (t.esftExperts.empty())
            return Status(StatusCode::InvalidArgument,
                          model->info().path + ": ESFT found no expert to train");
        break;
    case TrainingMethod::Full:
        t.full = true;
        t.freezeRouter = config.freezeRouter;
        break;
    }
    MOE_ASSIGN_OR_RETURN(r.tm, train::TrainModel::bind(model->impl(), t));
    for (train::Param* p : r.tm->params()) {
        r.m1.emplace_back(p->value.size(), 0.0f);
        r.m2.emplace_back(p->value.size(), 0.0f);
    }
    const size_t nBatches =
        makeBatches(r.data.train, config.batchTokens, config.packing, config.seed, true).size();
    r.stepsPerEpoch = int((nBatches + size_t(config.gradientAccumulation) - 1) /
                          size_t(config.gradientAccumulation));
    r.totalSteps = r.stepsPerEpoch * config.epochs;
    if (config.maxSteps > 0) r.totalSteps = std::min(r.totalSteps, config.maxSteps);
    return std::unique_ptr<TrainingRun>(new TrainingRun(std::move(impl)));
}

std::vector<std::vector<int>> TrainingRun::Impl::microBatches(int s) const {
    const int epoch = s / stepsPerEpoch, within = s % stepsPerEpoch;
    const auto batches = makeBatches(data.train, config.batchTokens, config.packing,
                                     config.seed + uint64_t(epoch), true);
    std::vector<std::vector<int>> out;
    for (int i = 0; i < config.gradientAccumulation; ++i) {
        const size_t b = size_t(within) * size_t(config.gradientAccumulation) + size_t(i);
        if (b < batches.size()) out.push_back(batches[b]);
    }
    return out;
}

double TrainingRun::Impl::learningRate(int s) const {
    const double base = config.learningRate;
    const int w = config.warmupSteps, T = totalSteps;
    if (s < w) return base * double(s) / double(std::max(1, w));
    if (config.schedule == "constant") return base;
    const double progress = double(s - w) / double(std::max(1, T - w));
    if (config.schedule == "linear") return base * std::max(0.0, 1.0 - progress);
    return base * std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
}

namespace {

std::vector<train::TrainSequence> sequencesOf(const std::vector<TrainingExample>& ex,
                                              const std::vector<int>& idx) {
    std::vector<train::TrainSequence> seqs;
    for (int i : idx)
        seqs.push_back({ex[size_t(i)].tokens, ex[size_t(i)].labels});
    return seqs;
}

int64_t countedTargets(const std::vector<TrainingExample>& ex, const std::vector<int>& idx) {
    int64_t n = 0;
    for (int i : idx) {
        const auto& l = ex[size_t(i)].labels;
        for (size_t t = 1; t < l.size(); ++t)
            n += l[t] != kDatasetIgnoreLabel;
    }
    return n;
}

} // namespace

Result<double> TrainingRun::Impl::meanLoss(const std::vector<TrainingExample>& examples) {
    train::TrainContext ctx;
    ctx.pool = pool.get();
    ctx.training = false;
    double sum = 0;
    int64_t counted = 0;
    for (const auto& b :
         makeBatches(examples, config.batchTokens, config.packing, config.seed, false)) {
        const auto seqs = sequencesOf(examples, b);
        MOE_ASSIGN_OR_RETURN(train::LossResult r, tm->step(seqs, 0, false, false, ctx));
        sum += r.lossSum;
        counted += r.counted;
    }
    if (counted == 0) return Status(StatusCode::InvalidArgument, "evaluation: no counted tokens");
    return sum / double(counted);
}

Result<double> TrainingRun::evaluate(bool validation) {
    return m_impl->meanLoss(validation && !m_impl->data.validation.empty() ? m_impl->data.validation
                                                                           : m_impl->data.train);
}

Status TrainingRun::run(const std::function<bool(const TrainingProgress&)>& progress) {
    Impl& r = *m_impl;
    const TrainingConfig& c = r.config;
    const auto t0 = std::chrono::steady_clock::now();
    int64_t tokensSeen = 0;
    const int firstStep = r.step;
    std::vector<train::Param*> params = r.tm->params();
    while (r.step < r.totalSteps) {
        const int s = r.step;
        for (train::Param* p : params)
            p->zeroGrad();
        const auto micro = r.microBatches(s);
        int64_t divisor = 0;
        for (const auto& b : micro)
            divisor += countedTargets(r.data.train, b);
        double lossSum = 0;
        train::TrainContext ctx;
        ctx.pool = r.pool.get();
        ctx.seed = c.seed;
        ctx.step = uint64_t(s);
        for (size_t i = 0; i < micro.size(); ++i) {
            ctx.step = uint64_t(s) * 1024 + i; // distinct dropout masks per micro-batch
            const auto seqs = sequencesOf(r.data.train, micro[i]);
            MOE_ASSIGN_OR_RETURN(train::LossResult lr,
                                 r.tm->step(seqs, std::max<int64_t>(divisor, 1), true,
                                            c.activationCheckpointing, ctx));
            lossSum += lr.lossSum;
        }
        std::vector<std::span<float>> grads;
        for (train::Param* p : params)
            grads.emplace_back(p->grad);
        const float gradNorm = ops::clipGradNorm(grads, float(c.maxGradNorm));
        if (!std::isfinite(gradNorm))
            return Status(StatusCode::Internal,
                          "training diverged at step " + std::to_string(s + 1) +
                              ": the gradient norm is not finite (lower the learning rate)");
        ops::AdamWParams ap;
        ap.lr = r.learningRate(s);
        ap.beta1 = c.beta1;
        ap.beta2 = c.beta2;
        ap.eps = c.adamEps;
        ap.weightDecay = c.weightDecay;
        for (size_t i = 0; i < params.size(); ++i)
            ops::adamwStep(params[i]->value.data(), params[i]->grad.data(), r.m1[i].data(),
                           r.m2[i].data(), params[i]->size(), s + 1, ap);
        r.step = s + 1;
        tokensSeen += divisor;

        TrainingProgress p;
        p.step = r.step;
        p.totalSteps = r.totalSteps;
        p.epoch = s / r.stepsPerEpoch;
        p.loss = divisor > 0 ? lossSum / double(divisor) : 0.0;
        p.learningRate = ap.lr;
        p.gradNorm = gradNorm;
        const double elapsed =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        p.tokensSeen = tokensSeen;
        p.tokensPerSecond = elapsed > 0 ? double(tokensSeen) / elapsed : 0;
        p.etaSeconds = elapsed / double(r.step - firstStep) * double(r.totalSteps - r.step);
        const bool last = r.step == r.totalSteps;
        if ((c.evalEvery > 0 && r.step % c.evalEvery == 0) ||
            (last && !r.data.validation.empty())) {
            MOE_ASSIGN_OR_RETURN(r.lastEvalLoss, evaluate(true));
            p.evaluated = true;
        }
        p.evalLoss = r.lastEvalLoss;
        if (!c.outputDir.empty() && c.checkpointEvery > 0 && r.step % c.checkpointEvery == 0)
            MOE_TRY(saveCheckpoint(c.outputDir + "/checkpoints/step-" + std::to_string(r.step)));
        if (progress && !progress(p)) {
            if (!c.outputDir.empty())
                MOE_TRY(
                    saveCheckpoint(c.outputDir + "/checkpoints/step-" + std::to_string(r.step)));
            return Status(StatusCode::Cancelled,
                          "training cancelled at step " + std::to_string(r.step));
        }
    }
    if (!c.outputDir.empty()) MOE_TRY(saveResult(c.outputDir));
    return Status::ok();
}

const TrainingConfig& TrainingRun::config() const {
    return m_impl->config;
}
int64_t TrainingRun::trainableParameters() const {
    return m_impl->tm->trainableCount();
}
int TrainingRun::totalSteps() const {
    return m_impl->totalSteps;
}
int TrainingRun::step() const {
    return m_impl->step;
}
const DatasetStats& TrainingRun::trainStats() const {
    return m_impl->data.trainStats;
}
const DatasetStats& TrainingRun::validationStats() const {
    return m_impl->data.validationStats;
}
const std::map<int, std::vector<int>>& TrainingRun::esftExperts() const {
    return m_impl->targets.esftExperts;
}

std::string TrainingRun::summary() const {
    const Impl& r = *m_impl;
    const double total = double(r.model->info().parameterCount);
    std::ostringstream o;
    o.precision(4);
    o << trainingMethodName(r.config.method) << ": " << r.tm->trainableCount()
      << " trainable parameters (" << 100.0 * double(r.tm->trainableCount()) / std::max(total, 1.0)
      << "% of " << uint64_t(total) << ")";
    if (r.config.method == TrainingMethod::Lora) {
        o << ", rank " << r.config.loraRank << ", alpha " << r.config.loraAlpha << ", modules";
        for (const auto& m : r.config.targetModules)
            o << ' ' << m;
    }
    if (r.config.method == TrainingMethod::Esft) {
        size_t n = 0;
        for (const auto& [il, e] : r.targets.esftExperts)
            n += e.size();
        o << ", " << n << " experts in " << r.targets.esftExperts.size() << " layers";
    }
    o << "; data: " << r.data.trainStats.examples << " examples, "
      << r.data.trainStats.trainedTokens << " trained tokens (validation "
      << r.data.validationStats.examples << " examples); " << r.totalSteps << " steps";
    return o.str();
}

} // namespace moe
