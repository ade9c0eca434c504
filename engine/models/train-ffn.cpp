// Feed-forward blocks for training: dense SwiGLU MLP and the MoE block (router, routed experts
// grouped per expert, shared expert with Qwen2-MoE's sigmoid gate), forward and backward.
// Routing follows the model's config exactly as inference does (ops::route); the backward holds
// the chosen experts fixed and sends gradients through their weights into the router logits
// (ops::routeBackward), as transformers does. Per-expert token groups are gathered once in the
// forward and kept for the backward.
#include "models/train-blocks.h"

#include "models/ffn.h"

#include "ops/ops-backward.h"

#include <algorithm>
#include <cmath>

namespace moe::train {

namespace {

void mlpForward(const TrainMlp& m, const float* x, int n, float* y, Saved& s, const std::string& p,
                const TrainContext& ctx) {
    const size_t ff = size_t(m.gate.out());
    auto& g = s.floats(p + "g", size_t(n) * ff);
    auto& u = s.floats(p + "u", size_t(n) * ff);
    auto& a = s.floats(p + "a", size_t(n) * ff);
    linearForward(m.gate, x, n, g.data(), &s.lin[p + "gate"], ctx);
    linearForward(m.up, x, n, u.data(), &s.lin[p + "up"], ctx);
    ops::swiglu(g.data(), u.data(), a.data(), int64_t(a.size()));
    linearForward(m.down, a.data(), n, y, &s.lin[p + "down"], ctx);
}

// dx written (accumulate: added).
void mlpBackward(const TrainMlp& m, const float* x, int n, const float* dy, float* dx, bool accumulate, Saved& s,
                 const std::string& p, const TrainContext& ctx) {
    const size_t ff = size_t(m.gate.out());
    const auto& g = s.f[p + "g"];
    const auto& u = s.f[p + "u"];
    const auto& a = s.f[p + "a"];
    std::vector<float> da(size_t(n) * ff), dg(da.size()), du(da.size());
    linearBackward(m.down, a.data(), dy, n, da.data(), false, s.lin[p + "down"], ctx);
    ops::swigluBackward(g.data(), u.data(), da.data(), dg.data(), du.data(), int64_t(da.size()));
    linearBackward(m.gate, x, dg.data(), n, dx, accumulate, s.lin[p + "gate"], ctx);
    linearBackward(m.up, x, du.data(), n, dx, true, s.lin[p + "up"], ctx);
}

ops::RouterParams routerParams(const ModelSpec& s, const TrainFfn& f) {
    return routerParamsFor(s, s.nExpertUsed, f.selectionBias);
}

// "e<index>." (built piecewise: GCC 12 -O3 warns falsely on "literal" + to_string(...)).
std::string expertPrefix(int e) {
    std::string p = std::to_string(e);
    p.insert(p.begin(), 'e');
    p.push_back('.');
    return p;
}

float sigmoid(float z) {
    return 1.0f / (1.0f + std::exp(-z));
}

// The routed weights of given choices ids [nTok, k]: what ops::route computes once it has chosen
// (scores of the chosen, normalized, scaled), the function ops::routeBackward differentiates.
void fixedRouteWeights(const float* logits, const int32_t* ids, int nTok, int nExp, const ops::RouterParams& rp,
                       float* w) {
    std::vector<float> p(static_cast<size_t>(nExp), 0.0f);
    for (int t = 0; t < nTok; ++t) {
        const float* l = logits + int64_t(t) * nExp;
        if (rp.sigmoid) {
            for (int e = 0; e < nExp; ++e)
                p[size_t(e)] = sigmoid(l[e]);
        } else {
            p.assign(l, l + nExp);
            ops::softmax(p.data(), nExp);
        }
        float sum = 0;
        for (int j = 0; j < rp.k; ++j)
            sum += p[size_t(ids[t * rp.k + j])];
        for (int j = 0; j < rp.k; ++j) {
            const float v = p[size_t(ids[t * rp.k + j])];
            w[t * rp.k + j] = (rp.normalize ? v / (sum + 1e-20f) : v) * rp.scale;
        }
    }
}

} // namespace

Status ffnForwardTrain(const ModelSpec& s, const TrainFfn& f, const float* x, int nTok, float* out, Saved& saved,
                       const TrainContext& ctx) {
    const int64_t H = s.nEmbd;
    if (!f.moe) {
        mlpForward(f.dense, x, nTok, out, saved, "mlp.", ctx);
        return Status::ok();
    }
    const int nExp = s.nExpert, k = s.nExpertUsed;
    auto& logits = saved.floats("router.logits", size_t(nTok) * size_t(nExp));
    auto& w = saved.floats("router.w", size_t(nTok) * size_t(k));
    auto& ids = saved.i["router.ids"];
    ids.resize(size_t(nTok) * size_t(k));
    linearForward(f.router, x, nTok, logits.data(), &saved.lin["router"], ctx);
    const ops::RouterParams rp = routerParams(s, f);
    if (ctx.routing == TrainContext::Routing::Replay && ctx.routes && ctx.routes->count(&f)) {
        ids = ctx.routes->at(&f);
        fixedRouteWeights(logits.data(), ids.data(), nTok, nExp, rp, w.data());
    } else {
        ops::route(logits.data(), nTok, nExp, rp, ids.data(), w.data());
        if (ctx.routing == TrainContext::Routing::Record && ctx.routes) (*ctx.routes)[&f] = ids;
    }
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= nExp)
            return Status(StatusCode::Internal, "router chose no valid expert for a token (slot " +
                                                    std::to_string(i) + ")");
    std::fill(out, out + int64_t(nTok) * H, 0.0f);
    for (int e = 0; e < nExp; ++e) {
        // The rows routed to expert e, as (token, slot) pairs in token order.
        std::vector<int32_t> slots;
        for (int t = 0; t < nTok; ++t)
            for (int j = 0; j < k; ++j)
                if (ids[size_t(t) * size_t(k) + size_t(j)] == e) slots.push_back(t * k + j);
        const std::string p = expertPrefix(e);
        saved.i[p + "slots"] = slots;
        if (slots.empty()) continue;
        const int n = int(slots.size());
        auto& xe = saved.floats(p + "x", size_t(n) * size_t(H));
        for (int r = 0; r < n; ++r)
            std::copy_n(x + int64_t(slots[size_t(r)] / k) * H, H, xe.data() + int64_t(r) * H);
        auto& ye = saved.floats(p + "y", size_t(n) * size_t(H));
        mlpForward(f.experts[size_t(e)], xe.data(), n, ye.data(), saved, p, ctx);
        for (int r = 0; r < n; ++r) {
            const int slot = slots[size_t(r)];
            const float wt = w[size_t(slot)];
            float* o = out + int64_t(slot / k) * H;
            for (int64_t c = 0; c < H; ++c)
                o[c] += wt * ye[size_t(int64_t(r) * H + c)];
        }
    }
    if (f.shared.present()) {
        auto& ys = saved.floats("shared.y", size_t(nTok) * size_t(H));
        mlpForward(f.shared, x, nTok, ys.data(), saved, "shared.", ctx);
        if (const float* sg = f.sharedGate.data()) {
            auto& gate = saved.floats("shared.gate", size_t(nTok));
            for (int t = 0; t < nTok; ++t) {
                float z = 0;
                for (int64_t c = 0; c < H; ++c)
                    z += x[int64_t(t) * H + c] * sg[c];
                gate[size_t(t)] = sigmoid(z);
                for (int64_t c = 0; c < H; ++c)
                    out[int64_t(t) * H + c] += gate[size_t(t)] * ys[size_t(int64_t(t) * H + c)];
            }
        } else {
            for (size_t i = 0; i < ys.size(); ++i)
                out[i] += ys[i];
        }
    }
    return Status::ok();
}

void ffnBackwardTrain(const ModelSpec& s, const TrainFfn& f, const float* x, int nTok, const float* dOut, float* dx,
                      Saved& saved, const TrainContext& ctx) {
    const int64_t H = s.nEmbd;
    if (!f.moe) {
        mlpBackward(f.dense, x, nTok, dOut, dx, false, saved, "mlp.", ctx);
        return;
    }
    const int nExp = s.nExpert, k = s.nExpertUsed;
    std::fill(dx, dx + int64_t(nTok) * H, 0.0f);
    const auto& w = saved.f["router.w"];
    std::vector<float> dw(size_t(nTok) * size_t(k), 0.0f);
    for (int e = 0; e < nExp; ++e) {
        const std::string p = expertPrefix(e);
        const auto& slots = saved.i[p + "slots"];
        if (slots.empty()) continue;
        const int n = int(slots.size());
        const auto& xe = saved.f[p + "x"];
        const auto& ye = saved.f[p + "y"];
        // out[t] += w · ye  =>  dye = w · dOut[t];  dw = <dOut[t], ye>.
        std::vector<float> dye(size_t(n) * size_t(H)), dxe(dye.size());
        for (int r = 0; r < n; ++r) {
            const int slot = slots[size_t(r)];
            const float* d = dOut + int64_t(slot / k) * H;
            const float wt = w[size_t(slot)];
            double dot = 0;
            for (int64_t c = 0; c < H; ++c) {
                dye[size_t(int64_t(r) * H + c)] = wt * d[c];
                dot += double(d[c]) * double(ye[size_t(int64_t(r) * H + c)]);
            }
            dw[size_t(slot)] = float(dot);
        }
        mlpBackward(f.experts[size_t(e)], xe.data(), n, dye.data(), dxe.data(), false, saved, p, ctx);
        for (int r = 0; r < n; ++r) {
            float* d = dx + int64_t(slots[size_t(r)] / k) * H;
            for (int64_t c = 0; c < H; ++c)
                d[c] += dxe[size_t(int64_t(r) * H + c)];
        }
    }
    std::vector<float> dLogits(size_t(nTok) * size_t(nExp));
    ops::routeBackward(saved.f["router.logits"].data(), saved.i["router.ids"].data(), dw.data(), nTok, nExp,
                       routerParams(s, f), dLogits.data());
    linearBackward(f.router, x, dLogits.data(), nTok, dx, true, saved.lin["router"], ctx);

    if (!f.shared.present()) return;
    const auto& ys = saved.f["shared.y"];
    if (!f.sharedGate.data()) {
        mlpBackward(f.shared, x, nTok, dOut, dx, true, saved, "shared.", ctx);
        return;
    }
    // out += g · ys, g = sigmoid(x · sg):  dys = g · dOut;  dz = <dOut, ys> · g (1 - g).
    const float* sg = f.sharedGate.data();
    const auto& gate = saved.f["shared.gate"];
    std::vector<float> dys(size_t(nTok) * size_t(H));
    float* dsg = f.sharedGate.param ? f.sharedGate.param->grad.data() : nullptr;
    for (int t = 0; t < nTok; ++t) {
        const float g = gate[size_t(t)];
        double dot = 0;
        for (int64_t c = 0; c < H; ++c) {
            const size_t i = size_t(int64_t(t) * H + c);
            dys[i] = g * dOut[i];
            dot += double(dOut[i]) * double(ys[i]);
        }
        const float dz = float(dot) * g * (1.0f - g);
        for (int64_t c = 0; c < H; ++c) {
            dx[int64_t(t) * H + c] += dz * sg[c];
            if (dsg) dsg[c] += dz * x[int64_t(t) * H + c];
        }
    }
    mlpBackward(f.shared, x, nTok, dys.data(), dx, true, saved, "shared.", ctx);
}

} // namespace moe::train
