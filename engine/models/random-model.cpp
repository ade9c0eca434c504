// writeRandomModel: seeded random-weight GGUF files of real architectures at preset shapes.
// Weights are uniform with variance 1/fan_in (activations keep their scale through the layers),
// norms are 1 ± 0.1, so the forward exercises every op with non-trivial values. Each tensor has
// its own generator stream (seed, tensor index), so a tensor's values do not depend on the order
// or the types of the others. Quantized types (q8_0 .. q6_k, q4_k_m) quantize the same values with
// quants/ and the llama-quantize fallback of quant-schemes.h for rows that are not whole blocks.
// Mixtral keeps this v0 writer (one sequential stream per tensor, so its files stay byte for byte
// what they were); the other architectures come from random-model-arch.cpp (a stream per row).
#include "moe/model-factory.h"

#include "models/random-model-arch.h"

#include "core/half.h"
#include "core/rng.h"
#include "formats/gguf/gguf-writer.h"
#include "formats/gguf/quants/quant-schemes.h"
#include "ops/quants/quants.h"
#include "tokenizers/byte-tokenizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>
#include <vector>

namespace moe {

namespace {

struct Shape {
    int nEmbd, nLayer, nHead, nHeadKv, nFf, nExpert, nExpertUsed, nCtx;
};

bool presetShape(const std::string& preset, Shape& s) {
    if (preset == "tiny")
        s = {64, 2, 4, 2, 96, 4, 2, 2048};
    else if (preset == "small")
        s = {256, 4, 8, 2, 512, 8, 2, 4096};
    else
        return false;
    return true;
}

enum class Fill { Matrix, Norm, Embedding };

// Values are drawn in element order whatever the type, then each row is converted by
// quants::quantizeRow, so a quantized model holds the quantized weights of the f32 model.
Status fillTensor(std::span<uint8_t> out, uint32_t type, uint64_t seed, uint64_t stream, Fill fill,
                  uint64_t rowLen) {
    Rng rng(seed * 0x100000001b3ull + stream);
    const float a = fill == Fill::Matrix ? std::sqrt(3.0f / float(rowLen)) : 1.0f;
    const size_t rowBytes = quants::rowBytes(type, int64_t(rowLen));
    std::vector<float> row(static_cast<size_t>(rowLen));
    for (size_t off = 0; off + rowBytes <= out.size(); off += rowBytes) {
        for (float& v : row)
            v = fill == Fill::Norm ? 1.0f + 0.1f * rng.symmetric() : a * rng.symmetric();
        MOE_TRY(quants::quantizeRow(type, row.data(), out.data() + off, int64_t(rowLen)));
    }
    return Status::ok();
}

} // namespace

std::vector<std::string> randomModelPresets(const std::string& arch) {
    if (arch == "mixtral") return {"tiny", "small"};
    return randomArchPresets(arch);
}

std::vector<std::string> randomModelArchs() {
    return {"mixtral", "deepseek2", "qwen3moe", "olmoe"};
}

Result<ModelSpec> randomModelSpec(const RandomModelOptions& o) {
    if (o.arch != "mixtral") {
        std::optional<ModelSpec> s = randomArchSpec(o.arch, o.preset, o.seed);
        if (!s)
            return Status(StatusCode::InvalidArgument, "make-model: no preset '" + o.preset +
                                                           "' for architecture '" + o.arch + "'");
        return *s;
    }
    Shape sh{};
    if (!presetShape(o.preset, sh))
        return Status(StatusCode::InvalidArgument,
                      "make-model: unknown preset '" + o.preset + "' for mixtral");
    std::vector<std::string> names;
    std::vector<int32_t> types;
    ByteTokenizer::standardVocabulary(names, types);
    ModelSpec s;
    s.architecture = "llama";
    s.family = "gqa-moe";
    s.name = "random mixtral-" + o.preset + " (seed " + std::to_string(o.seed) + ")";
    s.nVocab = int(names.size());
    s.nEmbd = sh.nEmbd;
    s.nLayer = sh.nLayer;
    s.nHead = sh.nHead;
    s.nHeadKv = sh.nHeadKv;
    s.headDim = sh.nEmbd / sh.nHead;
    s.nRot = s.headDim;
    s.nFf = sh.nFf;
    s.nExpert = sh.nExpert;
    s.nExpertUsed = sh.nExpertUsed;
    s.nCtxTrain = sh.nCtx;
    s.ropeTheta = 1e6f;
    s.rmsEps = 1e-5f;
    s.ropeInterleaved = true;
    s.normTopkProb = true;
    s.bosId = 1;
    s.eosIds = {2};
    return s;
}

Status writeRandomModel(const RandomModelOptions& o, const std::string& path) {
    const std::vector<std::string> archs = randomModelArchs();
    if (std::find(archs.begin(), archs.end(), o.arch) == archs.end())
        return Status(StatusCode::Unsupported,
                      "make-model: architecture '" + o.arch +
                          "' is not available (mixtral, deepseek2, qwen3moe, olmoe)");
    if (o.format == "hf") {
        if (o.arch != "mixtral")
            return Status(StatusCode::Unsupported,
                          "make-model: --format hf is available for mixtral only, not " + o.arch);
        return writeRandomModelHf(o, path);
    }
    if (o.format != "gguf")
        return Status(StatusCode::InvalidArgument,
                      "make-model: format '" + o.format + "' is not gguf or hf");
    const std::optional<quants::QuantScheme> scheme = quants::quantScheme(o.type);
    if (!scheme) {
        std::string names;
        for (const std::string& n : quants::quantSchemeNames())
            names += (names.empty() ? "" : ", ") + n;
        return Status(StatusCode::InvalidArgument,
                      "make-model: type '" + o.type + "' is not available (" + names + ")");
    }
    if (o.arch != "mixtral") return writeRandomArchModel(o, *scheme, path);
    Shape s{};
    if (!presetShape(o.preset, s))
        return Status(StatusCode::InvalidArgument,
                      "make-model: unknown preset '" + o.preset + "' for mixtral (tiny, small)");

    std::vector<std::string> names;
    std::vector<int32_t> types;
    ByteTokenizer::standardVocabulary(names, types);
    const uint64_t nVocab = names.size();
    const int headDim = s.nEmbd / s.nHead;

    gguf::GgufWriter w;
    w.addString("general.architecture", "llama");
    w.addString("general.name",
                "random mixtral-" + o.preset + " (seed " + std::to_string(o.seed) + ")");
    w.addString("general.type", "model");
    w.addUInt32("general.file_type", scheme->fileType); // the requested scheme, fallbacks included
    if (gguf::typeTraits(scheme->type)->blockSize > 1)
        w.addUInt32("general.quantization_version", 2);
    w.addUInt32("llama.vocab_size", uint32_t(nVocab));
    w.addUInt32("llama.context_length", uint32_t(s.nCtx));
    w.addUInt32("llama.embedding_length", uint32_t(s.nEmbd));
    w.addUInt32("llama.block_count", uint32_t(s.nLayer));
    w.addUInt32("llama.feed_forward_length", uint32_t(s.nFf));
    w.addUInt32("llama.attention.head_count", uint32_t(s.nHead));
    w.addUInt32("llama.attention.head_count_kv", uint32_t(s.nHeadKv));
    w.addUInt32("llama.rope.dimension_count", uint32_t(headDim));
    w.addFloat32("llama.rope.freq_base", 1e6f);
    w.addFloat32("llama.attention.layer_norm_rms_epsilon", 1e-5f);
    w.addUInt32("llama.expert_count", uint32_t(s.nExpert));
    w.addUInt32("llama.expert_used_count", uint32_t(s.nExpertUsed));
    w.addString("tokenizer.ggml.model", ByteTokenizer::kModelName);
    w.addStringArray("tokenizer.ggml.tokens", names);
    w.addInt32Array("tokenizer.ggml.token_type", types);
    w.addUInt32("tokenizer.ggml.unknown_token_id", 0);
    w.addUInt32("tokenizer.ggml.bos_token_id", 1);
    w.addUInt32("tokenizer.ggml.eos_token_id", 2);
    w.addUInt32("tokenizer.ggml.eot_token_id", uint32_t(nVocab - 1)); // <|im_end|>
    w.addBool("tokenizer.ggml.add_bos_token", true);

    uint64_t stream = 0;
    // Big tensors (matrices) take the scheme's type for their shape; the others are F32.
    auto add = [&](const std::string& name, std::vector<uint64_t> ne, bool big, Fill fill) {
        const uint64_t id = stream++;
        const uint64_t rowLen = ne[0];
        const uint32_t type =
            big ? quants::schemeTensorType(*scheme, name, ne) : uint32_t(gguf::GgmlType::F32);
        return w.addTensor(name, std::move(ne), gguf::GgmlType(type),
                           [=, seed = o.seed](std::span<uint8_t> out) {
                               return fillTensor(out, type, seed, id, fill, rowLen);
                           });
    };
    const uint64_t E = uint64_t(s.nEmbd), Q = uint64_t(s.nHead) * headDim,
                   KV = uint64_t(s.nHeadKv) * headDim, F = uint64_t(s.nFf), X = uint64_t(s.nExpert);
    const bool big = true, f32 = false;
    MOE_TRY(add("token_embd.weight", {E, nVocab}, big, Fill::Embedding));
    for (int il = 0; il < s.nLayer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        MOE_TRY(add(p + "attn_norm.weight", {E}, f32, Fill::Norm));
        MOE_TRY(add(p + "attn_q.weight", {E, Q}, big, Fill::Matrix));
        MOE_TRY(add(p + "attn_k.weight", {E, KV}, big, Fill::Matrix));
        MOE_TRY(add(p + "attn_v.weight", {E, KV}, big, Fill::Matrix));
        MOE_TRY(add(p + "attn_output.weight", {Q, E}, big, Fill::Matrix));
        MOE_TRY(add(p + "ffn_norm.weight", {E}, f32, Fill::Norm));
        MOE_TRY(add(p + "ffn_gate_inp.weight", {E, X}, f32, Fill::Matrix));
        MOE_TRY(add(p + "ffn_gate_exps.weight", {E, F, X}, big, Fill::Matrix));
        MOE_TRY(add(p + "ffn_up_exps.weight", {E, F, X}, big, Fill::Matrix));
        MOE_TRY(add(p + "ffn_down_exps.weight", {F, E, X}, big, Fill::Matrix));
    }
    MOE_TRY(add("output_norm.weight", {E}, f32, Fill::Norm));
    MOE_TRY(add("output.weight", {E, nVocab}, big, Fill::Matrix));
    return w.write(path);
}

} // namespace moe
