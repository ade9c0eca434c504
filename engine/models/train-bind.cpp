// Binding a model's weights for training: what is trained (TrainTargets), frozen views of the
// rest, Hugging Face names for everything saved, and the FFN blocks. See train-model.h.
#include "models/decoder.h"
#include "models/ffn.h"
#include "models/train-model.h"
#include "ops/ops-backward.h"

#include <algorithm>
#include <cmath>
#include <random>

namespace moe::train {

std::string hfTensorName(const ModelSpec& s, const std::string& c) {
    if (c == "token_embd.weight") return "model.embed_tokens.weight";
    if (c == "output_norm.weight") return "model.norm.weight";
    if (c == "output.weight") return "lm_head.weight";
    if (c.rfind("blk.", 0) != 0) return c;
    const size_t dot = c.find('.', 4);
    const std::string il = c.substr(4, dot - 4);
    std::string rest = c.substr(dot + 1);
    const std::string p = "model.layers." + il + ".";
    std::string suffix = ".weight";
    if (rest.size() > 5 && rest.compare(rest.size() - 5, 5, ".bias") == 0) {
        suffix = ".bias";
        rest.resize(rest.size() - 5);
    } else if (rest.size() > 7 && rest.compare(rest.size() - 7, 7, ".weight") == 0) {
        rest.resize(rest.size() - 7);
    }
    const bool mixtral = s.architecture == "llama" && s.nExpert > 0;
    const std::string moe = mixtral ? "block_sparse_moe." : "mlp.";
    const std::string shared = s.family == "deepseek" ? "mlp.shared_experts." : "mlp.shared_expert.";
    static const std::pair<const char*, const char*> kNames[] = {
        {"attn_norm", "input_layernorm"},
        {"ffn_norm", "post_attention_layernorm"},
        {"attn_q", "self_attn.q_proj"},
        {"attn_k", "self_attn.k_proj"},
        {"attn_v", "self_attn.v_proj"},
        {"attn_output", "self_attn.o_proj"},
        {"attn_q_norm", "self_attn.q_norm"},
        {"attn_k_norm", "self_attn.k_norm"},
        {"attn_q_a", "self_attn.q_a_proj"},
        {"attn_q_a_norm", "self_attn.q_a_layernorm"},
        {"attn_q_b", "self_attn.q_b_proj"},
        {"attn_kv_a_mqa", "self_attn.kv_a_proj_with_mqa"},
        {"attn_kv_a_norm", "self_attn.kv_a_layernorm"},
        {"attn_kv_b", "self_attn.kv_b_proj"},
        {"ffn_gate", "mlp.gate_proj"},
        {"ffn_up", "mlp.up_proj"},
        {"ffn_down", "mlp.down_proj"},
    };
    for (const auto& [from, to] : kNames)
        if (rest == from) return p + to + suffix;
    if (rest == "ffn_gate_inp") return p + moe + "gate" + suffix;
    if (rest == "ffn_gate_inp_shexp") return p + "mlp.shared_expert_gate" + suffix;
    for (const char* kind : {"gate", "up", "down"}) {
        const std::string k = std::string("ffn_") + kind;
        if (rest == k + "_shexp") return p + shared + kind + "_proj" + suffix;
        if (rest.rfind(k + ".", 0) == 0) { // per-expert "ffn_gate.5"
            const std::string e = rest.substr(k.size() + 1);
            const std::string w = !mixtral ? std::string(kind) + "_proj"
                                  : std::string(kind) == "gate" ? "w1"
                                  : std::string(kind) == "up"   ? "w3"
                                                                : "w2";
            return p + moe + "experts." + e + "." + w + suffix;
        }
    }
    return c;
}

TrainBinder::TrainBinder(const WeightSource& src, const ModelSpec& spec, const TrainTargets& targets,
                         std::deque<Param>& params, std::deque<std::vector<float>>& owned)
    : m_src(src), m_spec(spec), m_targets(targets), m_params(params), m_owned(owned) {}

std::vector<float>& TrainBinder::own(size_t n) {
    auto& v = m_owned.emplace_back();
    v.resize(n);
    return v;
}

Result<ops::RopeFreqs> TrainBinder::rope(int nRot) const {
    auto f = ropeFreqsFor(m_spec, nRot);
    if (!f.isOk()) return Status(f.status().code(), m_src.location() + ": " + f.status().message());
    return *f;
}

Param& TrainBinder::add(const std::string& name) {
    Param& p = m_params.emplace_back();
    p.name = name;
    return p;
}

bool TrainBinder::loraWanted(const std::string& module) const {
    if (m_targets.loraRank <= 0) return false;
    for (const std::string& t : m_targets.loraModules) {
        if (t == "all-linear") return module != "lm_head";
        if (module == t) return true;
        if (module.size() > t.size() && module.compare(module.size() - t.size(), t.size(), t) == 0 &&
            module[module.size() - t.size() - 1] == '.')
            return true;
    }
    return false;
}

namespace {

std::string moduleOf(const std::string& hfName) {
    const size_t dot = hfName.rfind('.');
    return dot == std::string::npos ? hfName : hfName.substr(0, dot);
}

} // namespace

Linear TrainBinder::linearFromView(const ops::WeightView& w, const std::string& canonical, int esftLayer,
                                   int esftExpert, bool isRouter) {
    Linear l;
    l.frozen = w;
    const std::string hf = hfTensorName(m_spec, canonical);
    l.module = moduleOf(hf);
    bool full = m_targets.full && !(isRouter && m_targets.freezeRouter);
    if (!full && esftExpert >= 0) {
        auto it = m_targets.esftExperts.find(esftLayer);
        full = it != m_targets.esftExperts.end() &&
               std::find(it->second.begin(), it->second.end(), esftExpert) != it->second.end();
    }
    if (full) {
        l.weight = &add(hf);
        initFromWeight(*l.weight, w, hf);
    }
    if (loraWanted(l.module) && !(isRouter && m_targets.freezeRouter)) {
        const int r = m_targets.loraRank;
        Param& a = add(l.module + ".lora_A.weight");
        Param& b = add(l.module + ".lora_B.weight");
        a.shape = {r, w.cols};
        b.shape = {w.rows, r};
        // PEFT's init: A ~ kaiming_uniform(a = sqrt(5)) = U(-1/sqrt(in), 1/sqrt(in)), B = 0.
        std::mt19937_64 rng(m_targets.seed ^ (m_nextKey * 0x9e3779b97f4a7c15ull));
        const float bound = 1.0f / std::sqrt(float(w.cols));
        std::uniform_real_distribution<float> u(-bound, bound);
        a.value.resize(size_t(r) * size_t(w.cols));
        for (float& x : a.value)
            x = u(rng);
        b.value.assign(size_t(w.rows) * size_t(r), 0.0f);
        a.zeroGrad();
        b.zeroGrad();
        l.lora.a = &a;
        l.lora.b = &b;
        l.lora.rank = r;
        l.lora.scaling = ops::loraScaling(m_targets.loraAlpha, r, m_targets.rsLora);
        l.lora.dropout = m_targets.loraDropout;
        l.lora.key = m_nextKey;
    }
    ++m_nextKey;
    return l;
}

Result<Linear> TrainBinder::linear(const std::string& canonical, int64_t rows, int64_t cols, int esftLayer,
                                   int esftExpert, bool isRouter) {
    MOE_ASSIGN_OR_RETURN(ops::WeightView w, m_src.matrix(canonical, rows, cols));
    return linearFromView(w, canonical, esftLayer, esftExpert, isRouter);
}

TrainVector TrainBinder::vectorFrom(const float* data, int64_t n, const std::string& canonical) {
    TrainVector v;
    v.frozen = data;
    if (m_targets.full) {
        Param& p = add(hfTensorName(m_spec, canonical));
        p.shape = {n};
        p.value.assign(data, data + n);
        p.zeroGrad();
        v.param = &p;
    }
    return v;
}

Result<TrainVector> TrainBinder::vector(const std::string& canonical, int64_t n, bool optional) {
    if (optional && !m_src.find(canonical)) return TrainVector{};
    MOE_ASSIGN_OR_RETURN(const float* data, m_src.vectorF32(canonical, n));
    return vectorFrom(data, n, canonical);
}

Status bindTrainFfn(TrainBinder& b, int il, TrainFfn& f) {
    const ModelSpec& s = b.spec();
    const WeightSource& src = b.source();
    const std::string p = "blk." + std::to_string(il) + ".";
    const int64_t H = s.nEmbd;
    auto mlp = [&](const std::string& suffix, int64_t nFf, TrainMlp& m, int expert) -> Status {
        MOE_ASSIGN_OR_RETURN(m.gate, b.linear(p + "ffn_gate" + suffix + ".weight", nFf, H, il, expert));
        MOE_ASSIGN_OR_RETURN(m.up, b.linear(p + "ffn_up" + suffix + ".weight", nFf, H, il, expert));
        MOE_ASSIGN_OR_RETURN(m.down, b.linear(p + "ffn_down" + suffix + ".weight", H, nFf, il, expert));
        return Status::ok();
    };
    f.moe = isMoeLayer(s, il);
    if (!f.moe) return mlp("", s.nFfDense > 0 ? s.nFfDense : s.nFf, f.dense, -1);
    MOE_ASSIGN_OR_RETURN(f.router, b.linear(p + "ffn_gate_inp.weight", s.nExpert, H, -1, -1, true));
    if (src.find(p + "exp_probs_b.bias")) {
        MOE_ASSIGN_OR_RETURN(f.selectionBias, src.vectorF32(p + "exp_probs_b.bias", s.nExpert));
    }
    f.experts.resize(size_t(s.nExpert));
    for (int e = 0; e < s.nExpert; ++e) {
        const std::string stacked = p + "ffn_gate_exps.weight";
        if (src.find(stacked)) {
            // GGUF stacks experts: each expert's rows of the stack, under its per-expert name.
            TrainMlp& m = f.experts[size_t(e)];
            for (auto [kind, dst] : {std::pair{"gate", &m.gate}, std::pair{"up", &m.up}, std::pair{"down", &m.down}}) {
                const std::string k = std::string("ffn_") + kind;
                const bool down = dst == &m.down;
                const int64_t rows = down ? H : s.nFf, cols = down ? s.nFf : H;
                MOE_ASSIGN_OR_RETURN(ops::WeightView all, src.stacked(p + k + "_exps.weight", s.nExpert, rows, cols));
                *dst = b.linearFromView(all.rowsView(int64_t(e) * rows, rows), p + k + "." + std::to_string(e) + ".weight",
                                        il, e);
            }
            continue;
        }
        MOE_TRY(mlp("." + std::to_string(e), s.nFf, f.experts[size_t(e)], e));
    }
    if (s.nFfShared > 0) {
        MOE_TRY(mlp("_shexp", s.nFfShared, f.shared, -1));
        if (s.sharedExpertGate) {
            const std::string g = p + "ffn_gate_inp_shexp.weight";
            const WeightEntry* e = src.find(g);
            if (e && e->shape.size() == 2) {
                MOE_ASSIGN_OR_RETURN(ops::WeightView v, src.matrix(g, 1, H));
                std::vector<float>& row = b.own(size_t(H));
                v.rowToF32(0, row.data());
                f.sharedGate = b.vectorFrom(row.data(), H, g);
            } else {
                MOE_ASSIGN_OR_RETURN(f.sharedGate, b.vector(g, H));
            }
        }
    }
    return Status::ok();
}

} // namespace moe::train
