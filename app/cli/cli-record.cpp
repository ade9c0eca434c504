// CLI project recording helpers.
#include "cli-record.h"

#include <nlohmann/json.hpp>

#include <filesystem>

moe::Result<int64_t> recordModel(moe::projects::ProjectStore& store, const moe::Model& model) {
    const moe::ModelInfo& info = model.info();
    std::error_code ec;
    std::string abs = std::filesystem::absolute(info.path, ec).lexically_normal().string();
    if (ec) abs = info.path;
    MOE_ASSIGN_OR_RETURN(std::string hash, moe::projects::fileFingerprint(abs));
    moe::projects::ModelRecord r;
    r.path = abs;
    r.name = info.spec.name;
    r.contentHash = hash;
    r.format = info.format;
    r.architecture = info.spec.architecture;
    r.family = info.spec.family;
    r.fileBytes = int64_t(info.fileBytes);
    r.parameterCount = int64_t(info.parameterCount);
    return store.addModel(r);
}

std::string samplingJson(const moe::SamplingParams& p) {
    nlohmann::json j = {{"temperature", p.temperature}, {"top_k", p.topK}, {"top_p", p.topP},
                        {"max_tokens", p.maxTokens},    {"seed", p.seed}};
    return j.dump();
}
