// The CPU reference backward ops of the forward pass (ops/ops-backward.h) against central finite
// differences of their forward references (ops/ops.h; loraForward after it is itself checked
// against the merged-weight product evaluated here in double), on odd shapes. Method and error
// measure: finite-diff.h.
//
// h = 1e-2 (the router too: no perturbation may change the chosen experts, which the test
// checks). The float32 forward rounds each output to ~6e-8 relative, which the division by 2h
// turns into ~1e-5 noise, and the O(h^2) truncation adds about as much: the tolerance is 1e-3
// (measured on this data: 7e-7 .. 8e-5, the largest for the sigmoid-normalized router whose
// gradient nearly cancels). Rope is linear, so its differences are exact up to rounding: h = 0.25,
// tolerance 1e-6 (measured < 1e-7). The LoRA forward is checked against
// y = x Wᵀ + s · B · A · (m ⊙ x) in double within 1e-6.
#include "core/half.h"
#include "core/rng.h"
#include "core/thread-pool.h"
#include "finite-diff.h"
#include "formats/gguf/gguf-types.h"
#include "ops/ops-backward.h"
#include "ops/ops.h"
#include "ops/quants/quants.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

using namespace moe;
using namespace moe::test;

namespace {

struct Weights {
    std::vector<uint8_t> bytes;
    ops::WeightView view;
};
Weights makeWeights(const std::vector<float>& w, int64_t rows, int64_t cols, gguf::GgmlType type) {
    Weights out;
    out.view.rows = rows;
    out.view.cols = cols;
    if (type == gguf::GgmlType::F32) {
        out.bytes.resize(w.size() * 4);
        std::memcpy(out.bytes.data(), w.data(), out.bytes.size());
    } else if (type == gguf::GgmlType::F16 || type == gguf::GgmlType::BF16) {
        out.view.type = type == gguf::GgmlType::F16 ? ops::WeightType::F16 : ops::WeightType::BF16;
        out.bytes.resize(w.size() * 2);
        auto* h = reinterpret_cast<uint16_t*>(out.bytes.data());
        for (size_t i = 0; i < w.size(); ++i)
            h[i] = type == gguf::GgmlType::F16 ? f32ToF16(w[i]) : f32ToBf16(w[i]);
    } else {
        out.view.type = ops::WeightType::Quantized;
        out.view.ggmlType = uint32_t(type);
        const size_t rb = quants::rowBytes(uint32_t(type), cols);
        out.bytes.resize(rb * size_t(rows));
        for (int64_t r = 0; r < rows; ++r)
            if (!quants::quantizeRow(uint32_t(type), w.data() + r * cols,
                                     out.bytes.data() + size_t(r) * rb, cols)
                     .isOk())
                out.bytes.clear();
    }
    out.view.data = out.bytes.data();
    return out;
}

} // namespace

class TestOpsBackward : public QObject {
    Q_OBJECT

private slots:
    void rmsnorm_data();
    void rmsnorm();
    void matmulInput_data();
    void matmulInput();
    void matmulWeightAndBias();
    void lora_data();
    void lora();
    void rope_data();
    void rope();
    void attention_data();
    void attention();
    void swiglu();
    void router_data();
    void router();

private:
    ThreadPool m_pool{3};
};

void TestOpsBackward::rmsnorm_data() {
    QTest::addColumn<int>("nTok");
    QTest::addColumn<int>("n");
    QTest::addColumn<float>("eps");
    QTest::addColumn<bool>("pooled");
    QTest::newRow("1x7") << 1 << 7 << 1e-6f << false;
    QTest::newRow("5x13") << 5 << 13 << 1e-5f << false;
    QTest::newRow("9x37 big eps") << 9 << 37 << 0.3f << false;
    QTest::newRow("131x127 pooled") << 131 << 127 << 1e-6f << true;
}

void TestOpsBackward::rmsnorm() {
    QFETCH(int, nTok);
    QFETCH(int, n);
    QFETCH(float, eps);
    QFETCH(bool, pooled);
    const size_t nx = size_t(nTok) * size_t(n);
    std::vector<float> x = randomVec(nx, 1, 2.0f), w = randomVec(size_t(n), 2),
                       r = randomVec(nx, 3), y(nx);
    auto loss = [&] {
        ops::rmsnorm(x.data(), w.data(), y.data(), nTok, n, eps);
        return dotD(y, r);
    };
    std::vector<float> dx(nx), dw(size_t(n), 0.0f);
    ops::rmsnormBackward(x.data(), w.data(), r.data(), dx.data(), dw.data(), nTok, n, eps,
                         pooled ? &m_pool : nullptr);
    CHECK_GRAD(dx, numericGrad(x, loss), 1e-3);
    CHECK_GRAD(dw, numericGrad(w, loss), 1e-3);
}

void TestOpsBackward::matmulInput_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("rows");
    QTest::addColumn<int>("cols");
    QTest::addColumn<int>("nTok");
    QTest::newRow("f32 7x13 t1") << int(gguf::GgmlType::F32) << 7 << 13 << 1;
    QTest::newRow("f32 37x29 t5") << int(gguf::GgmlType::F32) << 37 << 29 << 5;
    QTest::newRow("f16 11x9 t3") << int(gguf::GgmlType::F16) << 11 << 9 << 3;
    QTest::newRow("bf16 5x17 t4") << int(gguf::GgmlType::BF16) << 5 << 17 << 4;
    QTest::newRow("q8_0 13x96 t3") << int(gguf::GgmlType::Q8_0) << 13 << 96 << 3;
    QTest::newRow("q4_k 37x256 t5 pooled") << int(gguf::GgmlType::Q4_K) << 37 << 256 << 5;
}

// dx = dy · W through the dequantized rows: the finite differences run the forward matmul on
// the same stored weights, so quantized types are checked exactly like float ones.
void TestOpsBackward::matmulInput() {
    QFETCH(int, type);
    QFETCH(int, rows);
    QFETCH(int, cols);
    QFETCH(int, nTok);
    const Weights w =
        makeWeights(randomVec(size_t(rows) * size_t(cols), 4), rows, cols, gguf::GgmlType(type));
    QVERIFY(!w.bytes.empty());
    std::vector<float> x = randomVec(size_t(nTok) * size_t(cols), 5),
                       r = randomVec(size_t(nTok) * size_t(rows), 6), y(r.size()), dx(x.size());
    auto loss = [&] {
        ops::matmul(x.data(), nTok, w.view, y.data(), &m_pool);
        return dotD(y, r);
    };
    ops::matmulBackwardInput(r.data(), nTok, w.view, dx.data(), &m_pool);
    CHECK_GRAD(dx, numericGrad(x, loss), 1e-3);
}

// dW += dyᵀ · x for an F32 weight (with the pool: 41 rows over 3 threads), and db += sum_t dy.
void TestOpsBackward::matmulWeightAndBias() {
    const int rows = 41, cols = 33, nTok = 27;
    std::vector<float> wv = randomVec(size_t(rows) * size_t(cols), 7),
                       x = randomVec(size_t(nTok) * size_t(cols), 8),
                       b = randomVec(size_t(rows), 9),
                       r = randomVec(size_t(nTok) * size_t(rows), 10), y(r.size());
    ops::WeightView w;
    w.data = wv.data();
    w.rows = rows;
    w.cols = cols;
    auto loss = [&] {
        ops::matmul(x.data(), nTok, w, y.data(), nullptr);
        for (int t = 0; t < nTok; ++t)
            for (int i = 0; i < rows; ++i)
                y[size_t(t) * rows + size_t(i)] += b[size_t(i)];
        return dotD(y, r);
    };
    std::vector<float> dw(wv.size(), 0.0f), db(b.size(), 0.0f);
    ops::matmulBackwardWeight(x.data(), r.data(), nTok, rows, cols, dw.data(), &m_pool);
    ops::biasBackward(r.data(), nTok, rows, db.data());
    CHECK_GRAD(dw, numericGrad(wv, loss), 1e-3);
    CHECK_GRAD(db, numericGrad(b, loss), 1e-3);
    // Parameter gradients accumulate: a second call doubles them (up to rounding).
    std::vector<float> once = dw;
    ops::matmulBackwardWeight(x.data(), r.data(), nTok, rows, cols, dw.data(), &m_pool);
    for (size_t i = 0; i < dw.size(); ++i)
        QVERIFY(std::fabs(dw[i] - 2.0f * once[i]) <= 1e-5f * (1.0f + std::fabs(once[i])));
}

void TestOpsBackward::lora_data() {
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("nTok");
    QTest::addColumn<int>("nIn");
    QTest::addColumn<int>("nOut");
    QTest::addColumn<int>("rank");
    QTest::addColumn<bool>("rsLora");
    QTest::addColumn<float>("dropout");
    QTest::newRow("f32 r3") << int(gguf::GgmlType::F32) << 5 << 11 << 7 << 3 << false << 0.0f;
    QTest::newRow("f32 r4 rslora dropout")
        << int(gguf::GgmlType::F32) << 4 << 13 << 9 << 4 << true << 0.25f;
    QTest::newRow("bf16 r1") << int(gguf::GgmlType::BF16) << 3 << 10 << 6 << 1 << false << 0.0f;
    QTest::newRow("q8_0 r5 dropout")
        << int(gguf::GgmlType::Q8_0) << 6 << 64 << 5 << 5 << false << 0.5f;
}

void TestOpsBackward::lora() {
    QFETCH(int, type);
    QFETCH(int, nTok);
    QFETCH(int, nIn);
    QFETCH(int, nOut);
    QFETCH(int, rank);
    QFETCH(bool, rsLora);
    QFETCH(float, dropout);
    const float alpha = 8.0f;
    const float scaling = ops::loraScaling(alpha, rank, rsLora);
    QCOMPARE(scaling, rsLora ? alpha / std::sqrt(float(rank)) : alpha / float(rank));
    const Weights w =
        makeWeights(randomVec(size_t(nOut) * size_t(nIn), 11), nOut, nIn, gguf::GgmlType(type));
    QVERIFY(!w.bytes.empty());
    std::vector<float> x = randomVec(size_t(nTok) * size_t(nIn), 12),
                       a = randomVec(size_t(rank) * size_t(nIn), 13),
                       b = randomVec(size_t(nOut) * size_t(rank), 14),
                       r = randomVec(size_t(nTok) * size_t(nOut), 15), y(r.size()),
                       xa(size_t(nTok) * size_t(rank));
    std::vector<float> mask;
    if (dropout > 0) { // nn.Dropout in training: kept values scaled by 1/(1-p)
        Rng rng(16);
        for (size_t i = 0; i < x.size(); ++i)
            mask.push_back(rng.uniform() < dropout ? 0.0f : 1.0f / (1.0f - dropout));
    }
    const float* m = mask.empty() ? nullptr : mask.data();
    ops::LoraAdapter ad{a.data(), b.data(), rank, scaling};

    // The forward against PEFT's formula in double: y = x Wᵀ + s · B · A · (m ⊙ x).
    ops::loraForward(x.data(), nTok, w.view, ad, m, y.data(), xa.data(), nullptr);
    std::vector<float> wf(size_t(nOut) * size_t(nIn));
    for (int o = 0; o < nOut; ++o)
        w.view.rowToF32(o, wf.data() + size_t(o) * nIn);
    double errSq = 0, refSq = 0;
    for (int t = 0; t < nTok; ++t)
        for (int o = 0; o < nOut; ++o) {
            double base = 0, branch = 0;
            for (int i = 0; i < nIn; ++i) {
                const double xi = x[size_t(t) * nIn + size_t(i)];
                const double mi = m ? m[size_t(t) * nIn + size_t(i)] : 1.0;
                base += xi * wf[size_t(o) * nIn + size_t(i)];
                double ba = 0;
                for (int k = 0; k < rank; ++k)
                    ba += double(b[size_t(o) * rank + size_t(k)]) * a[size_t(k) * nIn + size_t(i)];
                branch += ba * mi * xi;
            }
            const double ref = base + double(scaling) * branch;
            errSq +=
                (y[size_t(t) * nOut + size_t(o)] - ref) * (y[size_t(t) * nOut + size_t(o)] - ref);
            refSq += ref * ref;
        }
    QVERIFY2(std::sqrt(errSq / refSq) < 1e-6,
             qPrintable(QString::number(std::sqrt(errSq / refSq))));

    auto loss = [&] {
        ops::loraForward(x.data(), nTok, w.view, ad, m, y.data(), nullptr, nullptr);
        return dotD(y, r);
    };
    std::vector<float> dx(x.size()), dA(a.size(), 0.0f), dB(b.size(), 0.0f);
    ops::loraBackward(x.data(), r.data(), nTok, w.view, ad, m, xa.data(), dx.data(), dA.data(),
                      dB.data(), &m_pool);
    CHECK_GRAD(dx, numericGrad(x, loss), 1e-3);
    CHECK_GRAD(dA, numericGrad(a, loss), 1e-3);
    CHECK_GRAD(dB, numericGrad(b, loss), 1e-3);
}

void TestOpsBackward::rope_data() {
    QTest::addColumn<bool>("interleaved");
    QTest::addColumn<int>("offset");
    QTest::addColumn<int>("nRot");
    QTest::addColumn<bool>("yarn");
    QTest::newRow("half full") << false << 0 << 8 << false;
    QTest::newRow("interleaved full") << true << 0 << 8 << false;
    QTest::newRow("half partial offset 3 yarn") << false << 3 << 6 << true;
    QTest::newRow("interleaved partial offset 5 yarn") << true << 5 << 4 << true;
}

// ropeApply is linear in x, so its differences are exact up to rounding. Positions out of order
// and large; YaRN makes the attention factor != 1 (mscale 1 over mscale_all_dim 0.5).
void TestOpsBackward::rope() {
    QFETCH(bool, interleaved);
    QFETCH(int, offset);
    QFETCH(int, nRot);
    QFETCH(bool, yarn);
    const int nTok = 5, nHead = 3, headStride = 11, rowStride = nHead * headStride + 2;
    ops::RopeScalingParams sp;
    if (yarn) {
        sp.type = "yarn";
        sp.factor = 4.0f;
        sp.maxPositions = 4096;
        sp.mscale = 1.0f;
        sp.mscaleAllDim = 0.5f;
    }
    const ops::RopeFreqs freqs = ops::ropeFrequencies(nRot, 10000.0f, sp);
    QVERIFY(!yarn || std::fabs(freqs.attentionFactor - 1.0f) > 0.05f);
    const std::vector<int32_t> pos = {0, 17, 3, 1000, 4095};
    std::vector<float> x = randomVec(size_t(nTok) * rowStride, 17), r = randomVec(x.size(), 18),
                       y(x.size());
    auto loss = [&] {
        y = x;
        ops::ropeApply(y.data(), nTok, rowStride, nHead, headStride, offset, nRot, pos.data(),
                       freqs, interleaved);
        return dotD(y, r);
    };
    std::vector<float> g = r;
    ops::ropeBackward(g.data(), nTok, rowStride, nHead, headStride, offset, nRot, pos.data(), freqs,
                      interleaved);
    CHECK_GRAD(g, numericGrad(x, loss, 0.25f), 1e-6);
}

void TestOpsBackward::attention_data() {
    QTest::addColumn<int>("nHead");
    QTest::addColumn<int>("nHeadKv");
    QTest::addColumn<int>("dk");
    QTest::addColumn<int>("dv");
    QTest::addColumn<int>("nTok");
    QTest::addColumn<int>("pos0");
    QTest::addColumn<int>("window");
    QTest::addColumn<bool>("shared"); // MLA: V = the first dv values of each K row
    QTest::newRow("gqa 6/2 dk5 dv3") << 6 << 2 << 5 << 3 << 7 << 0 << 0 << false;
    QTest::newRow("gqa 6/3 prefix 4") << 6 << 3 << 4 << 6 << 5 << 4 << 0 << false;
    QTest::newRow("mha 3/3 window 3") << 3 << 3 << 5 << 5 << 8 << 2 << 3 << false;
    QTest::newRow("mla shared 4/1 dk7 dv4") << 4 << 1 << 7 << 4 << 6 << 1 << 0 << true;
}

void TestOpsBackward::attention() {
    QFETCH(int, nHead);
    QFETCH(int, nHeadKv);
    QFETCH(int, dk);
    QFETCH(int, dv);
    QFETCH(int, nTok);
    QFETCH(int, pos0);
    QFETCH(int, window);
    QFETCH(bool, shared);
    ops::AttentionShape sh;
    sh.nHead = nHead;
    sh.nHeadKv = nHeadKv;
    sh.dk = dk;
    sh.dv = dv;
    sh.kStride = int64_t(nHeadKv) * dk + 1; // rows wider than their heads
    sh.vStride = shared ? sh.kStride : int64_t(nHeadKv) * dv + 2;
    sh.window = window;
    const int nRows = pos0 + nTok;
    const float scale = 0.7f;
    std::vector<float> q = randomVec(size_t(nTok) * nHead * dk, 19, 1.5f),
                       k = randomVec(size_t(nRows) * sh.kStride, 20, 1.5f),
                       v = shared ? std::vector<float>()
                                  : randomVec(size_t(nRows) * sh.vStride, 21),
                       r = randomVec(size_t(nTok) * nHead * dv, 22), out(r.size());
    const std::vector<float>& vRef = shared ? k : v;
    auto loss = [&] {
        ops::attention(q.data(), k.data(), vRef.data(), out.data(), nTok, pos0, sh, scale, nullptr);
        return dotD(out, r);
    };
    std::vector<float> dq(q.size()), dK(k.size(), 0.0f), dV(v.size(), 0.0f);
    ops::attentionBackward(q.data(), k.data(), vRef.data(), r.data(), dq.data(), dK.data(),
                           shared ? dK.data() : dV.data(), nTok, pos0, sh, scale, &m_pool);
    CHECK_GRAD(dq, numericGrad(q, loss), 1e-3);
    CHECK_GRAD(dK, numericGrad(k, loss), 1e-3);
    if (!shared) CHECK_GRAD(dV, numericGrad(v, loss), 1e-3);
}

void TestOpsBackward::swiglu() {
    const size_t n = 37;
    std::vector<float> gate = randomVec(n, 23, 4.0f), up = randomVec(n, 24), r = randomVec(n, 25),
                       out(n);
    auto loss = [&] {
        ops::swiglu(gate.data(), up.data(), out.data(), int64_t(n));
        return dotD(out, r);
    };
    std::vector<float> dGate(n), dUp(n);
    ops::swigluBackward(gate.data(), up.data(), r.data(), dGate.data(), dUp.data(), int64_t(n));
    CHECK_GRAD(dGate, numericGrad(gate, loss), 1e-3);
    CHECK_GRAD(dUp, numericGrad(up, loss), 1e-3);
}

void TestOpsBackward::router_data() {
    QTest::addColumn<bool>("sigmoid");
    QTest::addColumn<int>("nGroup");
    QTest::addColumn<int>("k");
    QTest::addColumn<bool>("normalize");
    QTest::addColumn<float>("scale");
    QTest::addColumn<bool>("bias");
    QTest::newRow("softmax top2 (Mixtral)") << false << 1 << 2 << true << 1.0f << false;
    QTest::newRow("softmax top3 no norm (Qwen2-MoE)") << false << 1 << 3 << false << 1.0f << false;
    QTest::newRow("softmax groups scale 16 (V2)") << false << 4 << 3 << false << 16.0f << false;
    QTest::newRow("sigmoid norm scale 2.5 bias groups (V3)")
        << true << 4 << 3 << true << 2.5f << true;
    QTest::newRow("sigmoid no norm top1") << true << 1 << 1 << false << 1.0f << false;
}

// route() is the forward; each perturbation must leave the chosen experts unchanged (the
// gradient is that of the fixed selection, as in transformers), which the loss checks.
void TestOpsBackward::router() {
    QFETCH(bool, sigmoid);
    QFETCH(int, nGroup);
    QFETCH(int, k);
    QFETCH(bool, normalize);
    QFETCH(float, scale);
    QFETCH(bool, bias);
    const int nTok = 5, nExpert = 12;
    ops::RouterParams rp;
    rp.sigmoid = sigmoid;
    rp.groupByTopTwoSum = sigmoid;
    rp.nGroup = nGroup;
    rp.topkGroup = nGroup > 1 ? 2 : 1;
    rp.k = k;
    rp.normalize = normalize;
    rp.scale = scale;
    // Positive biased scores, so no masked expert (0.0, HF's fill) ever outranks a kept one.
    std::vector<float> biasV = randomVec(size_t(nExpert), 26, 0.05f);
    for (float& b : biasV)
        b += 0.05f;
    if (bias) rp.bias = biasV.data();
    std::vector<float> logits = randomVec(size_t(nTok) * nExpert, 27, 3.0f),
                       r = randomVec(size_t(nTok) * k, 28), w(r.size());
    std::vector<int32_t> ids0(r.size()), ids(r.size());
    ops::route(logits.data(), nTok, nExpert, rp, ids0.data(), w.data());
    bool selectionHeld = true;
    auto loss = [&] {
        ops::route(logits.data(), nTok, nExpert, rp, ids.data(), w.data());
        if (ids != ids0 && selectionHeld) {
            for (size_t i = 0; i < ids.size(); ++i)
                if (ids[i] != ids0[i])
                    qWarning("token %d: slot %d chose %d, not %d", int(i) / k, int(i) % k, ids[i],
                             ids0[i]);
            selectionHeld = false;
        }
        return dotD(w, r);
    };
    std::vector<float> dl(logits.size());
    ops::routeBackward(logits.data(), ids0.data(), r.data(), nTok, nExpert, rp, dl.data());
    const std::vector<double> num = numericGrad(logits, loss, 1e-2f);
    QVERIFY2(selectionHeld, "a perturbation changed the chosen experts; pick other logits");
    CHECK_GRAD(dl, num, 1e-3);
    if (sigmoid) // unchosen experts receive nothing through sigmoid scores
        for (int t = 0; t < nTok; ++t)
            for (int e = 0; e < nExpert; ++e)
                if (std::find(ids0.begin() + t * k, ids0.begin() + (t + 1) * k, e) ==
                    ids0.begin() + (t + 1) * k)
                    QCOMPARE(dl[size_t(t) * nExpert + size_t(e)], 0.0f);
}

QTEST_GUILESS_MAIN(TestOpsBackward)
#include "test-ops-backward.moc"
