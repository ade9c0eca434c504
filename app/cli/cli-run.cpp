// CliRun opening.
#include "cli-run.h"

moe::Status openRun(const std::optional<std::string>& projectDir, const std::string& modelPath,
                    const moe::SessionOptions& options, CliRun& run) {
    if (projectDir) {
        MOE_ASSIGN_OR_RETURN(run.store, moe::projects::ProjectStore::open(*projectDir));
    }
    MOE_ASSIGN_OR_RETURN(run.model, moe::Model::load(modelPath));
    MOE_ASSIGN_OR_RETURN(run.session, moe::Session::create(run.model, options));
    return moe::Status::ok();
}
