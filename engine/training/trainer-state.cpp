// TrainingRun's files: checkpoints (parameters, AdamW moments, step; written to a temporary
// folder and renamed, so a kill at any moment leaves the previous checkpoint whole), resume, the
// run's result (a PEFT adapter, or the trained tensors), and adapterGradients for the `grads` CLI.
#include "training/peft-adapter.h"
#include "training/trainer-impl.h"

#include "formats/safetensors/safetensors-file.h"
#include "models/model-impl.h"

#include <nlohmann/json.hpp>

#include <deque>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace moe {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status writeJson(const std::string& path, const json& j) {
    std::ofstream out(path, std::ios::trunc);
    out << j.dump(2) << "\n";
    out.flush();
    return out ? Status::ok() : Status(StatusCode::IoError, path + ": cannot write (disk full?)");
}

} // namespace

Status TrainingRun::saveCheckpoint(const std::string& dir) const {
    const Impl& r = *m_impl;
    const std::string tmp = dir + ".tmp";
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::create_directories(tmp, ec);
    if (ec) return Status(StatusCode::IoError, tmp + ": cannot create: " + ec.message());
    std::vector<std::pair<std::string, const train::Param*>> values, moments;
    std::vector<const std::vector<float>*> momentValues;
    const auto params = r.tm->params();
    for (size_t i = 0; i < params.size(); ++i) {
        values.emplace_back(params[i]->name, params[i]);
        moments.emplace_back("exp_avg." + params[i]->name, params[i]);
        momentValues.push_back(&r.m1[i]);
        moments.emplace_back("exp_avg_sq." + params[i]->name, params[i]);
        momentValues.push_back(&r.m2[i]);
    }
    MOE_TRY(train::writeF32Tensors(tmp + "/params.safetensors", values));
    MOE_TRY(train::writeF32Tensors(tmp + "/optimizer.safetensors", moments, momentValues));
    json state;
    state["step"] = r.step;
    state["total_steps"] = r.totalSteps;
    state["eval_loss"] = r.lastEvalLoss;
    state["config"] = json::parse(trainingConfigJson(r.config));
    MOE_TRY(writeJson(tmp + "/trainer_state.json", state));
    fs::remove_all(dir, ec);
    fs::rename(tmp, dir, ec);
    if (ec)
        return Status(StatusCode::IoError,
                      dir + ": cannot move the checkpoint into place: " + ec.message());
    return Status::ok();
}

Status TrainingRun::resume(const std::string& dir) {
    Impl& r = *m_impl;
    std::ifstream in(dir + "/trainer_state.json");
    if (!in)
        return Status(StatusCode::NotFound,
                      dir + "/trainer_state.json: cannot open (not a checkpoint folder?)");
    std::stringstream ss;
    ss << in.rdbuf();
    int step = 0;
    try {
        const json state = json::parse(ss.str());
        step = state.at("step").get<int>();
        r.lastEvalLoss = state.value("eval_loss", -1.0);
        const std::string method = state.at("config").at("method").get<std::string>();
        if (method != trainingMethodName(r.config.method))
            return Status(StatusCode::InvalidArgument, dir + ": the checkpoint is of a " + method +
                                                           " run, this run is " +
                                                           trainingMethodName(r.config.method));
    } catch (const json::exception& e) {
        return Status(StatusCode::CorruptFile, dir + "/trainer_state.json: " + e.what());
    }
    if (step < 0 || step > r.totalSteps)
        return Status(StatusCode::InvalidArgument, dir + ": step " + std::to_string(step) +
                                                       " is outside this run (" +
                                                       std::to_string(r.totalSteps) + " steps)");
    MOE_ASSIGN_OR_RETURN(st::SafetensorsFile values,
                         st::SafetensorsFile::open(dir + "/params.safetensors"));
    MOE_ASSIGN_OR_RETURN(st::SafetensorsFile moments,
                         st::SafetensorsFile::open(dir + "/optimizer.safetensors"));
    auto read = [&](const st::SafetensorsFile& f, const std::string& name,
                    std::vector<float>& out) -> Status {
        const st::Tensor* t = f.tensor(name);
        if (!t)
            return Status(StatusCode::CorruptFile, f.path() + ": tensor '" + name + "' is missing");
        const size_t want = out.size();
        MOE_TRY(st::toF32(*t, f.path(), out));
        if (out.size() != want)
            return Status(StatusCode::CorruptFile,
                          f.path() + ": tensor '" + name + "' has the wrong size for this run");
        return Status::ok();
    };
    const auto params = r.tm->params();
    for (size_t i = 0; i < params.size(); ++i) {
        MOE_TRY(read(values, params[i]->name, params[i]->value));
        MOE_TRY(read(moments, "exp_avg." + params[i]->name, r.m1[i]));
        MOE_TRY(read(moments, "exp_avg_sq." + params[i]->name, r.m2[i]));
    }
    r.step = step;
    return Status::ok();
}

Status TrainingRun::saveResult(const std::string& dir) const {
    const Impl& r = *m_impl;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return Status(StatusCode::IoError, dir + ": cannot create: " + ec.message());
    {
        std::ofstream out(dir + "/config.json", std::ios::trunc);
        out << trainingConfigJson(r.config) << "\n";
        if (!out) return Status(StatusCode::IoError, dir + "/config.json: cannot write");
    }
    if (r.config.method == TrainingMethod::Lora)
        return train::savePeftAdapter(dir + "/adapter", r.tm->spec(), r.targets, r.tm->params(),
                                      r.model->info().path);
    fs::create_directories(dir + "/weights", ec);
    // Hugging Face names and row order (GGUF llama files permute q/k rows; peft-adapter.h).
    std::vector<std::pair<std::string, const train::Param*>> tensors;
    std::deque<std::vector<float>> reordered;
    std::vector<const std::vector<float>*> values;
    for (const train::Param* p : r.tm->params()) {
        tensors.emplace_back(p->name, p);
        reordered.push_back(p->value);
        train::reorderRopeRows(r.tm->spec(), p->name, reordered.back(), true);
        values.push_back(&reordered.back());
    }
    MOE_TRY(train::writeF32Tensors(dir + "/weights/model.safetensors", tensors, values));
    if (r.config.method == TrainingMethod::Esft) {
        json e = json::object();
        for (const auto& [il, experts] : r.targets.esftExperts)
            e[std::to_string(il)] = experts;
        MOE_TRY(writeJson(dir + "/weights/esft_experts.json",
                          json{{"experts", e},
                               {"score", r.config.esftScore},
                               {"threshold", r.config.esftThreshold}}));
    }
    return Status::ok();
}

Result<AdapterGradients> adapterGradients(std::shared_ptr<const Model> model,
                                          const std::string& adapterDir,
                                          const std::vector<int32_t>& tokens,
                                          const std::vector<int32_t>& labels, int batch,
                                          int seqLen) {
    if (batch <= 0 || seqLen <= 0 || tokens.size() != size_t(batch) * size_t(seqLen) ||
        labels.size() != tokens.size())
        return Status(StatusCode::InvalidArgument, "tokens and labels must both be [" +
                                                       std::to_string(batch) + ", " +
                                                       std::to_string(seqLen) + "]");
    MOE_ASSIGN_OR_RETURN(train::PeftAdapter adapter, train::loadPeftAdapter(adapterDir));
    adapter.targets.loraDropout = 0; // gradients of the deterministic function (PEFT in eval mode)
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<train::TrainModel> tm,
                         train::TrainModel::bind(model->impl(), adapter.targets));
    MOE_TRY(train::applyPeftAdapter(*tm, adapter, adapterDir));
    std::vector<train::TrainSequence> seqs;
    for (int b = 0; b < batch; ++b)
        seqs.push_back({std::span(tokens).subspan(size_t(b) * size_t(seqLen), size_t(seqLen)),
                        std::span(labels).subspan(size_t(b) * size_t(seqLen), size_t(seqLen))});
    ThreadPool pool(0);
    train::TrainContext ctx;
    ctx.pool = &pool;
    ctx.training = false;
    MOE_ASSIGN_OR_RETURN(train::LossResult r, tm->step(seqs, 0, true, false, ctx));
    AdapterGradients out;
    out.counted = r.counted;
    out.loss = r.counted > 0 ? r.lossSum / double(r.counted) : 0.0;
    for (const train::Param* p : tm->params()) {
        std::vector<float> grad = p->grad;
        train::reorderRopeRows(tm->spec(), p->name, grad, true);
        out.gradients[train::kPeftPrefix + p->name] = std::move(grad);
        out.shapes[train::kPeftPrefix + p->name] = p->shape;
    }
    return out;
}

} // namespace moe

namespace moe {

Status saveAdapterGradients(const AdapterGradients& g, const std::string& path) {
    std::deque<train::Param> holders;
    std::vector<std::pair<std::string, const train::Param*>> tensors;
    for (const auto& [name, values] : g.gradients) {
        train::Param& p = holders.emplace_back();
        p.shape = g.shapes.at(name);
        p.value = values;
        tensors.emplace_back(name, &p);
    }
    return train::writeF32Tensors(path, tensors);
}

} // namespace moe
