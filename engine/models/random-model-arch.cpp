// Random DeepSeek-V2 / Qwen3-MoE / OLMoE models (random-model-arch.h). A preset is a ModelSpec; the
// writer turns the spec into the GGUF keys of §9.5-§9.6 and the tensors of §9.7 exactly as
// convert_hf_to_gguf.py names and shapes them (DeepSeek in the current MLA form: head_count_kv 1,
// key_length kv_lora + rope, *_mla lengths, attn_k_b / attn_v_b), so Model::load reads the spec
// back. Weights are uniform with variance 1/fan_in, norms 1 ± 0.1, embeddings uniform in [-1, 1).
//
// Scale: DeepSeek-V2-Lite is 15.7 B weights. A tensor's bytes are produced when the GGUF writer
// reaches it (one tensor in memory: at most the 64-expert stacks, ~100-150 MB quantized), and each
// row comes from its own generator stream, so a ThreadPool generates and quantizes row blocks of
// one tensor in parallel. Q4_K and Q6_K rows are rounded on their range without ggml's scale search
// (random-model-quant.h): with the search, V2-Lite's 10 B Q4_K weights took over an hour on two
// shared cores; docs/perf/cpu.md gives the time without it.
//
// Vocabulary: the moe-bytes vocabulary (byte tokenizer, 261 tokens), padded with UNUSED tokens
// named <unused_ID> up to the preset's vocabulary size (V2-Lite: 102400). ByteTokenizer reads any
// token it does not know as a plain name, so text encodes to the first 261 ids and the padding
// ids only ever come from sampling (they decode to no bytes).
#include "models/random-model-arch.h"

#include "models/random-model-quant.h"

#include "core/rng.h"
#include "core/thread-pool.h"
#include "formats/gguf/gguf-spec.h"
#include "formats/gguf/gguf-writer.h"
#include "ops/quants/quants.h"
#include "tokenizers/byte-tokenizer.h"

#include <algorithm>
#include <cmath>
#include <memory>

namespace moe {

namespace {

// Fields common to every preset: the byte vocabulary's specials, no tied head, no bias.
ModelSpec baseSpec(const std::string& arch, const std::string& displayArch,
                   const std::string& preset, uint64_t seed) {
    ModelSpec s;
    s.architecture = arch;
    s.name = "random " + displayArch + "-" + preset + " (seed " + std::to_string(seed) + ")";
    s.bosId = 1;
    s.eosIds = {2};
    s.tieWordEmbeddings = false;
    return s;
}

// DeepSeek-V2-Lite's config.json (§2.1) at full or tiny size; rope_scaling as the real config.
ModelSpec deepseekSpec(const std::string& preset, uint64_t seed) {
    ModelSpec s = baseSpec("deepseek2", "deepseek2", preset, seed);
    s.family = "deepseek";
    const bool full = preset == "v2-lite";
    s.nVocab = full ? 102400 : 0; // 0: the byte vocabulary's size, filled by the caller
    s.nEmbd = full ? 2048 : 64;
    s.nLayer = full ? 27 : 3;
    s.nHead = full ? 16 : 4;
    s.nHeadKv = s.nHead;
    s.kvLoraRank = full ? 512 : 32;
    s.qLoraRank = 0;
    s.qkNopeHeadDim = full ? 128 : 16;
    s.qkRopeHeadDim = full ? 64 : 8;
    s.vHeadDim = full ? 128 : 16;
    s.headDim = s.qkNopeHeadDim + s.qkRopeHeadDim;
    s.nRot = s.qkRopeHeadDim;
    s.nFf = full ? 1408 : 32;
    s.nFfDense = full ? 10944 : 96;
    s.nExpert = full ? 64 : 8;
    s.nExpertUsed = full ? 6 : 3;
    s.nExpertShared = 2;
    s.nFfShared = s.nExpertShared * s.nFf;
    s.firstKDenseReplace = 1;
    s.scoringFunc = "softmax";
    s.topkMethod = "greedy";
    s.normTopkProb = false;
    s.routedScalingFactor = 1.0f;
    s.nGroup = 1;
    s.topkGroup = 1;
    s.nCtxTrain = 163840;
    s.ropeTheta = 10000.0f;
    s.rmsEps = 1e-6f;
    s.ropeInterleaved = true;
    s.qkNorm = "none";
    s.ropeScaling.type = "yarn";
    s.ropeScaling.factor = 40.0f;
    s.ropeScaling.originalContext = 4096;
    s.ropeScaling.betaFast = 32.0f;
    s.ropeScaling.betaSlow = 1.0f;
    s.ropeScaling.mscale = s.ropeScaling.mscaleAllDim = 0.707f;
    return s;
}

// Qwen3-MoE tiny: per-head QK-norm and a head dimension that is not nEmbd / nHead (as the real
// 128 x 32 heads over 2048); softmax top-k renormalized (§5).
ModelSpec qwen3moeSpec(uint64_t seed) {
    ModelSpec s = baseSpec("qwen3moe", "qwen3moe", "tiny", seed);
    s.family = "gqa-moe";
    s.nEmbd = 64;
    s.nLayer = 2;
    s.nHead = 4;
    s.nHeadKv = 2;
    s.headDim = 32;
    s.nRot = 32;
    s.nFf = 32;
    s.nExpert = 8;
    s.nExpertUsed = 2;
    s.nCtxTrain = 4096;
    s.ropeTheta = 1e6f;
    s.rmsEps = 1e-6f;
    s.ropeInterleaved = false;
    s.qkNorm = "head";
    s.normTopkProb = true;
    return s;
}

// OLMoE tiny: full-width QK-norm, MHA, softmax top-k without renormalization (§6).
ModelSpec olmoeSpec(uint64_t seed) {
    ModelSpec s = baseSpec("olmoe", "olmoe", "tiny", seed);
    s.family = "gqa-moe";
    s.nEmbd = 64;
    s.nLayer = 2;
    s.nHead = 4;
    s.nHeadKv = 4;
    s.headDim = 16;
    s.nRot = 16;
    s.nFf = 32;
    s.nExpert = 8;
    s.nExpertUsed = 2;
    s.nCtxTrain = 4096;
    s.ropeTheta = 10000.0f;
    s.rmsEps = 1e-5f;
    s.ropeInterleaved = false;
    s.qkNorm = "full";
    s.normTopkProb = false;
    return s;
}

// The moe-bytes vocabulary padded to nVocab with UNUSED tokens (see the head comment).
void paddedVocabulary(int nVocab, std::vector<std::string>& names, std::vector<int32_t>& types) {
    ByteTokenizer::standardVocabulary(names, types);
    for (int id = int(names.size()); id < nVocab; ++id) {
        names.push_back("<unused_" + std::to_string(id) + ">");
        types.push_back(int32_t(TokenType::Unused));
    }
}


enum class Fill { Matrix, Norm, Embedding };

// Rows [0, out.size() / rowBytes) of one tensor: row r from Rng(seed, stream, r), converted by
// quantizeRowFast. Row blocks run on the pool; the first error wins.
Status fillRows(ThreadPool& pool, std::span<uint8_t> out, uint32_t type, uint64_t seed,
                uint64_t stream, Fill fill, int64_t rowLen) {
    const size_t rowBytes = quants::rowBytes(type, rowLen);
    const size_t nRows = out.size() / rowBytes;
    const float a = fill == Fill::Matrix ? std::sqrt(3.0f / float(rowLen)) : 1.0f;
    const uint64_t tensorKey = seed * 0x100000001b3ull + stream;
    constexpr size_t kBlock = 16; // rows per work item
    const size_t nBlocks = (nRows + kBlock - 1) / kBlock;
    std::vector<Status> errors(nBlocks);
    pool.parallelFor(nBlocks, [&](size_t b0, size_t b1) {
        std::vector<float> row(static_cast<size_t>(rowLen));
        for (size_t b = b0; b < b1; ++b)
            for (size_t r = b * kBlock; r < std::min(nRows, (b + 1) * kBlock); ++r) {
                Rng rng(tensorKey * 0x9e3779b97f4a7c15ull + r);
                for (float& v : row)
                    v = fill == Fill::Norm ? 1.0f + 0.1f * rng.symmetric() : a * rng.symmetric();
                Status st = quantizeRowFast(type, row.data(), out.data() + r * rowBytes, rowLen);
                if (!st.isOk()) {
                    errors[b] = std::move(st);
                    break;
                }
            }
    });
    for (Status& st : errors)
        if (!st.isOk()) return st;
    return Status::ok();
}

} // namespace

std::vector<std::string> randomArchPresets(const std::string& arch) {
    if (arch == "deepseek2") return {"tiny", "v2-lite"};
    if (arch == "qwen3moe" || arch == "olmoe") return {"tiny"};
    return {};
}

std::optional<ModelSpec> randomArchSpec(const std::string& arch, const std::string& preset,
                                        uint64_t seed) {
    const std::vector<std::string> presets = randomArchPresets(arch);
    if (std::find(presets.begin(), presets.end(), preset) == presets.end()) return std::nullopt;
    ModelSpec s = arch == "deepseek2"  ? deepseekSpec(preset, seed)
                  : arch == "qwen3moe" ? qwen3moeSpec(seed)
                                       : olmoeSpec(seed);
    if (s.nVocab == 0) {
        std::vector<std::string> names;
        std::vector<int32_t> types;
        ByteTokenizer::standardVocabulary(names, types);
        s.nVocab = int(names.size());
    }
    return s;
}

Status writeRandomArchModel(const RandomModelOptions& o, const quants::QuantScheme& scheme,
                            const std::string& path) {
    const std::optional<ModelSpec> spec = randomArchSpec(o.arch, o.preset, o.seed);
    if (!spec) {
        std::string names;
        for (const std::string& n : randomArchPresets(o.arch))
            names += (names.empty() ? "" : ", ") + n;
        return Status(StatusCode::InvalidArgument, "make-model: unknown preset '" + o.preset +
                                                       "' for " + o.arch + " (" + names + ")");
    }
    const ModelSpec& s = *spec;
    std::vector<std::string> names;
    std::vector<int32_t> types;
    paddedVocabulary(s.nVocab, names, types);

    gguf::GgufWriter w;
    w.addString("general.architecture", s.architecture);
    w.addString("general.name", s.name);
    w.addString("general.type", "model");
    w.addUInt32("general.file_type", scheme.fileType);
    if (gguf::typeTraits(scheme.type)->blockSize > 1)
        w.addUInt32("general.quantization_version", 2);
    gguf::writeGgufSpec(w, s);
    w.addString("tokenizer.ggml.model", ByteTokenizer::kModelName);
    w.addStringArray("tokenizer.ggml.tokens", names);
    w.addInt32Array("tokenizer.ggml.token_type", types);
    w.addUInt32("tokenizer.ggml.unknown_token_id", 0);
    w.addUInt32("tokenizer.ggml.bos_token_id", uint32_t(s.bosId));
    w.addUInt32("tokenizer.ggml.eos_token_id", uint32_t(s.eosIds[0]));
    w.addUInt32("tokenizer.ggml.eot_token_id", 260); // <|im_end|> of the byte vocabulary
    w.addBool("tokenizer.ggml.add_bos_token", true);

    auto pool = std::make_shared<ThreadPool>(0);
    uint64_t stream = 0;
    // Matrices take the scheme's type for their shape (the router and 1-D tensors stay F32).
    auto add = [&](const std::string& name, std::vector<uint64_t> ne, Fill fill) {
        const uint64_t id = stream++;
        const int64_t rowLen = int64_t(ne[0]);
        const uint32_t type = quants::schemeTensorType(scheme, name, ne);
        return w.addTensor(name, std::move(ne), gguf::GgmlType(type),
                           [=, seed = o.seed](std::span<uint8_t> out) {
                               return fillRows(*pool, out, type, seed, id, fill, rowLen);
                           });
    };
    const auto M = Fill::Matrix, N = Fill::Norm;
    const uint64_t E = uint64_t(s.nEmbd), V = uint64_t(s.nVocab), X = uint64_t(s.nExpert),
                   F = uint64_t(s.nFf), nh = uint64_t(s.nHead);
    MOE_TRY(add("token_embd.weight", {E, V}, Fill::Embedding));
    for (int il = 0; il < s.nLayer; ++il) {
        const std::string p = "blk." + std::to_string(il) + ".";
        MOE_TRY(add(p + "attn_norm.weight", {E}, N));
        if (s.architecture == "deepseek2") {
            const uint64_t dq = uint64_t(s.qkNopeHeadDim + s.qkRopeHeadDim),
                           R = uint64_t(s.kvLoraRank), dn = uint64_t(s.qkNopeHeadDim),
                           dv = uint64_t(s.vHeadDim);
            if (s.qLoraRank > 0) {
                MOE_TRY(add(p + "attn_q_a.weight", {E, uint64_t(s.qLoraRank)}, M));
                MOE_TRY(add(p + "attn_q_a_norm.weight", {uint64_t(s.qLoraRank)}, N));
                MOE_TRY(add(p + "attn_q_b.weight", {uint64_t(s.qLoraRank), nh * dq}, M));
            } else {
                MOE_TRY(add(p + "attn_q.weight", {E, nh * dq}, M));
            }
            MOE_TRY(add(p + "attn_kv_a_mqa.weight", {E, R + uint64_t(s.qkRopeHeadDim)}, M));
            MOE_TRY(add(p + "attn_kv_a_norm.weight", {R}, N));
            MOE_TRY(add(p + "attn_k_b.weight", {dn, R, nh}, M));
            MOE_TRY(add(p + "attn_v_b.weight", {R, dv, nh}, M));
            MOE_TRY(add(p + "attn_output.weight", {nh * dv, E}, M));
        } else {
            const uint64_t Q = nh * uint64_t(s.headDim),
                           KV = uint64_t(s.nHeadKv) * uint64_t(s.headDim);
            MOE_TRY(add(p + "attn_q.weight", {E, Q}, M));
            MOE_TRY(add(p + "attn_k.weight", {E, KV}, M));
            MOE_TRY(add(p + "attn_v.weight", {E, KV}, M));
            MOE_TRY(add(p + "attn_output.weight", {Q, E}, M));
            const bool head = s.qkNorm == "head";
            MOE_TRY(add(p + "attn_q_norm.weight", {head ? uint64_t(s.headDim) : Q}, N));
            MOE_TRY(add(p + "attn_k_norm.weight", {head ? uint64_t(s.headDim) : KV}, N));
        }
        MOE_TRY(add(p + "ffn_norm.weight", {E}, N));
        if (s.architecture == "deepseek2" && il < s.firstKDenseReplace) {
            const uint64_t Fd = uint64_t(s.nFfDense);
            MOE_TRY(add(p + "ffn_gate.weight", {E, Fd}, M));
            MOE_TRY(add(p + "ffn_up.weight", {E, Fd}, M));
            MOE_TRY(add(p + "ffn_down.weight", {Fd, E}, M));
            continue;
        }
        MOE_TRY(add(p + "ffn_gate_inp.weight", {E, X}, M));
        MOE_TRY(add(p + "ffn_gate_exps.weight", {E, F, X}, M));
        MOE_TRY(add(p + "ffn_up_exps.weight", {E, F, X}, M));
        MOE_TRY(add(p + "ffn_down_exps.weight", {F, E, X}, M));
        if (s.nFfShared > 0) {
            const uint64_t Fs = uint64_t(s.nFfShared);
            MOE_TRY(add(p + "ffn_gate_shexp.weight", {E, Fs}, M));
            MOE_TRY(add(p + "ffn_up_shexp.weight", {E, Fs}, M));
            MOE_TRY(add(p + "ffn_down_shexp.weight", {Fs, E}, M));
        }
    }
    MOE_TRY(add("output_norm.weight", {E}, N));
    MOE_TRY(add("output.weight", {E, V}, M));
    return w.write(path);
}

} // namespace moe
