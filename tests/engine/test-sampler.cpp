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
