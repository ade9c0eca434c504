// Sampler statistics: greedy is argmax, temperature extremes, top-k support, top-p keeps the
// smallest prefix reaching the mass, empirical frequencies match the distribution, and the same
// seed gives the same draws.
#include "runtime/sampler.h"

#include <QTest>

#include <cmath>
#include <map>

using namespace moe;

namespace {

std::vector<float> someLogits() { return {1.0f, 3.0f, 0.5f, 2.0f, -1.0f, 3.0f, 0.0f, 2.5f}; }

SamplingParams params(float temperature, int topK, float topP, uint64_t seed = 1) {
    SamplingParams p;
    p.temperature = temperature;
    p.topK = topK;
    p.topP = topP;
    p.seed = seed;
    return p;
}

} // namespace

class TestSampler : public QObject {
    Q_OBJECT

private slots:
    void greedyIsArgmaxLowestIdOnTies() {
        Sampler s(params(0.0f, 0, 1.0f));
        QCOMPARE(s.sample(someLogits()), 1); // 1 and 5 tie at 3.0
    }

    void temperatureExtremes() {
        // Near zero: all mass on the max logits (two tied here).
        auto cold = Sampler(params(1e-4f, 0, 1.0f)).distribution(someLogits());
        QVERIFY(std::fabs(cold[0].p - 0.5f) < 1e-4f && std::fabs(cold[1].p - 0.5f) < 1e-4f);
        // Very hot: close to uniform.
        auto hot = Sampler(params(1e4f, 0, 1.0f)).distribution(someLogits());
        for (const Candidate& c : hot) QVERIFY(std::fabs(c.p - 1.0f / 8) < 1e-3f);
    }

    void topKLimitsSupport() {
        auto d = Sampler(params(1.0f, 3, 1.0f)).distribution(someLogits());
        QCOMPARE(d.size(), size_t(3));
        QCOMPARE(d[0].id, 1);
        QCOMPARE(d[1].id, 5);
        QCOMPARE(d[2].id, 7);
        double sum = 0;
        for (const Candidate& c : d) sum += c.p;
        QVERIFY(std::fabs(sum - 1.0) < 1e-6);
    }

    void topPKeepsSmallestPrefixReachingMass_data() {
        QTest::addColumn<float>("topP");
        QTest::newRow("0.1") << 0.1f;
        QTest::newRow("0.5") << 0.5f;
        QTest::newRow("0.9") << 0.9f;
        QTest::newRow("0.99") << 0.99f;
    }
    void topPKeepsSmallestPrefixReachingMass() {
        QFETCH(float, topP);
        auto full = Sampler(params(1.0f, 0, 1.0f)).distribution(someLogits());
        auto cut = Sampler(params(1.0f, 0, topP)).distribution(someLogits());
        double mass = 0, massWithoutLast = 0;
        for (size_t i = 0; i < cut.size(); ++i) {
            QCOMPARE(cut[i].id, full[i].id);
            mass += full[i].p;
            if (i + 1 < cut.size()) massWithoutLast += full[i].p;
        }
        QVERIFY(mass >= double(topP) - 1e-6);           // reaches the mass
        QVERIFY(massWithoutLast < double(topP) + 1e-6); // and is the smallest such prefix
    }

    void frequenciesMatchDistribution() {
        Sampler s(params(0.8f, 5, 0.95f, 42));
        auto d = s.distribution(someLogits());
        std::map<int, int> counts;
        const int n = 40000;
        for (int i = 0; i < n; ++i) counts[s.sample(someLogits())]++;
        for (const Candidate& c : d) {
            const double freq = double(counts[c.id]) / n;
            const double sigma = std::sqrt(double(c.p) * (1 - c.p) / n);
            QVERIFY2(std::fabs(freq - c.p) < 5 * sigma + 1e-9,
                     qPrintable(QString("id %1: p %2 freq %3").arg(c.id).arg(c.p).arg(freq)));
        }
        int outside = 0;
        for (auto [id, count] : counts) {
            bool inD = false;
            for (const Candidate& c : d) inD |= c.id == id;
            if (!inD) outside += count;
        }
        QCOMPARE(outside, 0);
    }

    void minPKeepsTokensNearTheTop() {
        SamplingParams p = params(1.0f, 0, 1.0f);
        p.minP = 0.3f;
        auto full = Sampler(params(1.0f, 0, 1.0f)).distribution(someLogits());
        auto cut = Sampler(p).distribution(someLogits());
        for (size_t i = 0; i < full.size(); ++i) {
            const bool kept = full[i].p >= 0.3f * full[0].p;
            QCOMPARE(i < cut.size(), kept);
        }
    }

    void logitBiasAndPenalties() {
        SamplingParams p = params(0.0f, 0, 1.0f);
        p.logitBias[4] = 10.0f; // -1 + 10 = 9: now the argmax
        QCOMPARE(Sampler(p).sample(someLogits()), 4);

        // Repetition penalty 2 (HF): positive logits halve, negative ones double.
        SamplingParams r = params(0.0f, 0, 1.0f);
        r.repetitionPenalty = 2.0f;
        const std::vector<int32_t> history = {1, 4, 4};
        std::vector<float> adj = Sampler(r).adjustedLogits(someLogits(), history);
        QCOMPARE(adj[1], 1.5f);
        QCOMPARE(adj[4], -2.0f); // counted once per distinct token
        QCOMPARE(adj[5], 3.0f);
        QCOMPARE(Sampler(r).sample(someLogits(), history), 5);

        // Presence and frequency (OpenAI): subtract presence + frequency * count.
        SamplingParams f = params(0.0f, 0, 1.0f);
        f.presencePenalty = 0.5f;
        f.frequencyPenalty = 0.25f;
        adj = Sampler(f).adjustedLogits(someLogits(), history);
        QCOMPARE(adj[4], -1.0f - 0.5f - 0.5f);
        QCOMPARE(adj[1], 3.0f - 0.75f);
        // The window: only the last penaltyLastN tokens count.
        f.penaltyLastN = 2;
        adj = Sampler(f).adjustedLogits(someLogits(), history);
        QCOMPARE(adj[1], 3.0f);
    }

    void logprobs() {
        const std::vector<float> l = someLogits();
        double sum = 0;
        for (float x : l) sum += std::exp(double(x));
        QVERIFY(std::fabs(Sampler::logSoftmaxAt(l, 2) - float(0.5 - std::log(sum))) < 1e-6f);
        auto top = Sampler::topLogprobs(l, 3);
        QCOMPARE(top.size(), size_t(3));
        QCOMPARE(top[0].id, 1);
        QCOMPARE(top[1].id, 5);
        QCOMPARE(top[2].id, 7);
        QVERIFY(Sampler::topLogprobs(l, 0).empty());
    }

    void seedHolds() {
        Sampler a(params(1.0f, 0, 1.0f, 7)), b(params(1.0f, 0, 1.0f, 7)), c(params(1.0f, 0, 1.0f, 8));
        std::vector<int> sa, sb, sc;
        for (int i = 0; i < 64; ++i) {
            sa.push_back(a.sample(someLogits()));
            sb.push_back(b.sample(someLogits()));
            sc.push_back(c.sample(someLogits()));
        }
        QCOMPARE(sa, sb);
        QVERIFY(sa != sc);
    }
};

QTEST_GUILESS_MAIN(TestSampler)
#include "test-sampler.moc"
