// BatchSession: several sequences in one forward (prefill beside decode, different lengths and
// positions) over one paged KV cache must give each sequence the logits a lone Session gives it.
// Models: the transformers-made tiny checkpoints of tests/data/parity (GQA-MoE with biases and a
// gated shared expert, DeepSeek MLA with a latent cache, Mixtral); the reference is our own
// single-sequence path, which test-parity holds to transformers' logits.
#include "moe/batch.h"
#include "moe/model.h"
#include "moe/session.h"

#include <QTest>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace moe;

namespace {

float relativeError(const std::vector<float>& a, const std::vector<float>& b) {
    float diff = 0, ref = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        diff = std::max(diff, std::fabs(a[i] - b[i]));
        ref = std::max(ref, std::fabs(b[i]));
    }
    return diff / std::max(ref, 1e-30f);
}

std::vector<int32_t> ramp(int n, int start, int nVocab) {
    std::vector<int32_t> v;
    for (int i = 0; i < n; ++i) v.push_back(int32_t((start + 37 * i) % nVocab));
    return v;
}

} // namespace

class TestBatch : public QObject {
    Q_OBJECT

private slots:
    void matchesSingleSessions_data() {
        QTest::addColumn<QString>("model");
        for (const char* c : {"mixtral", "qwen2_moe", "deepseek_v3", "deepseek_v2_lite"})
            QTest::newRow(c) << QString(c);
    }

    // Three sequences: step 1 prefills two of them (10 and 3 tokens), step 2 decodes one, extends
    // another by 5 and prefills a third (7), steps 3-6 decode all three. Pages of 4 rows, so the
    // sequences' rows interleave in the pool and every sequence crosses pages.
    void matchesSingleSessions() {
        QFETCH(QString, model);
        auto loaded = Model::load((QStringLiteral(MOE_TEST_DATA_DIR) + "/parity/" + model).toStdString());
        QVERIFY2(loaded.isOk(), loaded.status().message().c_str());
        std::shared_ptr<const Model> m = *loaded;
        const int nVocab = m->spec().nVocab;
        BatchOptions o;
        o.maxSequences = 3;
        o.maxSeqLen = 64;
        o.nThreads = 2;
        o.pageSize = 4;
        auto batch = BatchSession::create(m, o);
        QVERIFY2(batch.isOk(), batch.status().message().c_str());
        std::vector<std::unique_ptr<Session>> single;
        for (int i = 0; i < 3; ++i) {
            auto id = (*batch)->addSequence();
            QVERIFY(id.isOk());
            QCOMPARE(*id, i);
            SessionOptions so;
            so.nCtx = 64;
            so.nThreads = 1;
            auto s = Session::create(m, so);
            QVERIFY(s.isOk());
            single.push_back(std::move(*s));
        }
        std::vector<std::vector<SequenceStep>> plan = {
            {{0, ramp(10, 1, nVocab)}, {1, ramp(3, 5, nVocab)}},
            {{0, {7}}, {1, ramp(5, 11, nVocab)}, {2, ramp(7, 2, nVocab)}},
        };
        for (int k = 0; k < 4; ++k)
            plan.push_back({{0, {int32_t(20 + k)}}, {1, {int32_t(40 + k)}}, {2, {int32_t(60 + k)}}});
        float worst = 0;
        for (const auto& steps : plan) {
            auto got = (*batch)->step(steps);
            QVERIFY2(got.isOk(), got.status().message().c_str());
            QCOMPARE(got->size(), steps.size());
            for (size_t i = 0; i < steps.size(); ++i) {
                auto ref = single[size_t(steps[i].sequence)]->evaluate(steps[i].tokens, true);
                QVERIFY(ref.isOk());
                worst = std::max(worst, relativeError((*got)[i], *ref));
            }
        }
        qInfo("%s: worst relative difference batch vs single sessions %g", qPrintable(model), double(worst));
        QVERIFY(worst <= 1e-4f);
        QCOMPARE((*batch)->position(0), 10 + 1 + 4);
        QCOMPARE((*batch)->position(2), 7 + 4);
    }

    // A session's sliding window: positions attend to the last N only. A window as long as the
    // context gives the full context's logits; a window of 8 leaves the first 8 positions as they
    // were and changes the later ones; a negative window other than -1 is refused.
    void slidingWindowBounds() {
        auto m = Model::load((QStringLiteral(MOE_TEST_DATA_DIR) + "/parity/qwen2_moe").toStdString());
        QVERIFY(m.isOk());
        const std::vector<int32_t> tokens = ramp(40, 3, 256);
        auto run = [&](int window) {
            SessionOptions o;
            o.nCtx = 64;
            o.slidingWindow = window;
            auto s = Session::create(*m, o);
            return s.isOk() ? (*s)->evaluate(tokens) : Result<std::vector<float>>(s.status());
        };
        auto full = run(0), model = run(-1), wide = run(64), narrow = run(8);
        QVERIFY(full.isOk() && model.isOk() && wide.isOk() && narrow.isOk());
        QCOMPARE(*model, *full); // the parity Qwen2-MoE has no window of its own
        QCOMPARE(*wide, *full);
        const size_t v = 256;
        // The first 8 positions see the same keys either way; later ones do not.
        QCOMPARE(std::vector<float>(narrow->begin(), narrow->begin() + 8 * v),
                 std::vector<float>(full->begin(), full->begin() + 8 * v));
        QVERIFY(relativeError(std::vector<float>(narrow->end() - v, narrow->end()),
                              std::vector<float>(full->end() - v, full->end())) > 1e-3f);
        SessionOptions bad;
        bad.slidingWindow = -2;
        QVERIFY(!Session::create(*m, bad).isOk());
    }

    void pagesAreReusedAndLimitsHold() {
        auto m = Model::load((QStringLiteral(MOE_TEST_DATA_DIR) + "/parity/mixtral").toStdString());
        QVERIFY(m.isOk());
        BatchOptions o;
        o.maxSequences = 2;
        o.maxSeqLen = 64;
        o.totalTokens = 128; // two pages of 64
        auto b = BatchSession::create(*m, o);
        QVERIFY(b.isOk());
        auto s0 = (*b)->addSequence();
        auto s1 = (*b)->addSequence();
        QVERIFY(s0.isOk() && s1.isOk());
        QVERIFY(!(*b)->addSequence().isOk()); // both slots taken
        QVERIFY((*b)->step({{*s0, ramp(20, 3, 256)}}).isOk());
        QCOMPARE((*b)->freeTokens(), 64);
        // The same sequence twice in a step, and past the per-sequence context, are refused
        // without appending anything.
        QVERIFY(!(*b)->step({{*s1, {1}}, {*s1, {2}}}).isOk());
        auto full = (*b)->step({{*s1, ramp(65, 1, 256)}});
        QVERIFY(!full.isOk());
        QVERIFY(full.status().message().find("context") != std::string::npos);
        QCOMPARE((*b)->position(*s1), 0);
        QCOMPARE((*b)->freeTokens(), 64);
        // Removing a sequence returns its page; a new sequence in its place computes from scratch
        // exactly like the first one did.
        auto first = (*b)->step({{*s1, ramp(9, 4, 256)}});
        QVERIFY(first.isOk());
        QVERIFY((*b)->removeSequence(*s1).isOk());
        QCOMPARE((*b)->freeTokens(), 64);
        auto again = (*b)->addSequence();
        QVERIFY(again.isOk());
        auto second = (*b)->step({{*again, ramp(9, 4, 256)}});
        QVERIFY(second.isOk());
        QCOMPARE((*second)[0], (*first)[0]);
        QVERIFY(!(*b)->removeSequence(7).isOk());
    }
};

QTEST_GUILESS_MAIN(TestBatch)
#include "test-batch.moc"
