// The training-side reference ops (ops/ops-backward.h): cross-entropy with ignored positions,
// the embedding scatter-add, AdamW and global-norm clipping.
// Goldens: the cross-entropy loss by its definition in double, its gradient by central finite
// differences (finite-diff.h; h = 1e-2, tolerance 1e-3, measured ~2e-6); the embedding gather
// is linear, so its differences are exact up to rounding (h = 0.25, tolerance 1e-6); AdamW
// against torch.optim.AdamW's documented update evaluated by hand in double (numbers written out
// below; float32 within 2e-7); clipping against a 3-4-12 vector whose norm is 13.
#include "core/rng.h"
#include "core/thread-pool.h"
#include "finite-diff.h"
#include "ops/ops-backward.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <span>
#include <vector>

using namespace moe;
using namespace moe::test;

class TestTrainingOps : public QObject {
    Q_OBJECT

private slots:
    void crossEntropy();
    void crossEntropyErrors();
    void embedding();
    void adamwTwoSteps();
    void adamwMatchesFormula();
    void clipGradNorm();

private:
    ThreadPool m_pool{3};
};

// Loss by the definition in double; gradient by differences; ignored rows contribute nothing.
void TestTrainingOps::crossEntropy() {
    const int nTok = 7, nVocab = 11;
    const std::vector<int32_t> labels = {3, ops::kIgnoreLabel, 0, 10, ops::kIgnoreLabel, 7, 3};
    std::vector<float> logits = randomVec(size_t(nTok) * nVocab, 29, 4.0f), dl(logits.size());
    auto res = ops::crossEntropy(logits.data(), labels.data(), nTok, nVocab, 0, dl.data(), &m_pool);
    QVERIFY(res.isOk());
    QCOMPARE(res.value().counted, int64_t(5));
    double expect = 0;
    for (int t = 0; t < nTok; ++t) {
        if (labels[size_t(t)] == ops::kIgnoreLabel) continue;
        double z = 0;
        for (int v = 0; v < nVocab; ++v)
            z += std::exp(double(logits[size_t(t) * nVocab + size_t(v)]));
        expect += std::log(z) - logits[size_t(t) * nVocab + size_t(labels[size_t(t)])];
    }
    expect /= 5;
    QVERIFY(std::fabs(res.value().loss - expect) < 1e-6 * expect);
    auto loss = [&] {
        return ops::crossEntropy(logits.data(), labels.data(), nTok, nVocab, 0, nullptr, nullptr)
            .value()
            .loss;
    };
    const std::vector<double> num = numericGrad(logits, loss, 1e-2f);
    CHECK_GRAD(dl, num, 1e-3);
    for (int t : {1, 4})
        for (int v = 0; v < nVocab; ++v) {
            QCOMPARE(dl[size_t(t) * nVocab + size_t(v)], 0.0f);
            QCOMPARE(num[size_t(t) * nVocab + size_t(v)], 0.0);
        }
    // An explicit divisor (gradient accumulation over a batch of 20 counted positions).
    std::vector<float> dl20(logits.size());
    auto res20 =
        ops::crossEntropy(logits.data(), labels.data(), nTok, nVocab, 20, dl20.data(), nullptr);
    QVERIFY(res20.isOk());
    QVERIFY(std::fabs(res20.value().loss - expect * 5 / 20) < 1e-6 * expect);
    for (size_t i = 0; i < dl.size(); ++i)
        QVERIFY(std::fabs(dl20[i] - dl[i] * 5.0f / 20.0f) < 1e-7f);
    // Nothing counted: loss 0, gradient 0.
    const std::vector<int32_t> none(size_t(nTok), ops::kIgnoreLabel);
    std::fill(dl.begin(), dl.end(), 1.0f);
    auto empty = ops::crossEntropy(logits.data(), none.data(), nTok, nVocab, 0, dl.data(), nullptr);
    QVERIFY(empty.isOk());
    QCOMPARE(empty.value().counted, int64_t(0));
    QCOMPARE(empty.value().loss, 0.0);
    for (float g : dl)
        QCOMPARE(g, 0.0f);
}

void TestTrainingOps::crossEntropyErrors() {
    const std::vector<float> logits(3 * 4, 0.0f);
    for (int32_t bad : {4, -1, -99}) {
        const std::vector<int32_t> labels = {0, ops::kIgnoreLabel, bad};
        auto res = ops::crossEntropy(logits.data(), labels.data(), 3, 4, 0, nullptr, nullptr);
        QVERIFY(!res.isOk());
        QCOMPARE(res.status().code(), StatusCode::InvalidArgument);
        QVERIFY2(res.status().message().find("position 2") != std::string::npos,
                 res.status().message().c_str());
    }
}

// The gather is linear: differences are exact. Token 2 occurs three times, token 0 never.
void TestTrainingOps::embedding() {
    const int nVocab = 5, nTok = 6;
    const int64_t nEmbd = 7;
    const std::vector<int32_t> ids = {2, 4, 2, 1, 2, 3};
    std::vector<float> e = randomVec(size_t(nVocab) * nEmbd, 30),
                       r = randomVec(size_t(nTok) * nEmbd, 31), h(r.size());
    auto loss = [&] {
        for (int t = 0; t < nTok; ++t)
            std::copy_n(e.begin() + ids[size_t(t)] * nEmbd, nEmbd, h.begin() + t * nEmbd);
        return dotD(h, r);
    };
    std::vector<float> dE(e.size(), 0.0f);
    ops::embeddingBackward(ids.data(), r.data(), nTok, nEmbd, dE.data());
    CHECK_GRAD(dE, numericGrad(e, loss, 0.25f), 1e-6);
    for (int64_t i = 0; i < nEmbd; ++i)
        QCOMPARE(dE[size_t(i)], 0.0f);
}

// torch.optim.AdamW's documented update (lr 0.01, betas (0.9, 0.999), eps 1e-8, weight decay
// 0.1; m0 = v0 = 0), evaluated by hand in Python doubles for two steps:
//   p <- p (1 - lr wd);  m <- m + (1 - b1)(g - m);  v <- b2 v + (1 - b2) g^2
//   p <- p - lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
// p0 = (0.5, -1.25, 2.0), g1 = (0.3, -0.02, 1.5), g2 = (-0.1, 0.04, 1.0) gives
//   after step 1: p = (0.4895000003333333, -1.2387500049999975, 1.9880000000666667)
//   after step 2: p = (0.48500831479247475, -1.2411722891078092, 1.9763084788617649)
//                 m = (0.017, 0.0022, 0.235), v = (9.991e-05, 1.9996e-06, 3.24775e-03)
// float32 arithmetic: within 2e-7 relative of these.
void TestTrainingOps::adamwTwoSteps() {
    ops::AdamWParams hp;
    hp.lr = 0.01;
    hp.weightDecay = 0.1;
    std::vector<float> p = {0.5f, -1.25f, 2.0f}, m(3, 0.0f), v(3, 0.0f);
    const std::vector<float> g1 = {0.3f, -0.02f, 1.5f}, g2 = {-0.1f, 0.04f, 1.0f};
    const double p1[] = {0.4895000003333333, -1.2387500049999975, 1.9880000000666667};
    const double p2[] = {0.48500831479247475, -1.2411722891078092, 1.9763084788617649};
    const double m2[] = {0.017, 0.0022, 0.235}, v2[] = {9.991e-05, 1.9996e-06, 3.24775e-03};
    ops::adamwStep(p.data(), g1.data(), m.data(), v.data(), 3, 1, hp);
    for (int i = 0; i < 3; ++i)
        QVERIFY2(std::fabs(p[size_t(i)] - p1[i]) <= 2e-7 * std::fabs(p1[i]),
                 qPrintable(QString::number(p[size_t(i)], 'g', 10)));
    ops::adamwStep(p.data(), g2.data(), m.data(), v.data(), 3, 2, hp);
    for (int i = 0; i < 3; ++i) {
        QVERIFY2(std::fabs(p[size_t(i)] - p2[i]) <= 2e-7 * std::fabs(p2[i]),
                 qPrintable(QString::number(p[size_t(i)], 'g', 10)));
        QVERIFY(std::fabs(m[size_t(i)] - m2[i]) <= 1e-6 * std::fabs(m2[i]));
        QVERIFY(std::fabs(v[size_t(i)] - v2[i]) <= 1e-6 * std::fabs(v2[i]));
    }
}

// The same formula in double over 1,000 random parameters, three steps, default hyper-parameters
// and no weight decay (the decay multiply skipped, as torch skips it).
void TestTrainingOps::adamwMatchesFormula() {
    const size_t n = 1000;
    const ops::AdamWParams hp{2e-3, 0.85, 0.99, 1e-6, 0.0};
    std::vector<float> p = randomVec(n, 32), m(n, 0.0f), v(n, 0.0f);
    std::vector<double> pd(p.begin(), p.end()), md(n, 0.0), vd(n, 0.0);
    double worst = 0;
    for (int step = 1; step <= 3; ++step) {
        const std::vector<float> g = randomVec(n, 40 + uint64_t(step), 0.5f);
        ops::adamwStep(p.data(), g.data(), m.data(), v.data(), int64_t(n), step, hp);
        for (size_t i = 0; i < n; ++i) {
            md[i] = md[i] + (1 - hp.beta1) * (g[i] - md[i]);
            vd[i] = hp.beta2 * vd[i] + (1 - hp.beta2) * double(g[i]) * g[i];
            pd[i] -= hp.lr / (1 - std::pow(hp.beta1, step)) * md[i] /
                     (std::sqrt(vd[i]) / std::sqrt(1 - std::pow(hp.beta2, step)) + hp.eps);
            worst = std::max(worst, std::fabs(p[i] - pd[i]) / std::max(std::fabs(pd[i]), 1e-3));
        }
    }
    QVERIFY2(worst < 1e-6, qPrintable(QString::number(worst)));
}

// clip_grad_norm_: gradients (3, 4) and (12) have norm 13; max 6.5 halves them (coefficient
// 6.5 / (13 + 1e-6)); max 100 leaves them alone.
void TestTrainingOps::clipGradNorm() {
    std::vector<float> a = {3.0f, 4.0f}, b = {12.0f};
    std::vector<std::span<float>> grads = {a, b};
    QCOMPARE(ops::clipGradNorm(grads, 100.0f), 13.0f);
    QCOMPARE(a[0], 3.0f);
    QCOMPARE(b[0], 12.0f);
    QCOMPARE(ops::clipGradNorm(grads, 6.5f), 13.0f);
    const double coef = 6.5 / (13.0 + 1e-6);
    QVERIFY(std::fabs(a[0] - 3.0 * coef) < 1e-6 && std::fabs(a[1] - 4.0 * coef) < 1e-6 &&
            std::fabs(b[0] - 12.0 * coef) < 1e-6);
    QCOMPARE(ops::clipGradNorm(grads, 0.0f), 6.5f);
}

QTEST_GUILESS_MAIN(TestTrainingOps)
#include "test-training-ops.moc"
