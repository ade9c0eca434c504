// Expert configuration files (moe/expert-profiles.h): model_config.json's expert_activation
// block and profile files, read with nlohmann/json into an ExpertPolicy and named bias vectors.
// Reading is strict (unknown keys, wrong types and out-of-range indices are errors naming the
// file and the dotted key path) so a typo never silently leaves the routing unchanged.
#include "moe/expert-profiles.h"

#include "models/decoder.h"
#include "models/ffn.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace moe {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

Status keyError(const std::string& file, const std::string& key, const std::string& what) {
    return Status(StatusCode::InvalidArgument, file + ": " + key + ": " + what);
}

std::string typeName(const json& v) {
    return v.type_name();
}

Result<json> readJson(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status(StatusCode::NotFound, file + ": cannot open the file");
    std::stringstream ss;
    ss << in.rdbuf();
    try {
        return json::parse(ss.str());
    } catch (const json::parse_error& e) {
        return Status(StatusCode::InvalidArgument,
                      file + ": not JSON (byte " + std::to_string(e.byte) + "): " + e.what());
    }
}

// A non-negative decimal index key ("12"); -1 when the key is not one.
long long indexKey(const std::string& k) {
    if (k.empty() || k.size() > 9) return -1;
    for (char c : k)
        if (c < '0' || c > '9') return -1;
    return std::stoll(k);
}

Result<float> biasValue(const std::string& file, const std::string& key, const json& v) {
    if (!v.is_number())
        return keyError(file, key, "expected a number (a bias), got " + typeName(v));
    const double d = v.get<double>();
    if (!std::isfinite(d) || std::fabs(d) > 1e30)
        return keyError(file, key, "the bias is not a finite float");
    return float(d);
}

// Adds one layer's entry (an {"expert": bias} object or an array of nExpert biases) to row.
Status addLayerBiases(const std::string& file, const std::string& key, const json& v, int nExpert,
                      float* row) {
    if (v.is_array()) {
        if (v.size() != size_t(nExpert))
            return keyError(file, key,
                            "expected " + std::to_string(nExpert) +
                                " biases (one per expert), got " + std::to_string(v.size()));
        for (int e = 0; e < nExpert; ++e) {
            MOE_ASSIGN_OR_RETURN(
                float b, biasValue(file, key + "[" + std::to_string(e) + "]", v[size_t(e)]));
            row[e] += b;
        }
        return Status::ok();
    }
    if (!v.is_object())
        return keyError(file, key,
                        "expected an object {\"expert\": bias} or an array of biases, got " +
                            typeName(v));
    for (const auto& [ek, ev] : v.items()) {
        const long long e = indexKey(ek);
        if (e < 0 || e >= nExpert)
            return keyError(file, key + "." + ek,
                            "expert '" + ek + "' is not an expert index 0.." +
                                std::to_string(nExpert - 1));
        MOE_ASSIGN_OR_RETURN(float b, biasValue(file, key + "." + ek, ev));
        row[e] += b;
    }
    return Status::ok();
}

// A layer map ({"layer": entry, "*": entry}) -> [nLayer * nExpert] biases.
Result<std::vector<float>> parseLayerMap(const std::string& file, const std::string& key,
                                         const json& v, const ModelSpec& spec) {
    if (spec.nExpert <= 0) return keyError(file, key, "the model has no routed experts to bias");
    if (!v.is_object())
        return keyError(file, key,
                        "expected an object of layers {\"layer\": {\"expert\": bias}}, got " +
                            typeName(v));
    const int nExp = spec.nExpert;
    std::vector<float> bias(size_t(spec.nLayer) * size_t(nExp), 0.0f);
    for (const auto& [lk, lv] : v.items()) {
        const std::string lkey = key.empty() ? lk : key + "." + lk;
        if (lk == "*") {
            std::vector<float> row(static_cast<size_t>(nExp), 0.0f);
            MOE_TRY(addLayerBiases(file, lkey, lv, nExp, row.data()));
            for (int il = 0; il < spec.nLayer; ++il)
                if (isMoeLayer(spec, il))
                    for (int e = 0; e < nExp; ++e)
                        bias[size_t(il) * size_t(nExp) + size_t(e)] += row[size_t(e)];
            continue;
        }
        const long long il = indexKey(lk);
        if (il < 0 || il >= spec.nLayer)
            return keyError(file, lkey,
                            "layer '" + lk + "' is not a layer index 0.." +
                                std::to_string(spec.nLayer - 1) + " or \"*\"");
        if (!isMoeLayer(spec, int(il)))
            return keyError(file, lkey,
                            "layer " + lk + " is a dense layer (it has no router to bias)");
        MOE_TRY(addLayerBiases(file, lkey, lv, nExp, bias.data() + size_t(il) * size_t(nExp)));
    }
    return bias;
}

std::string fileStem(const std::string& path) {
    return fs::path(path).stem().string();
}

} // namespace

std::string expertConfigPath(const std::string& modelPath) {
    std::error_code ec;
    const fs::path p(modelPath);
    if (fs::is_directory(p, ec)) return (p / "model_config.json").string();
    const fs::path own = p.parent_path() / (p.stem().string() + ".model_config.json");
    if (fs::exists(own, ec)) return own.string();
    return (p.parent_path() / "model_config.json").string();
}

Result<std::vector<float>> readExpertProfile(const std::string& jsonPath, const ModelSpec& spec) {
    MOE_ASSIGN_OR_RETURN(json doc, readJson(jsonPath));
    return parseLayerMap(jsonPath, "", doc, spec);
}

Result<ExpertConfig> readExpertConfig(const std::string& file, const ModelSpec& spec) {
    MOE_ASSIGN_OR_RETURN(json doc, readJson(file));
    ExpertConfig cfg;
    cfg.path = file;
    if (!doc.is_object())
        return keyError(file, "(top level)", "expected an object, got " + typeName(doc));
    if (!doc.contains("expert_activation")) return cfg; // other settings only
    const json& ea = doc["expert_activation"];
    const std::string base = "expert_activation";
    if (!ea.is_object()) return keyError(file, base, "expected an object, got " + typeName(ea));
    std::string profile;
    for (const auto& [k, v] : ea.items()) {
        const std::string key = base + "." + k;
        if (k == "threshold") {
            if (!v.is_number())
                return keyError(file, key, "expected a number in [0, 1], got " + typeName(v));
            const double t = v.get<double>();
            if (!(t >= 0.0 && t <= 1.0))
                return keyError(file, key, "threshold " + v.dump() + " is outside [0, 1]");
            cfg.defaults.threshold = float(t);
        } else if (k == "max_experts") {
            if (!v.is_number_integer())
                return keyError(file, key,
                                "expected an integer, got " + typeName(v) + " " + v.dump());
            const long long n = v.get<long long>();
            if (n < 0 || n > spec.nExpert)
                return keyError(file, key,
                                "max_experts " + std::to_string(n) + " is outside 0.." +
                                    std::to_string(spec.nExpert) + " (the model's routed experts)");
            cfg.defaults.maxExperts = int(n);
        } else if (k == "profile") {
            if (!v.is_string())
                return keyError(file, key, "expected a profile name, got " + typeName(v));
            profile = v.get<std::string>();
        } else if (k == "domain_weights") {
            if (!v.is_object())
                return keyError(file, key,
                                "expected an object of named profiles, got " + typeName(v));
            for (const auto& [name, pv] : v.items()) {
                const std::string pkey = key + "." + name;
                if (pv.is_string()) {
                    fs::path pf(pv.get<std::string>());
                    if (pf.is_relative()) pf = fs::path(file).parent_path() / pf;
                    auto bias = readExpertProfile(pf.string(), spec);
                    if (!bias.isOk())
                        return keyError(file, pkey, "profile file: " + bias.status().message());
                    cfg.profiles[name] = std::move(bias).value();
                } else {
                    MOE_ASSIGN_OR_RETURN(cfg.profiles[name], parseLayerMap(file, pkey, pv, spec));
                }
            }
        } else {
            return keyError(
                file, key,
                "unknown key (expected threshold, max_experts, profile, domain_weights)");
        }
    }
    if (!profile.empty()) {
        auto it = cfg.profiles.find(profile);
        if (it == cfg.profiles.end())
            return keyError(file, base + ".profile",
                            "profile '" + profile + "' is not in domain_weights");
        cfg.defaults.profile = profile;
        cfg.defaults.domainBias = it->second;
    }
    return cfg;
}

Result<ExpertConfig> loadExpertConfig(const std::string& modelPath, const ModelSpec& spec) {
    const std::string file = expertConfigPath(modelPath);
    std::error_code ec;
    if (!fs::exists(file, ec)) return ExpertConfig{};
    return readExpertConfig(file, spec);
}

Result<ExpertPolicy> withProfile(const ExpertConfig& config, const ExpertPolicy& base,
                                 const std::string& nameOrFile, const ModelSpec& spec) {
    ExpertPolicy p = base;
    if (nameOrFile.empty()) return p;
    if (nameOrFile == "none") {
        p.profile.clear();
        p.domainBias.clear();
        return p;
    }
    if (auto it = config.profiles.find(nameOrFile); it != config.profiles.end()) {
        p.profile = nameOrFile;
        p.domainBias = it->second;
        return p;
    }
    std::error_code ec;
    if (!fs::is_regular_file(nameOrFile, ec)) {
        std::string names;
        for (const auto& [name, bias] : config.profiles)
            names += (names.empty() ? "" : ", ") + name;
        return Status(
            StatusCode::NotFound,
            "expert profile '" + nameOrFile + "' is neither a profile of " +
                (config.path.empty()
                     ? std::string("the model's model_config.json (none found)")
                     : config.path + " (profiles: " + (names.empty() ? "none" : names) + ")") +
                " nor a profile file");
    }
    MOE_ASSIGN_OR_RETURN(p.domainBias, readExpertProfile(nameOrFile, spec));
    p.profile = fileStem(nameOrFile);
    MOE_TRY(checkExpertPolicy(spec, p));
    return p;
}

} // namespace moe
