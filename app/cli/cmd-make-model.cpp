// `moestudio-cli make-model`: writes a seeded random-weight model (moe/model-factory.h).
#include "cli-args.h"
#include "cli-output.h"
#include "commands.h"

#include "moe/model-factory.h"

#include <chrono>
#include <iostream>

int cmdMakeModel(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"arch", "preset", "seed", "out", "type", "format", "shards"}, {}))
        return cliUsage("make-model: " + args.error());
    auto out = args.value("out");
    if (!out && args.positional().size() == 1) out = args.positional()[0];
    if (!out || args.positional().size() > (args.value("out") ? 0u : 1u))
        return cliUsage("usage: moestudio-cli make-model [--arch A] [--preset P] [--seed N] [--type T] "
                        "(--out FILE.gguf | FILE.gguf)\n"
                        "         [--format gguf|hf [--shards N]] (hf: mixtral only, --out is a folder)\n"
                        "  --arch mixtral (presets tiny, small), deepseek2 (tiny, v2-lite: DeepSeek-V2-Lite's shape),\n"
                        "         qwen3moe (tiny), olmoe (tiny); --type f32, f16, bf16, q8_0, q4_0, q4_1, q5_0, q5_1,\n"
                        "         q2_k, q3_k, q4_k, q5_k, q6_k, q4_k_m, q5_k_m (default f32)");
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
    const auto t0 = std::chrono::steady_clock::now();
    moe::Status st = moe::writeRandomModel(o, *out);
    if (!st.isOk()) return cliFail(st.message());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::cout << "wrote " << *out << " (" << o.arch << " " << o.preset << ", " << o.type << ", seed "
              << o.seed << (o.format == "hf" ? ", Hugging Face folder" : "") << ") in " << seconds << " s\n";
    return 0;
}
