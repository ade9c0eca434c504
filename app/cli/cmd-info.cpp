// `moestudio-cli info`: what a model file holds (architecture, hyper-parameters, tensors, types,
// sizes, a memory estimate), or the compute devices (--devices). Text for people, --json for tools.
#include "cli-args.h"
#include "cli-output.h"
#include "commands.h"

#include "moe/devices.h"
#include "moe/model.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <map>

namespace {

std::string humanBytes(uint64_t b) {
    char buf[32];
    if (b >= (1ull << 30)) std::snprintf(buf, sizeof buf, "%.2f GiB", double(b) / double(1ull << 30));
    else if (b >= (1ull << 20)) std::snprintf(buf, sizeof buf, "%.2f MiB", double(b) / double(1ull << 20));
    else if (b >= 1024) std::snprintf(buf, sizeof buf, "%.1f KiB", double(b) / 1024.0);
    else std::snprintf(buf, sizeof buf, "%llu B", (unsigned long long)b);
    return buf;
}

std::string shapeText(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// Per device: does weights + KV cache for nCtx tokens fit in its memory? The CPU maps the weights
// (the page cache holds them), so it counts them against RAM like a GPU counts them against VRAM.
struct DeviceFit {
    std::string device;
    uint64_t memory = 0;
    uint64_t needed = 0;
    int maxContext = 0; // the longest context whose KV cache fits beside the weights (0: none)
};

// KV cache bytes for nCtx tokens (float32 K and V rows; the MLA latent for DeepSeek).
uint64_t kvBytes(const moe::ModelInfo& info, uint64_t nCtx) { return info.kvBytesPerToken * nCtx; }

std::vector<DeviceFit> deviceFits(const moe::ModelInfo& info) {
    std::vector<DeviceFit> fits;
    const uint64_t perToken = kvBytes(info, 1);
    const int ctx = info.spec.nCtxTrain > 0 ? std::min(info.spec.nCtxTrain, 4096) : 4096;
    for (const auto& d : moe::listDevices().devices) {
        DeviceFit f;
        f.device = d.backend + ":" + std::to_string(d.index) + " " + d.name;
        f.memory = d.memoryBytes;
        f.needed = info.weightBytes + kvBytes(info, uint64_t(ctx));
        if (d.memoryBytes > info.weightBytes && perToken > 0) {
            const uint64_t tokens = (d.memoryBytes - info.weightBytes) / perToken;
            const uint64_t limit = info.spec.nCtxTrain > 0 ? uint64_t(info.spec.nCtxTrain) : tokens;
            f.maxContext = int(std::min<uint64_t>({tokens, limit, uint64_t(1) << 30}));
        }
        fits.push_back(f);
    }
    return fits;
}

int printDevices(bool json) {
    moe::DeviceReport r = moe::listDevices();
    if (json) {
        nlohmann::json j;
        j["built_backends"] = r.builtBackends;
        j["unavailable"] = r.unavailable;
        for (const auto& d : r.devices)
            j["devices"].push_back({{"backend", d.backend}, {"index", d.index}, {"name", d.name},
                                    {"memory_bytes", d.memoryBytes}, {"detail", d.detail}});
        std::cout << j.dump(2) << "\n";
        return 0;
    }
    std::string built;
    for (const auto& b : r.builtBackends) built += (built.empty() ? "" : ", ") + b;
    std::cout << "backends built: " << built << "\n";
    for (const auto& d : r.devices)
        std::cout << "  " << d.backend << ":" << d.index << "  " << d.name << "  "
                  << humanBytes(d.memoryBytes) << (d.detail.empty() ? "" : "  (" + d.detail + ")") << "\n";
    for (const auto& u : r.unavailable) std::cout << "  " << u << "\n";
    return 0;
}

} // namespace

int cmdInfo(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {}, {"devices", "tensors", "metadata", "json"}))
        return cliUsage("info: " + args.error());
    if (args.has("devices")) return printDevices(args.has("json"));
    if (args.positional().size() != 1)
        return cliUsage("usage: moestudio-cli info MODEL [--tensors] [--metadata] [--json]\n"
                        "       moestudio-cli info --devices [--json]");
    auto model = moe::Model::load(args.positional()[0]);
    if (!model.isOk()) return cliFail(model.status().message());
    const moe::ModelInfo& info = (*model)->info();
    const moe::ModelSpec& s = info.spec;
    std::map<std::string, uint64_t> typeBytes;
    for (const auto& t : info.tensors) typeBytes[t.type] += t.bytes;

    if (args.has("json")) {
        nlohmann::json j;
        j["path"] = info.path;
        j["format"] = info.format;
        j["format_version"] = info.formatVersion;
        j["file_bytes"] = info.fileBytes;
        j["parameter_count"] = info.parameterCount;
        j["architecture"] = s.architecture;
        j["family"] = s.family;
        j["name"] = s.name;
        j["hyperparameters"] = {{"n_vocab", s.nVocab},       {"n_embd", s.nEmbd},     {"n_layer", s.nLayer},
                                {"n_head", s.nHead},         {"n_head_kv", s.nHeadKv}, {"head_dim", s.headDim},
                                {"n_ff", s.nFf},             {"n_expert", s.nExpert},  {"n_expert_used", s.nExpertUsed},
                                {"n_ctx_train", s.nCtxTrain}, {"rope_theta", s.ropeTheta}, {"rms_eps", s.rmsEps}};
        for (const auto& t : info.tensors)
            j["tensors"].push_back({{"name", t.name}, {"type", t.type}, {"shape", t.shape},
                                    {"offset", t.offset}, {"bytes", t.bytes}});
        for (const auto& [k, v] : info.metadata) j["metadata"][k] = v;
        j["memory_estimate"] = {{"weights_bytes", info.weightBytes},
                                {"kv_cache_bytes_per_4096_tokens", kvBytes(info, 4096)}};
        for (const DeviceFit& f : deviceFits(info))
            j["memory_estimate"]["devices"].push_back({{"device", f.device}, {"memory_bytes", f.memory},
                                                       {"needed_bytes", f.needed}, {"max_context", f.maxContext}});
        std::cout << j.dump(2) << "\n";
        return 0;
    }

    std::cout << "file          " << info.path << "\n"
              << "format        GGUF v" << info.formatVersion << ", " << humanBytes(info.fileBytes) << "\n"
              << "name          " << s.name << "\n"
              << "architecture  " << s.architecture << " (family " << s.family << ")\n"
              << "parameters    " << info.parameterCount << " in " << info.tensors.size() << " tensors\n"
              << "vocab         " << s.nVocab << "\n"
              << "layers        " << s.nLayer << ", embedding " << s.nEmbd << "\n"
              << "attention     " << s.nHead << " heads, " << s.nHeadKv << " KV heads, head dim "
              << s.headDim << ", rope theta " << s.ropeTheta << ", rms eps " << s.rmsEps << "\n"
              << "experts       " << s.nExpert << " routed, " << s.nExpertUsed << " per token, ff "
              << s.nFf << "\n"
              << "context       " << s.nCtxTrain << " (trained)\n";
    std::cout << "types        ";
    for (const auto& [type, bytes] : typeBytes) std::cout << " " << type << " " << humanBytes(bytes) << ";";
    std::cout << "\nmemory        weights " << humanBytes(info.weightBytes) << " + KV cache "
              << humanBytes(kvBytes(info, 4096)) << " per 4096 tokens (f32)\n";
    for (const DeviceFit& f : deviceFits(info)) {
        std::cout << "  " << f.device << ": " << humanBytes(f.memory) << ", ";
        if (f.maxContext > 0)
            std::cout << "fits with a context of up to " << f.maxContext << " tokens\n";
        else
            std::cout << "too small for the weights (" << humanBytes(info.weightBytes) << ")\n";
    }
    if (args.has("metadata")) {
        std::cout << "\nmetadata:\n";
        for (const auto& [k, v] : info.metadata) std::cout << "  " << k << " = " << v << "\n";
    }
    if (args.has("tensors")) {
        std::cout << "\ntensors:\n";
        for (const auto& t : info.tensors) {
            char line[256];
            std::snprintf(line, sizeof line, "  %-32s %-5s %-18s %10s\n", t.name.c_str(), t.type.c_str(),
                          shapeText(t.shape).c_str(), humanBytes(t.bytes).c_str());
            std::cout << line;
        }
    } else {
        std::cout << "(--tensors lists the " << info.tensors.size() << " tensors, --metadata the "
                  << info.metadata.size() << " metadata keys)\n";
    }
    return 0;
}
