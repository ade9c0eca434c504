// convertHfFolder (moe/quantize.h): Hugging Face folder -> GGUF v3, as convert_hf_to_gguf.py does
// it (model-formats.md §9.4-§9.8). Design: the folder is opened through SafetensorsWeightSource,
// which already maps HF names to the GGUF vocabulary (hfToCanonical); each output tensor is then a
// plan — its GGUF name, shape, type and a fill function that produces a slab of rows as float32
// (one row, one head of a permuted q/k, one head of a split kv_b) from the memory-mapped inputs.
// The writer calls each tensor's producer in turn, so memory holds one output tensor at a time and
// the output types follow the quantize schemes (formats/gguf/quants/quant-schemes.h) shared with
// quantizeModelFile. F16 and BF16 go through float32 and back, which is exact.
#include "moe/quantize.h"

#include "formats/gguf/gguf-spec.h"
#include "formats/gguf/gguf-writer.h"
#include "formats/gguf/quants/quant-schemes.h"
#include "formats/hf/hf-config.h"
#include "models/convert-hf.h"
#include "models/weight-source.h"
#include "ops/quants/quants.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <memory>
#include <regex>

namespace moe {

namespace {

namespace fs = std::filesystem;
using gguf::GgmlType;

// One input tensor read as float32 rows (last dimension = cols).
struct Source {
    const WeightEntry* e = nullptr;
    int64_t cols = 0;
    uint32_t type = 0; // F32, F16 or BF16
    size_t rowBytes = 0;
    Status rows(int64_t first, int64_t count, float* out) const {
        return quants::dequantizeRow(
            type, static_cast<const uint8_t*>(e->data) + size_t(first) * rowBytes, out,
            count * cols);
    }
};

Result<Source> sourceOf(const WeightEntry* e) {
    if (!e->viewable || e->shape.empty())
        return Status(StatusCode::Unsupported,
                      e->describe() + " is " + e->typeName +
                          "; the converter reads F32, F16, BF16 and FP8 with block scales");
    Source s;
    s.e = e;
    s.cols = e->shape.back();
    s.type = uint32_t(e->type == ops::WeightType::F16    ? GgmlType::F16
                      : e->type == ops::WeightType::BF16 ? GgmlType::BF16
                                                         : GgmlType::F32);
    s.rowBytes = quants::rowBytes(s.type, s.cols);
    return s;
}

uint64_t elements(const std::vector<int64_t>& shape) {
    uint64_t n = 1;
    for (int64_t d : shape)
        n *= uint64_t(d);
    return n;
}

// One output tensor. fill(slab, dst) writes rows [slab * slabRows, (slab + 1) * slabRows) of the
// output, ne[0] floats each.
struct OutTensor {
    std::string name;
    std::vector<uint64_t> ne; // ggml order
    uint32_t keepType = 0;    // type when no scheme is asked for
    int64_t slabRows = 1;
    std::function<Status(int64_t slab, float* dst)> fill;
    std::vector<const WeightEntry*> inputs;
    int layer = -1; // ordering: globals first (token_embd), layers, then output*
};

uint32_t keepTypeOf(const WeightEntry* e) {
    if (e->type == ops::WeightType::F16) return uint32_t(GgmlType::F16);
    if (e->type == ops::WeightType::BF16) return uint32_t(GgmlType::BF16);
    return uint32_t(e->typeName.rfind("F8", 0) == 0 ? GgmlType::BF16
                                                    : GgmlType::F32); // FP8: dequantized
}

std::vector<uint64_t> reversed(const std::vector<int64_t>& shape) {
    return {shape.rbegin(), shape.rend()};
}

// LlamaModel.permute (§1.3): per head of d units, new unit 2i = old i, new 2i+1 = old d/2 + i.
int64_t permutedFrom(int64_t i, int64_t d) {
    return (i % 2 == 0) ? i / 2 : d / 2 + i / 2;
}

// A tensor copied as is, or (headDim > 0) with rows — or elements of a 1-D bias — permuted per
// head.
Result<OutTensor> plainTensor(const std::string& name, const WeightEntry* e, int64_t headDim,
                              int layer) {
    MOE_ASSIGN_OR_RETURN(Source s, sourceOf(e));
    OutTensor t;
    t.name = name;
    t.ne = reversed(e->shape);
    t.keepType = keepTypeOf(e);
    t.inputs = {e};
    t.layer = layer;
    if (name.find("ffn_gate_inp_shexp") != std::string::npos && e->shape.size() == 2 &&
        e->shape[0] == 1)
        t.ne = {uint64_t(e->shape[1])}; // Qwen2-MoE shared_expert_gate [1, H] -> [H] (§9.7)
    const bool vector = t.ne.size() == 1;
    const int64_t units = vector ? int64_t(t.ne[0]) : e->shape[0];
    if (headDim > 0 && (headDim % 2 != 0 || units % headDim != 0))
        return Status(StatusCode::CorruptFile, e->describe() + ": " + std::to_string(units) +
                                                   " rows are not whole heads of " +
                                                   std::to_string(headDim));
    if (headDim > 0 && vector) {
        t.fill = [s, headDim, units](int64_t, float* dst) -> Status {
            std::vector<float> v(static_cast<size_t>(units));
            MOE_TRY(s.rows(0, 1, v.data()));
            for (int64_t i = 0; i < units; ++i)
                dst[i] = v[size_t((i / headDim) * headDim + permutedFrom(i % headDim, headDim))];
            return Status::ok();
        };
    } else if (headDim > 0) {
        t.slabRows = headDim;
        t.fill = [s, headDim](int64_t head, float* dst) -> Status {
            for (int64_t i = 0; i < headDim; ++i)
                MOE_TRY(s.rows(head * headDim + permutedFrom(i, headDim), 1, dst + i * s.cols));
            return Status::ok();
        };
    } else {
        t.fill = [s, vector](int64_t r, float* dst) {
            return vector ? s.rows(0, 1, dst) : s.rows(r, 1, dst);
        };
    }
    return t;
}

// Experts e = 0..E-1 of one kind stacked into [E, rows, cols] (ggml ne [cols, rows, E]).
Result<OutTensor> stackedTensor(const std::string& name,
                                const std::vector<const WeightEntry*>& experts, int layer,
                                const std::string& dir) {
    std::vector<Source> srcs;
    for (size_t x = 0; x < experts.size(); ++x) {
        if (!experts[x])
            return Status(StatusCode::CorruptFile,
                          dir + ": expert " + std::to_string(x) + " of " + name + " is missing");
        MOE_ASSIGN_OR_RETURN(Source s, sourceOf(experts[x]));
        if (experts[x]->shape.size() != 2 || experts[x]->shape != experts[0]->shape)
            return Status(StatusCode::CorruptFile,
                          experts[x]->describe() + " has another shape than expert 0");
        srcs.push_back(s);
    }
    OutTensor t;
    t.name = name;
    const int64_t rows = experts[0]->shape[0];
    t.ne = {uint64_t(experts[0]->shape[1]), uint64_t(rows), uint64_t(experts.size())};
    t.keepType = keepTypeOf(experts[0]);
    t.inputs = experts;
    t.layer = layer;
    t.fill = [srcs, rows](int64_t r, float* dst) {
        return srcs[size_t(r / rows)].rows(r % rows, 1, dst);
    };
    return t;
}

// kv_b_proj [nh*(dn+dv), R] -> attn_k_b [nh, R, dn] (k_nope rows transposed per head) and
// attn_v_b [nh, dv, R] (§9.7).
Status splitKvB(const WeightEntry* e, const ModelSpec& spec, int layer,
                std::vector<OutTensor>& out) {
    MOE_ASSIGN_OR_RETURN(Source s, sourceOf(e));
    const int64_t nh = spec.nHead, dn = spec.qkNopeHeadDim, dv = spec.vHeadDim, r = spec.kvLoraRank;
    if (e->shape != std::vector<int64_t>{nh * (dn + dv), r})
        return Status(StatusCode::CorruptFile,
                      e->describe() + " is not [" + std::to_string(nh * (dn + dv)) + ", " +
                          std::to_string(r) + "] (heads x (qk_nope + v), kv_lora_rank)");
    const std::string blk = "blk." + std::to_string(layer) + ".";
    OutTensor k;
    k.name = blk + "attn_k_b.weight";
    k.ne = {uint64_t(dn), uint64_t(r), uint64_t(nh)};
    k.keepType = keepTypeOf(e);
    k.inputs = {e};
    k.layer = layer;
    k.slabRows = r;
    k.fill = [s, dn, dv, r](int64_t h, float* dst) -> Status {
        std::vector<float> kn(static_cast<size_t>(dn * r));
        MOE_TRY(s.rows(h * (dn + dv), dn, kn.data()));
        for (int64_t c = 0; c < r; ++c)
            for (int64_t j = 0; j < dn; ++j)
                dst[c * dn + j] = kn[size_t(j * r + c)];
        return Status::ok();
    };
    OutTensor v = k;
    v.name = blk + "attn_v_b.weight";
    v.ne = {uint64_t(r), uint64_t(dv), uint64_t(nh)};
    v.slabRows = dv;
    v.fill = [s, dn, dv](int64_t h, float* dst) { return s.rows(h * (dn + dv) + dn, dv, dst); };
    out.push_back(std::move(k));
    out.push_back(std::move(v));
    return Status::ok();
}

// The tensors of the folder in GGUF form, in file order.
Status planTensors(const SafetensorsWeightSource& src, const ModelSpec& spec,
                   const std::string& dir, std::vector<OutTensor>& out) {
    static const std::regex kLayer(R"(model\.layers\.(\d+)\..*)");
    static const std::regex kExpert(R"(blk\.(\d+)\.(ffn_gate|ffn_up|ffn_down)\.(\d+)\.weight)");
    const bool llama = spec.architecture == "llama";
    std::map<std::pair<int, std::string>, std::vector<const WeightEntry*>> experts;
    const std::string kScale = "_scale_inv";
    for (const std::string& hf : src.folder().names()) {
        if (hf.size() > kScale.size() &&
            hf.compare(hf.size() - kScale.size(), kScale.size(), kScale) == 0 &&
            src.folder().find(hf.substr(0, hf.size() - kScale.size())).tensor)
            continue; // the block scales of an FP8 weight, applied when the source opened
        std::smatch m;
        if (std::regex_match(hf, m, kLayer) && std::stoll(m[1].str()) >= spec.nLayer) {
            continue; // MTP layers (DeepSeek-V3 model.layers.61.*), as the converter does (§2.2)
        }
        if (hf.find("rotary_emb.inv_freq") != std::string::npos)
            continue; // recomputed, never stored
        const std::string name = hfToCanonical(hf);
        const WeightEntry* e = src.find(name.empty() ? hf : name);
        if (name.empty() || !e)
            return Status(StatusCode::Unsupported,
                          e ? e->describe() + " has no GGUF name (§9.7) for architecture " +
                                  spec.architecture
                            : dir + ": tensor '" + hf + "' has no GGUF name");
        const int layer = name.rfind("blk.", 0) == 0 ? std::stoi(name.substr(4)) : -1;
        if (name == "output.weight" && spec.tieWordEmbeddings) continue; // tied: token_embd serves
        if (std::regex_match(name, m, kExpert)) {
            const size_t x = std::stoul(m[3].str());
            if (x >= size_t(spec.nExpert))
                return Status(StatusCode::CorruptFile,
                              e->describe() + ": expert " + m[3].str() + " but config.json has " +
                                  std::to_string(spec.nExpert) + " experts");
            auto& list = experts[{layer, m[2].str()}];
            list.resize(size_t(spec.nExpert), nullptr);
            list[x] = e;
            continue;
        }
        if (spec.architecture == "deepseek2" &&
            name.find(".attn_kv_b.weight") != std::string::npos) {
            MOE_TRY(splitKvB(e, spec, layer, out));
            continue;
        }
        int64_t headDim = 0;
        const std::string leaf = layer >= 0 ? name.substr(name.find('.', 4) + 1) : name;
        if (llama && (leaf == "attn_q.weight" || leaf == "attn_q.bias" || leaf == "attn_k.weight" ||
                      leaf == "attn_k.bias"))
            headDim = spec.headDim; // per head, so q (n_head heads) and k (n_head_kv heads) alike
        MOE_ASSIGN_OR_RETURN(OutTensor t, plainTensor(name, e, headDim, layer));
        out.push_back(std::move(t));
    }
    for (const auto& [key, list] : experts) {
        MOE_ASSIGN_OR_RETURN(OutTensor t, stackedTensor("blk." + std::to_string(key.first) + "." +
                                                            key.second + "_exps.weight",
                                                        list, key.first, dir));
        out.push_back(std::move(t));
    }
    auto rank = [](const OutTensor& t) {
        if (t.name == "token_embd.weight") return std::pair<int, int>{-1, 0};
        if (t.layer >= 0) return std::pair<int, int>{t.layer, 0};
        return std::pair<int, int>{INT32_MAX, t.name == "output_norm.weight" ? 0 : 1};
    };
    std::stable_sort(out.begin(), out.end(), [&](const OutTensor& a, const OutTensor& b) {
        return rank(a) != rank(b) ? rank(a) < rank(b) : a.name < b.name;
    });
    return Status::ok();
}


} // namespace

Result<QuantizeReport> convertHfFolder(const std::string& dir, const std::string& outPath,
                                       const std::string& type,
                                       const std::function<bool(int, int)>& progress) {
    std::optional<quants::QuantScheme> scheme;
    if (!type.empty()) {
        scheme = quants::quantScheme(type);
        if (!scheme) {
            std::string names;
            for (const std::string& n : quants::quantSchemeNames())
                names += (names.empty() ? "" : ", ") + n;
            return Status(StatusCode::InvalidArgument,
                          "convert: unknown type '" + type + "' (" + names + ")");
        }
    }
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return Status(StatusCode::NotFound, dir + ": not a folder");
    ModelSpec spec;
    MOE_TRY(hf::readConfig(dir + "/config.json", spec));
    if (fs::exists(dir + "/generation_config.json", ec))
        MOE_TRY(hf::readGenerationConfig(dir + "/generation_config.json", spec));
    if (spec.name.empty()) { // as Model::load names a folder
        fs::path p = fs::path(dir).lexically_normal();
        if (!p.has_filename()) p = p.parent_path();
        spec.name = p.filename().string();
    }
    // Shared so the producers (which the writer keeps) outlive this frame safely.
    MOE_ASSIGN_OR_RETURN(std::unique_ptr<SafetensorsWeightSource> opened,
                         SafetensorsWeightSource::open(dir));
    std::shared_ptr<const SafetensorsWeightSource> src(std::move(opened));
    std::vector<OutTensor> plan;
    MOE_TRY(planTensors(*src, spec, dir, plan));

    gguf::GgufWriter w;
    w.addString("general.architecture", spec.architecture);
    w.addString("general.type", "model");
    w.addString("general.name", spec.name);
    QuantizeReport report;
    std::map<std::string, QuantizeTypeSummary> before, after;
    auto count = [](std::map<std::string, QuantizeTypeSummary>& m, const std::string& name,
                    uint64_t bytes) {
        QuantizeTypeSummary& s = m[name];
        s.type = name;
        s.tensors += 1;
        s.bytes += bytes;
    };
    bool anyQuantized = false, anyF16 = false, anyBf16 = false;
    const int total = int(plan.size());
    auto done = std::make_shared<int>(0);
    std::vector<uint32_t> outTypes;
    for (OutTensor& t : plan) {
        uint32_t wanted = t.keepType;
        uint32_t outType = t.keepType;
        if (scheme)
            outType = quants::schemeTensorType(*scheme, t.name, t.ne, &wanted);
        else if (t.ne.size() < 2 || t.name.find("ffn_gate_inp") != std::string::npos)
            outType = wanted = uint32_t(GgmlType::F32);
        if (outType != wanted)
            report.fallbacks.push_back(t.name + ": " + gguf::typeName(outType) + " for " +
                                       gguf::typeName(wanted) + " (row of " +
                                       std::to_string(t.ne[0]) + ")");
        const int64_t rowLen = int64_t(t.ne[0]);
        uint64_t rows = 1;
        for (size_t d = 1; d < t.ne.size(); ++d)
            rows *= t.ne[d];
        const size_t outRow = quants::rowBytes(outType, rowLen);
        for (const WeightEntry* e : t.inputs) {
            const uint64_t n = elements(e->shape);
            const uint64_t bytes =
                e->typeName.rfind("F8", 0) == 0 ? n : n * (e->type == ops::WeightType::F32 ? 4 : 2);
            count(before, e->typeName, bytes);
            report.bytesBefore += bytes;
        }
        count(after, gguf::typeName(outType), rows * outRow);
        report.bytesAfter += rows * outRow;
        anyQuantized = anyQuantized || gguf::typeTraits(outType)->blockSize > 1;
        anyF16 = anyF16 || (t.ne.size() >= 2 && outType == uint32_t(GgmlType::F16));
        anyBf16 = anyBf16 || (t.ne.size() >= 2 && outType == uint32_t(GgmlType::BF16));
        outTypes.push_back(outType);
    }
    const uint32_t fileType = scheme ? scheme->fileType : anyBf16 ? 32u : anyF16 ? 1u : 0u;
    w.addUInt32("general.file_type", fileType);
    if (anyQuantized) w.addUInt32("general.quantization_version", 2);
    gguf::writeGgufSpec(w, spec);
    MOE_ASSIGN_OR_RETURN(report.tokenizer, convert::addTokenizerKeys(dir, spec, w));

    for (size_t k = 0; k < plan.size(); ++k) {
        const uint32_t outType = outTypes[k];
        auto fill = plan[k].fill;
        const int64_t rowLen = int64_t(plan[k].ne[0]), slabRows = plan[k].slabRows;
        const std::string name = plan[k].name;
        MOE_TRY(
            w.addTensor(name, plan[k].ne, GgmlType(outType), [=](std::span<uint8_t> out) -> Status {
                (void)src; // keeps the mapped inputs alive while the writer runs
                const size_t outRow = quants::rowBytes(outType, rowLen);
                const int64_t rows = int64_t(out.size() / outRow);
                std::vector<float> buf(static_cast<size_t>(slabRows * rowLen));
                for (int64_t slab = 0; slab * slabRows < rows; ++slab) {
                    Status st = fill(slab, buf.data());
                    for (int64_t r = 0; st.isOk() && r < slabRows; ++r)
                        st = quants::quantizeRow(outType, buf.data() + r * rowLen,
                                                 out.data() + size_t(slab * slabRows + r) * outRow,
                                                 rowLen);
                    if (!st.isOk())
                        return Status(st.code(), dir + ": tensor '" + name + "' rows from " +
                                                     std::to_string(slab * slabRows) + ": " +
                                                     st.message());
                }
                ++*done;
                if (progress && !progress(*done, total))
                    return Status(StatusCode::Cancelled, "convert: cancelled");
                return Status::ok();
            }));
    }
    MOE_TRY(w.write(outPath));
    for (const auto& [name, s] : before)
        report.before.push_back(s);
    for (const auto& [name, s] : after)
        report.after.push_back(s);
    return report;
}

} // namespace moe
