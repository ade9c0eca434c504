// `moestudio-cli grads`: loss and LoRA adapter gradients of one batch — what the PEFT parity
// tests compare with transformers + PEFT. tokens/labels: int32 (or int64) .npy [batch, seq];
// labels -100 are ignored and shifted inside, as transformers' causal-LM loss does.
#include "cli-args.h"
#include "cli-npy.h"
#include "cli-output.h"
#include "commands.h"

#include "moe/training.h"

#include <cstdio>
#include <iostream>

int cmdGrads(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"model", "adapter", "tokens", "labels", "out", "device"}, {}))
        return cliUsage("grads: " + args.error());
    const auto model = args.value("model"), adapter = args.value("adapter"), tokens = args.value("tokens"),
               labels = args.value("labels"), out = args.value("out");
    if (!model || !adapter || !tokens || !labels || !out || !args.positional().empty())
        return cliUsage("usage: moestudio-cli grads --model MODEL --adapter PEFT_DIR --tokens T.npy --labels L.npy "
                        "--out GRADS.safetensors [--device cpu]");
    if (args.value("device", "cpu") != "cpu")
        return cliFail("grads: training runs on the CPU in this version (--device cpu)");
    std::vector<int32_t> ids, lab;
    std::vector<int64_t> idShape, labShape;
    if (moe::Status st = readNpyInt32(*tokens, ids, idShape); !st.isOk()) return cliFail(st.message());
    if (moe::Status st = readNpyInt32(*labels, lab, labShape); !st.isOk()) return cliFail(st.message());
    if (idShape.size() != 2 || idShape != labShape)
        return cliFail(*tokens + ", " + *labels + ": tokens and labels must be 2-D arrays [batch, seq] of one shape");
    auto m = moe::Model::load(*model);
    if (!m.isOk()) return cliFail(m.status().message());
    auto g = moe::adapterGradients(*m, *adapter, ids, lab, int(idShape[0]), int(idShape[1]));
    if (!g.isOk()) return cliFail(g.status().message());
    if (moe::Status st = moe::saveAdapterGradients(*g, *out); !st.isOk()) return cliFail(st.message());
    std::printf("{\"loss\": %.9g, \"counted\": %lld, \"tensors\": %zu, \"out\": \"%s\"}\n", g->loss,
                static_cast<long long>(g->counted), g->gradients.size(), out->c_str());
    return 0;
}
