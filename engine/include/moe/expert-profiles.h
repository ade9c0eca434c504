// Expert configuration files: the `expert_activation` block of a model_config.json beside a
// model, and domain bias profiles in their own JSON files (format: docs/expert-policy.md).
//
// Where the file is (expertConfigPath):
//   Hugging Face folder DIR        -> DIR/model_config.json
//   GGUF file DIR/NAME.gguf        -> DIR/NAME.model_config.json when it exists (one file's own
//                                     settings), else DIR/model_config.json (shared by every
//                                     quantization of the model in that folder)
// Model::load and Session::create do not read it: a caller (the CLI, the studio) loads it with
// loadExpertConfig and passes the policy it wants to SessionOptions::expertPolicy or
// Session::setExpertPolicy, so what a session runs with is always explicit.
//
//   {"expert_activation": {"threshold": 0.8, "max_experts": 4, "profile": "legal",
//     "domain_weights": {"legal": {"1": {"3": 2.5, "5": -1}, "*": {"0": 0.5}},
//                        "code": "profiles/code.json"}}}
// A profile maps layer keys ("0".."nLayer-1", or "*" for every MoE layer; entries add up) to
// either {"expert": bias, ...} or an array of nExpert biases; a string instead of the map names a
// profile file (relative to the config file) holding that map as its top-level object.
#pragma once

#include "moe/expert-policy.h"
#include "moe/model.h"
#include "moe/status.h"

#include <map>
#include <string>
#include <vector>

namespace moe {

struct ExpertConfig {
    std::string path;      // the file read; "" when the model has none (then all defaults)
    ExpertPolicy defaults; // threshold, max_experts and the "profile" named (with its biases)
    // Named domain bias profiles: name -> [nLayer * nExpert] biases (dense layers' rows are 0).
    std::map<std::string, std::vector<float>> profiles;
};

// The config file a model at modelPath uses (see above): the first candidate that exists, else
// the last candidate (where one would be created).
std::string expertConfigPath(const std::string& modelPath);

// Reads the model's config file when there is one (an ExpertConfig with an empty path when not).
// Errors name the file and the key: not JSON, wrong types, unknown keys, max_experts beyond the
// model's experts, threshold outside [0, 1], a layer or expert out of range, a bias for a dense
// layer, a profile file that cannot be read.
Result<ExpertConfig> loadExpertConfig(const std::string& modelPath, const ModelSpec& spec);
Result<ExpertConfig> readExpertConfig(const std::string& jsonPath, const ModelSpec& spec);

// One profile file (its top-level object is a layer map): [nLayer * nExpert] biases.
Result<std::vector<float>> readExpertProfile(const std::string& jsonPath, const ModelSpec& spec);

// base with the profile nameOrFile: "" keeps base's profile, "none" removes it, a name of
// config.profiles selects it, anything else is read as a profile file (its name: the file stem).
// Errors name the profile and the profiles the config has.
Result<ExpertPolicy> withProfile(const ExpertConfig& config, const ExpertPolicy& base,
                                 const std::string& nameOrFile, const ModelSpec& spec);

} // namespace moe
