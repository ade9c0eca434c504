// The expert-policy flags of the generating and analysis commands (generate, chat, logits, route):
//   --max-experts N   experts per token (0: the model's)
//   --threshold X     cumulative routing-weight share in (0, 1] (0: off)
//   --profile NAME    a domain bias profile of the model's model_config.json, a profile file,
//                     or "none"
// The model's model_config.json (moe/expert-profiles.h) gives the defaults; flags override them.
#pragma once

#include "cli-args.h"
#include "moe/expert-policy.h"
#include "moe/model.h"
#include "moe/status.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <set>
#include <string>

struct ExpertFlags {
    std::optional<int> maxExperts;
    std::optional<float> threshold;
    std::string profile; // "" : the config's default profile
};

const std::set<std::string>& expertPolicyOptions();

// Reads the flags (numbers checked for form and sign; the model checks the rest). False with
// args.error() set on a malformed value.
bool readExpertFlags(CliArgs& args, ExpertFlags& flags);

// The model's config defaults overridden by flags, checked against the model. Errors name the
// config file and key, the profile, or the flag.
moe::Result<moe::ExpertPolicy> resolveExpertPolicy(const ExpertFlags& flags,
                                                   const moe::Model& model);

// {"max_experts": .., "threshold": .., "profile": ..} (the policy as recorded and printed).
nlohmann::ordered_json expertPolicyJson(const moe::ExpertPolicy& policy);
