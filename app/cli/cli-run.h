// CliRun: what a generating command opens — the optional project (--project), the model and a
// session on it — with one error path for all three.
#pragma once

#include "moe-projects/project-store.h"
#include "moe/session.h"

#include <memory>
#include <optional>
#include <string>

struct CliRun {
    std::unique_ptr<moe::projects::ProjectStore> store; // null without --project
    std::shared_ptr<const moe::Model> model;
    std::unique_ptr<moe::Session> session;
};

moe::Status openRun(const std::optional<std::string>& projectDir, const std::string& modelPath,
                    const moe::SessionOptions& options, CliRun& run);
