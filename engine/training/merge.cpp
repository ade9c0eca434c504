// mergeIntoGguf (moe/training.h): a LoRA adapter or trained tensors folded into a GGUF base.
// Each change is first made a float32 matrix in Hugging Face layout ([out, in], HF row order),
// then routed to the GGUF tensor that holds it — the tensor of the same canonical name, the rows
// of a stacked expert tensor, or the halves of DeepSeek's split kv_b — and applied row by row in
// the writer's producer, so the output is streamed like quantizeModelFile's.
#include "moe/training.h"

#include "formats/gguf/gguf-reader.h"
#include "formats/gguf/gguf-writer.h"
#include "formats/gguf/quants/quant-schemes.h"
#include "formats/safetensors/safetensors-file.h"
#include "models/model-impl.h"
#include "models/weight-source.h"
#include "ops/ops-backward.h"
#include "ops/quants/quants.h"
#include "training/peft-adapter.h"

#include <cstring>
#include <filesystem>
#include <map>

namespace moe {

namespace {

// What happens to one GGUF tensor: float rows added (or, replace, written instead) per row.
struct Change {
    std::vector<float> values; // [rows of the GGUF tensor, its row length]
    bool replace = false;
    std::vector<bool> touched; // rows covered (replace: rows not covered keep the base)
};

// The changes in HF layout: HF tensor name ("...q_proj.weight") -> [out, in] and replace or add.
struct HfChange {
    std::vector<float> values;
    std::vector<int64_t> shape;
    bool replace = false;
};

Result<std::map<std::string, HfChange>> readChanges(const std::string& resultPath) {
    std::map<std::string, HfChange> out;
    namespace fs = std::filesystem;
    if (fs::is_directory(resultPath) && fs::exists(resultPath + "/adapter_config.json")) {
        MOE_ASSIGN_OR_RETURN(train::PeftAdapter a, train::loadPeftAdapter(resultPath));
        const float scaling = ops::loraScaling(a.targets.loraAlpha, a.targets.loraRank, a.targets.rsLora);
        for (const std::string& m : a.targets.loraModules) {
            const auto& A = a.tensors.at(m + ".lora_A.weight");
            const auto& B = a.tensors.at(m + ".lora_B.weight");
            const auto& sa = a.shapes.at(m + ".lora_A.weight");
            const auto& sb = a.shapes.at(m + ".lora_B.weight");
            const int64_t r = sa[0], in = sa[1], o = sb[0];
            HfChange c;
            c.shape = {o, in};
            c.values.assign(size_t(o * in), 0.0f);
            for (int64_t i = 0; i < o; ++i)
                for (int64_t k = 0; k < r; ++k) {
                    const float b = scaling * B[size_t(i * r + k)];
                    for (int64_t j = 0; j < in; ++j)
                        c.values[size_t(i * in + j)] += b * A[size_t(k * in + j)];
                }
            out[m + ".weight"] = std::move(c);
        }
        return out;
    }
    std::string file = resultPath;
    if (fs::is_directory(resultPath)) file = resultPath + "/model.safetensors";
    MOE_ASSIGN_OR_RETURN(st::SafetensorsFile f, st::SafetensorsFile::open(file));
    for (const st::Tensor& t : f.tensors()) {
        HfChange c;
        c.replace = true;
        c.shape = t.shape;
        MOE_TRY(st::toF32(t, file, c.values));
        out[t.name] = std::move(c);
    }
    return out;
}

} // namespace

Result<MergeReport> mergeIntoGguf(const std::string& basePath, const std::string& resultPath,
                                  const std::string& outPath, const std::string& type) {
    if (basePath == outPath) return Status(StatusCode::InvalidArgument, "merge: " + outPath + " is also the base file");
    MOE_ASSIGN_OR_RETURN(std::shared_ptr<const Model> model, Model::load(basePath));
    if (model->info().format != "gguf")
        return Status(StatusCode::Unsupported, basePath + ": merge writes GGUF from a GGUF base (convert the folder first)");
    const ModelSpec& spec = model->spec();
    using Changes = std::map<std::string, HfChange>;
    MOE_ASSIGN_OR_RETURN(Changes hf, readChanges(resultPath));
    MOE_ASSIGN_OR_RETURN(gguf::GgufFile opened, gguf::GgufFile::open(basePath));
    auto in = std::make_shared<const gguf::GgufFile>(std::move(opened));
    std::map<std::string, const gguf::TensorEntry*> byName;
    for (const gguf::TensorEntry& t : in->tensors())
        byName[t.name] = &t;

    auto changes = std::make_shared<std::map<std::string, Change>>();
    auto changeFor = [&](const std::string& name) -> Change& {
        Change& c = (*changes)[name];
        if (c.values.empty()) {
            const gguf::TensorEntry* t = byName.at(name);
            c.values.assign(size_t(t->elements), 0.0f);
            c.touched.assign(size_t(t->elements / t->ne[0]), false);
        }
        return c;
    };
    auto put = [&](Change& c, int64_t row, const float* src, int64_t n, bool replace) {
        float* dst = c.values.data() + row * n;
        for (int64_t j = 0; j < n; ++j)
            dst[j] = replace ? src[j] : dst[j] + src[j];
        c.touched[size_t(row)] = true;
        c.replace = replace;
    };
    for (auto& [hfName, ch] : hf) {
        std::string canonical = hfToCanonical(hfName);
        if (canonical.empty()) canonical = hfName;
        train::reorderRopeRows(spec, hfName, ch.values, false); // into GGUF's row order
        const int64_t cols = ch.shape.size() == 2 ? ch.shape[1] : int64_t(ch.values.size());
        const int64_t rows = int64_t(ch.values.size()) / std::max<int64_t>(cols, 1);
        auto direct = byName.find(canonical);
        if (direct != byName.end()) {
            if (direct->second->elements != ch.values.size())
                return Status(StatusCode::InvalidArgument, resultPath + ": tensor '" + hfName + "' has " +
                                                               std::to_string(ch.values.size()) + " values, " + basePath +
                                                               " '" + canonical + "' has " +
                                                               std::to_string(direct->second->elements));
            Change& c = changeFor(canonical);
            for (int64_t r = 0; r < rows; ++r)
                put(c, r, ch.values.data() + r * cols, cols, ch.replace);
            continue;
        }
        // A routed expert's matrix inside the stacked tensor: blk.L.ffn_gate.E -> ffn_gate_exps rows.
        const size_t dot = canonical.rfind('.', canonical.size() - 8);
        const size_t dot2 = canonical.rfind('.', dot - 1);
        if (dot != std::string::npos && dot2 != std::string::npos) {
            const std::string kindPath = canonical.substr(0, dot2); // blk.L.ffn_gate
            const std::string stacked = kindPath + "_exps.weight";
            if (byName.count(stacked)) {
                const int e = std::stoi(canonical.substr(dot2 + 1, dot - dot2 - 1));
                Change& c = changeFor(stacked);
                for (int64_t r = 0; r < rows; ++r)
                    put(c, int64_t(e) * rows + r, ch.values.data() + r * cols, cols, ch.replace);
                continue;
            }
        }
        // DeepSeek kv_b [nh*(dn+dv), R] into attn_k_b [nh, R, dn] (transposed per head) and attn_v_b.
        const std::string kvb = "attn_kv_b.weight";
        if (canonical.size() > kvb.size() && canonical.compare(canonical.size() - kvb.size(), kvb.size(), kvb) == 0) {
            const std::string p = canonical.substr(0, canonical.size() - kvb.size());
            if (byName.count(p + "attn_k_b.weight") && byName.count(p + "attn_v_b.weight")) {
                const int nh = spec.nHead, dn = spec.qkNopeHeadDim, dv = spec.vHeadDim, R = spec.kvLoraRank;
                Change& kb = changeFor(p + "attn_k_b.weight");
                Change& vb = changeFor(p + "attn_v_b.weight");
                std::vector<float> row(static_cast<size_t>(dn), 0.0f);
                for (int h = 0; h < nh; ++h) {
                    for (int r = 0; r < R; ++r) {
                        for (int i = 0; i < dn; ++i)
                            row[size_t(i)] = ch.values[size_t((int64_t(h) * (dn + dv) + i) * R + r)];
                        put(kb, int64_t(h) * R + r, row.data(), dn, ch.replace);
                    }
                    for (int j = 0; j < dv; ++j)
                        put(vb, int64_t(h) * dv + j, ch.values.data() + (int64_t(h) * (dn + dv) + dn + j) * R, R,
                            ch.replace);
                }
                continue;
            }
        }
        return Status(StatusCode::InvalidArgument, resultPath + ": tensor '" + hfName + "' (" + canonical +
                                                       ") has no tensor in " + basePath);
    }

    std::optional<quants::QuantScheme> scheme;
    if (!type.empty()) {
        scheme = quants::quantScheme(type);
        if (!scheme) return Status(StatusCode::InvalidArgument, "merge: unknown type '" + type + "'");
    }
    gguf::GgufWriter w;
    w.setAlignment(in->alignment());
    for (const gguf::MetaEntry& e : in->metadata())
        w.addValue(e.key, e.value);
    MergeReport report;
    for (const gguf::TensorEntry& t : in->tensors()) {
        auto it = changes->find(t.name);
        if (it == changes->end()) {
            const gguf::TensorEntry* entry = &t;
            MOE_TRY(w.addTensor(t.name, t.ne, gguf::GgmlType(t.type), [in, entry](std::span<uint8_t> out) {
                std::memcpy(out.data(), in->tensorData(*entry), out.size());
                return Status::ok();
            }));
            continue;
        }
        uint32_t wanted = 0;
        uint32_t outType = scheme ? quants::schemeTensorType(*scheme, t.name, t.ne, &wanted) : t.type;
        if (!quants::canDequantize(t.type))
            return Status(StatusCode::Unsupported, basePath + ": tensor '" + t.name + "' is stored in a type merge cannot read");
        const int64_t rowLen = int64_t(t.ne[0]);
        const uint64_t rows = t.elements / t.ne[0];
        const size_t inRow = quants::rowBytes(t.type, rowLen), outRow = quants::rowBytes(outType, rowLen);
        const uint32_t inType = t.type;
        const gguf::TensorEntry* entry = &t;
        const Change* c = &it->second;
        report.merged.push_back(t.name);
        MOE_TRY(w.addTensor(t.name, t.ne, gguf::GgmlType(outType), [=](std::span<uint8_t> out) -> Status {
            const uint8_t* src = in->tensorData(*entry);
            std::vector<float> row(static_cast<size_t>(rowLen));
            for (uint64_t r = 0; r < rows; ++r) {
                MOE_TRY(quants::dequantizeRow(inType, src + r * inRow, row.data(), rowLen));
                if (c->touched[r]) {
                    const float* d = c->values.data() + r * uint64_t(rowLen);
                    for (int64_t j = 0; j < rowLen; ++j)
                        row[size_t(j)] = c->replace ? d[j] : row[size_t(j)] + d[j];
                }
                MOE_TRY(quants::quantizeRow(outType, row.data(), out.data() + r * outRow, rowLen));
            }
            (void)changes;
            return Status::ok();
        }));
    }
    report.mergedTensors = int(report.merged.size());
    MOE_TRY(w.write(outPath));
    return report;
}

} // namespace moe
