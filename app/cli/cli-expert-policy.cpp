// Expert-policy flags (cli-expert-policy.h).
#include "cli-expert-policy.h"

#include "moe/expert-profiles.h"

const std::set<std::string>& expertPolicyOptions() {
    static const std::set<std::string> k = {"max-experts", "threshold", "profile"};
    return k;
}

bool readExpertFlags(CliArgs& args, ExpertFlags& flags) {
    long long maxExperts = 0;
    double threshold = 0;
    if (!args.intValue("max-experts", 0, 1 << 20, maxExperts) ||
        !args.floatValue("threshold", 0, 1, threshold))
        return false;
    if (args.value("max-experts")) flags.maxExperts = int(maxExperts);
    if (args.value("threshold")) flags.threshold = float(threshold);
    flags.profile = args.value("profile", "");
    return true;
}

moe::Result<moe::ExpertPolicy> resolveExpertPolicy(const ExpertFlags& flags,
                                                   const moe::Model& model) {
    const moe::ModelSpec& spec = model.spec();
    MOE_ASSIGN_OR_RETURN(moe::ExpertConfig cfg, moe::loadExpertConfig(model.info().path, spec));
    MOE_ASSIGN_OR_RETURN(moe::ExpertPolicy p,
                         moe::withProfile(cfg, cfg.defaults, flags.profile, spec));
    if (flags.maxExperts) {
        if (*flags.maxExperts > spec.nExpert)
            return moe::Status(moe::StatusCode::InvalidArgument,
                               "--max-experts " + std::to_string(*flags.maxExperts) +
                                   ": the model has " + std::to_string(spec.nExpert) +
                                   " routed experts per layer");
        p.maxExperts = *flags.maxExperts;
    }
    if (flags.threshold) p.threshold = *flags.threshold;
    return p;
}

nlohmann::ordered_json expertPolicyJson(const moe::ExpertPolicy& p) {
    return {{"max_experts", p.maxExperts}, {"threshold", p.threshold}, {"profile", p.profile}};
}
