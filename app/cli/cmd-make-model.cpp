// `moestudio-cli make-model`: writes a seeded random-weight model (moe/model-factory.h).
#include "cli-args.h"
#include "cli-output.h"
#include "commands.h"

#include "moe/model-factory.h"

#include <iostream>

int cmdMakeModel(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"arch", "preset", "seed", "out", "type", "format", "shards"}, {}))
        return cliUsage("make-model: " + args.error());
    auto out = args.value("out");
    if (!out || !args.positional().empty())
        return cliUsage("usage: moestudio-cli make-model --arch mixtral --preset tiny|small --seed N "
                        "--out FILE.gguf [--type f32|f16|bf16] [--format gguf|hf [--shards N]] (hf: --out is a folder)");
    moe::RandomModelOptions o;
    o.arch = args.value("arch", o.arch);
    o.preset = args.value("preset", o.preset);
    o.type = args.value("type", o.type);
    o.format = args.value("format", o.format);
    long long shards = 1;
    if (!args.intValue("shards", 1, 99, shards)) return cliUsage("make-model: " + args.error());
    o.shards = int(shards);
    long long seed = 1;
    if (!args.intValue("seed", 0, 0x7fffffffffffffffll, seed)) return cliUsage("make-model: " + args.error());
    o.seed = uint64_t(seed);
    moe::Status st = moe::writeRandomModel(o, *out);
    if (!st.isOk()) return cliFail(st.message());
    std::cout << "wrote " << *out << " (" << o.arch << " " << o.preset << ", " << o.type << ", seed "
              << o.seed << (o.format == "hf" ? ", Hugging Face folder" : "") << ")\n";
    return 0;
}
