// `moestudio-cli demo-project DIR`: makes DIR the demo project — creates it if needed, writes the
// demo model (a seeded random Mixtral-style model until the trained demo model of issue
// [10 of 10] exists) into DIR/models/, and records it. Idempotent; prints the model path.
#include "cli-args.h"
#include "cli-output.h"
#include "cli-record.h"
#include "commands.h"

#include "moe/model-factory.h"

#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

int cmdDemoProject(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {}, {}) || args.positional().size() != 1)
        return cliUsage("usage: moestudio-cli demo-project DIR");
    const std::string dir = args.positional()[0];
    using moe::projects::ProjectStore;
    auto store = ProjectStore::exists(dir) ? ProjectStore::open(dir)
                                           : ProjectStore::create(dir, "MoE Studio demo");
    if (!store.isOk()) return cliFail(store.status().message());

    std::error_code ec;
    fs::create_directories(fs::path(dir) / "models", ec);
    if (ec) return cliFail(dir + "/models: cannot create: " + ec.message());
    const std::string modelPath = fs::absolute(fs::path(dir) / "models" / "demo-mixtral-tiny.gguf").string();
    if (!fs::exists(modelPath)) {
        moe::RandomModelOptions o;
        o.arch = "mixtral";
        o.preset = "tiny";
        o.seed = 7;
        moe::Status st = moe::writeRandomModel(o, modelPath);
        if (!st.isOk()) return cliFail(st.message());
    }
    auto model = moe::Model::load(modelPath);
    if (!model.isOk()) return cliFail(model.status().message());
    auto id = recordModel(**store, **model);
    if (!id.isOk()) return cliFail(id.status().message());
    std::cout << modelPath << "\n";
    return 0;
}
