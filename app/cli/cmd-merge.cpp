// `moestudio-cli merge`: a fine-tuning result (PEFT LoRA adapter folder, or ESFT / full-fine-tuning
// weights) folded into a GGUF base, written as a new GGUF that any GGUF tool loads.
#include "cli-args.h"
#include "cli-output.h"
#include "commands.h"

#include "moe/training.h"

#include <iostream>

int cmdMerge(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"model", "result", "out", "type"}, {}))
        return cliUsage("merge: " + args.error());
    const auto model = args.value("model"), result = args.value("result"), out = args.value("out");
    if (!model || !result || !out || !args.positional().empty())
        return cliUsage("usage: moestudio-cli merge --model BASE.gguf --result ADAPTER_DIR|WEIGHTS --out MERGED.gguf "
                        "[--type f32|f16|bf16|q8_0|...]\n"
                        "  (merged tensors keep their stored type unless --type names another)");
    auto r = moe::mergeIntoGguf(*model, *result, *out, args.value("type", ""));
    if (!r.isOk()) return cliFail(r.status().message());
    std::cout << "merged " << r->mergedTensors << " tensors into " << *out << "\n";
    return 0;
}
