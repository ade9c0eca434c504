// TrainingConfig <-> JSON (moe/training.h). Every field is optional and keeps its default;
// unknown fields and wrong types are errors naming the field, so a typo never trains silently.
#include "moe/training.h"

#include <nlohmann/json.hpp>

namespace moe {

const char* trainingMethodName(TrainingMethod m) {
    switch (m) {
    case TrainingMethod::Lora:
        return "lora";
    case TrainingMethod::Esft:
        return "esft";
    case TrainingMethod::Full:
        return "full";
    }
    return "?";
}

namespace {

using nlohmann::json;

struct Reader {
    const json& j;
    const std::string& origin;
    Status error(const std::string& field, const std::string& want) const {
        return Status(StatusCode::InvalidArgument,
                      origin + ": field '" + field + "' must be " + want);
    }
    template <class T> Status get(const char* field, T& out, const char* want) const {
        auto it = j.find(field);
        if (it == j.end()) return Status::ok();
        try {
            out = it->template get<T>();
        } catch (const json::exception&) {
            return error(field, want);
        }
        return Status::ok();
    }
};

} // namespace

Result<TrainingConfig> parseTrainingConfig(const std::string& text, const std::string& origin) {
    json j;
    try {
        j = json::parse(text);
    } catch (const json::parse_error& e) {
        return Status(StatusCode::InvalidArgument, origin + ": not valid JSON: " + e.what());
    }
    if (!j.is_object())
        return Status(StatusCode::InvalidArgument, origin + ": a training config is a JSON object");
    static const char* const kKnown[] = {"method",
                                         "dataset",
                                         "validation_dataset",
                                         "dataset_format",
                                         "validation_fraction",
                                         "max_seq_len",
                                         "assistant_only_loss",
                                         "packing",
                                         "batch_tokens",
                                         "gradient_accumulation",
                                         "lora_rank",
                                         "lora_alpha",
                                         "lora_dropout",
                                         "rslora",
                                         "target_modules",
                                         "freeze_router",
                                         "esft_score",
                                         "esft_threshold",
                                         "esft_experts",
                                         "learning_rate",
                                         "weight_decay",
                                         "beta1",
                                         "beta2",
                                         "adam_eps",
                                         "max_grad_norm",
                                         "schedule",
                                         "warmup_steps",
                                         "epochs",
                                         "max_steps",
                                         "activation_checkpointing",
                                         "seed",
                                         "threads",
                                         "eval_every",
                                         "checkpoint_every",
                                         "output_dir"};
    for (auto it = j.begin(); it != j.end(); ++it)
        if (std::find(std::begin(kKnown), std::end(kKnown), it.key()) == std::end(kKnown))
            return Status(StatusCode::InvalidArgument,
                          origin + ": unknown field '" + it.key() + "'");
    TrainingConfig c;
    Reader r{j, origin};
    std::string method = trainingMethodName(c.method);
    MOE_TRY(r.get("method", method, "\"lora\", \"esft\" or \"full\""));
    if (method == "lora")
        c.method = TrainingMethod::Lora;
    else if (method == "esft")
        c.method = TrainingMethod::Esft;
    else if (method == "full")
        c.method = TrainingMethod::Full;
    else
        return r.error("method", "\"lora\", \"esft\" or \"full\" (got \"" + method + "\")");
    MOE_TRY(r.get("dataset", c.datasetPath, "a path"));
    MOE_TRY(r.get("validation_dataset", c.validationPath, "a path"));
    MOE_TRY(r.get("dataset_format", c.datasetFormat, "a format name"));
    MOE_TRY(r.get("validation_fraction", c.validationFraction, "a number in [0, 1)"));
    MOE_TRY(r.get("max_seq_len", c.maxSeqLen, "an integer"));
    MOE_TRY(r.get("assistant_only_loss", c.assistantOnlyLoss, "true or false"));
    MOE_TRY(r.get("packing", c.packing, "true or false"));
    MOE_TRY(r.get("batch_tokens", c.batchTokens, "an integer"));
    MOE_TRY(r.get("gradient_accumulation", c.gradientAccumulation, "an integer"));
    MOE_TRY(r.get("lora_rank", c.loraRank, "an integer"));
    MOE_TRY(r.get("lora_alpha", c.loraAlpha, "a number"));
    MOE_TRY(r.get("lora_dropout", c.loraDropout, "a number in [0, 1)"));
    MOE_TRY(r.get("rslora", c.rsLora, "true or false"));
    if (j.contains("target_modules") && j["target_modules"].is_string())
        c.targetModules = {j["target_modules"].get<std::string>()};
    else
        MOE_TRY(
            r.get("target_modules", c.targetModules, "a list of module names or \"all-linear\""));
    MOE_TRY(r.get("freeze_router", c.freezeRouter, "true or false"));
    MOE_TRY(r.get("esft_score", c.esftScore, "\"gate\" or \"token\""));
    MOE_TRY(r.get("esft_threshold", c.esftThreshold, "a number in (0, 1]"));
    if (j.contains("esft_experts")) {
        const json& e = j["esft_experts"];
        if (!e.is_object()) return r.error("esft_experts", "an object {\"layer\": [experts]}");
        for (auto it = e.begin(); it != e.end(); ++it) {
            int layer = 0;
            try {
                layer = std::stoi(it.key());
                c.esftExperts[layer] = it.value().get<std::vector<int>>();
            } catch (...) {
                return r.error("esft_experts",
                               "an object {\"layer\": [experts]} (at key '" + it.key() + "')");
            }
        }
    }
    MOE_TRY(r.get("learning_rate", c.learningRate, "a number"));
    MOE_TRY(r.get("weight_decay", c.weightDecay, "a number"));
    MOE_TRY(r.get("beta1", c.beta1, "a number"));
    MOE_TRY(r.get("beta2", c.beta2, "a number"));
    MOE_TRY(r.get("adam_eps", c.adamEps, "a number"));
    MOE_TRY(r.get("max_grad_norm", c.maxGradNorm, "a number"));
    MOE_TRY(r.get("schedule", c.schedule, "\"constant\", \"linear\" or \"cosine\""));
    MOE_TRY(r.get("warmup_steps", c.warmupSteps, "an integer"));
    MOE_TRY(r.get("epochs", c.epochs, "an integer"));
    MOE_TRY(r.get("max_steps", c.maxSteps, "an integer"));
    MOE_TRY(r.get("activation_checkpointing", c.activationCheckpointing, "true or false"));
    MOE_TRY(r.get("seed", c.seed, "an integer"));
    MOE_TRY(r.get("threads", c.threads, "an integer"));
    MOE_TRY(r.get("eval_every", c.evalEvery, "an integer"));
    MOE_TRY(r.get("checkpoint_every", c.checkpointEvery, "an integer"));
    MOE_TRY(r.get("output_dir", c.outputDir, "a path"));
    if (c.schedule != "constant" && c.schedule != "linear" && c.schedule != "cosine")
        return r.error("schedule",
                       "\"constant\", \"linear\" or \"cosine\" (got \"" + c.schedule + "\")");
    if (c.esftScore != "gate" && c.esftScore != "token")
        return r.error("esft_score", "\"gate\" or \"token\"");
    if (c.maxSeqLen < 2) return r.error("max_seq_len", "at least 2");
    if (c.batchTokens < c.maxSeqLen) return r.error("batch_tokens", "at least max_seq_len");
    if (c.gradientAccumulation < 1) return r.error("gradient_accumulation", "at least 1");
    if (c.loraRank < 1) return r.error("lora_rank", "at least 1");
    if (c.loraDropout < 0 || c.loraDropout >= 1) return r.error("lora_dropout", "in [0, 1)");
    if (c.validationFraction < 0 || c.validationFraction >= 1)
        return r.error("validation_fraction", "in [0, 1)");
    if (c.esftThreshold <= 0 || c.esftThreshold > 1) return r.error("esft_threshold", "in (0, 1]");
    if (c.learningRate <= 0) return r.error("learning_rate", "positive");
    if (c.epochs < 1) return r.error("epochs", "at least 1");
    if (c.targetModules.empty()) return r.error("target_modules", "a non-empty list");
    return c;
}

std::string trainingConfigJson(const TrainingConfig& c) {
    json j;
    j["method"] = trainingMethodName(c.method);
    j["dataset"] = c.datasetPath;
    j["validation_dataset"] = c.validationPath;
    j["dataset_format"] = c.datasetFormat;
    j["validation_fraction"] = c.validationFraction;
    j["max_seq_len"] = c.maxSeqLen;
    j["assistant_only_loss"] = c.assistantOnlyLoss;
    j["packing"] = c.packing;
    j["batch_tokens"] = c.batchTokens;
    j["gradient_accumulation"] = c.gradientAccumulation;
    j["lora_rank"] = c.loraRank;
    j["lora_alpha"] = c.loraAlpha;
    j["lora_dropout"] = c.loraDropout;
    j["rslora"] = c.rsLora;
    j["target_modules"] = c.targetModules;
    j["freeze_router"] = c.freezeRouter;
    j["esft_score"] = c.esftScore;
    j["esft_threshold"] = c.esftThreshold;
    json e = json::object();
    for (const auto& [layer, experts] : c.esftExperts)
        e[std::to_string(layer)] = experts;
    j["esft_experts"] = e;
    j["learning_rate"] = c.learningRate;
    j["weight_decay"] = c.weightDecay;
    j["beta1"] = c.beta1;
    j["beta2"] = c.beta2;
    j["adam_eps"] = c.adamEps;
    j["max_grad_norm"] = c.maxGradNorm;
    j["schedule"] = c.schedule;
    j["warmup_steps"] = c.warmupSteps;
    j["epochs"] = c.epochs;
    j["max_steps"] = c.maxSteps;
    j["activation_checkpointing"] = c.activationCheckpointing;
    j["seed"] = c.seed;
    j["threads"] = c.threads;
    j["eval_every"] = c.evalEvery;
    j["checkpoint_every"] = c.checkpointEvery;
    j["output_dir"] = c.outputDir;
    return j.dump(2);
}

} // namespace moe
