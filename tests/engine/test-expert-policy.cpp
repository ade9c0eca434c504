// Expert policy and routing statistics on the transformers-made parity models
// (tests/data/parity/<case>: config.json + model.safetensors + golden.json, made by
// tests/parity/make_goldens.py). The expected values come from the routing definitions, not from
// our own output: a layer routing each token to k experts adds k per token; weights normalized
// over the top k sum to 1 per token (x routed_scaling_factor); a full softmax (max_experts =
// nExpert, no normalization) sums to 1; a +50 bias on a router logit wins every top-k. The .npy
// header golden is numpy's own (the parity folders' logits.npy, written by numpy.save).
// Also: bad policies refused naming the field, generate() collecting and recomputing, and the
// CLI's `logits` and `route` against Session. Config files: test-expert-profiles.cpp.
#include "moe/expert-profiles.h"
#include "moe/model-factory.h"
#include "moe/session.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>
#include <cstring>

using namespace moe;

namespace {

QString caseDir(const QString& name) {
    return QStringLiteral(MOE_TEST_DATA_DIR) + "/parity/" + name;
}

std::vector<int32_t> promptIds(const QString& name) {
    QFile f(caseDir(name) + "/golden.json");
    if (!f.open(QIODevice::ReadOnly)) return {};
    std::vector<int32_t> ids;
    for (const QJsonValue& v :
         QJsonDocument::fromJson(f.readAll()).object()["prompt_ids"].toArray())
        ids.push_back(int32_t(v.toInt()));
    return ids;
}

std::vector<float> runLogits(const std::shared_ptr<const Model>& m, const std::vector<int32_t>& ids,
                             const ExpertPolicy& policy, RoutingStats* stats = nullptr,
                             bool perToken = false) {
    SessionOptions so;
    so.expertPolicy = policy;
    so.collectRouting = stats != nullptr;
    so.collectTokenRouting = perToken;
    auto s = Session::create(m, so);
    if (!s.isOk()) return {};
    auto l = (*s)->evaluate(ids);
    if (!l.isOk()) return {};
    if (stats) *stats = (*s)->routingStats();
    return *l;
}

bool writeText(const QString& path, const QByteArray& text) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(text) == text.size();
}

} // namespace

class TestExpertPolicy : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    std::map<QString, std::shared_ptr<const Model>> m_models;

    std::shared_ptr<const Model> model(const QString& name) {
        auto it = m_models.find(name);
        if (it != m_models.end()) return it->second;
        auto m = Model::load(caseDir(name).toStdString());
        if (!m.isOk()) return nullptr;
        return m_models[name] = *m;
    }
    static void addCases() {
        QTest::addColumn<QString>("name");
        QTest::newRow("mixtral") << "mixtral";
        QTest::newRow("deepseek_v3") << "deepseek_v3";
    }

private slots:
    void maxExpertsAllChangesLogits_data() {
        QTest::addColumn<QString>("name");
        QTest::newRow("qwen2_moe (softmax, not normalized)") << "qwen2_moe";
        QTest::newRow("deepseek_v2_lite (softmax, not normalized)") << "deepseek_v2_lite";
        QTest::newRow("mixtral (softmax, normalized)") << "mixtral";
        QTest::newRow("deepseek_v3 (sigmoid, groups)") << "deepseek_v3";
    }
    // max_experts = the model's k is the model itself, bit for bit; max_experts = nExpert changes
    // the logits, and a softmax router without normalization then weighs each token by the
    // whole softmax (weights sum to 1 per token and layer).
    void maxExpertsAllChangesLogits() {
        QFETCH(QString, name);
        auto m = model(name);
        QVERIFY(m);
        const ModelSpec& s = m->spec();
        const std::vector<int32_t> ids = promptIds(name);
        QVERIFY(!ids.empty());
        const std::vector<float> base = runLogits(m, ids, {});
        ExpertPolicy same;
        same.maxExperts = s.nExpertUsed;
        QVERIFY(same.active());
        QVERIFY(runLogits(m, ids, same) == base);
        ExpertPolicy all;
        all.maxExperts = s.nExpert;
        RoutingStats st;
        const std::vector<float> wide = runLogits(m, ids, all, &st);
        QCOMPARE(wide.size(), base.size());
        double maxDiff = 0;
        for (size_t i = 0; i < base.size(); ++i) {
            QVERIFY(std::isfinite(wide[i]));
            maxDiff = std::max(maxDiff, double(std::fabs(wide[i] - base[i])));
        }
        QVERIFY2(maxDiff > 1e-3, qPrintable(QString::number(maxDiff)));
        for (int il = 0; il < s.nLayer; ++il) {
            if (!st.moeLayer[size_t(il)]) continue;
            QCOMPARE(st.layerAssignments(il), int64_t(ids.size()) * s.nExpert);
            for (int e = 0; e < s.nExpert; ++e)
                QCOMPARE(st.tokens[size_t(il * s.nExpert + e)], int64_t(ids.size()));
            if (s.scoringFunc ==
                "softmax") { // a full softmax sums to 1, then routed_scaling_factor
                double sum = 0;
                for (int e = 0; e < s.nExpert; ++e)
                    sum += st.weightSums[size_t(il * s.nExpert + e)];
                const double want = double(ids.size()) * s.routedScalingFactor;
                QVERIFY2(std::fabs(sum - want) < 1e-4 * want,
                         qPrintable(QString("%1 vs %2").arg(sum).arg(want)));
            }
        }
    }

    void maxExpertsOne_data() { addCases(); }
    // One expert per token per MoE layer: stats sum to the tokens, each token's row has exactly
    // one expert, and with normalization its weight is routed_scaling_factor.
    void maxExpertsOne() {
        QFETCH(QString, name);
        auto m = model(name);
        QVERIFY(m);
        const ModelSpec& s = m->spec();
        const std::vector<int32_t> ids = promptIds(name);
        ExpertPolicy one;
        one.maxExperts = 1;
        RoutingStats st;
        QVERIFY(!runLogits(m, ids, one, &st, true).empty());
        QCOMPARE(st.tokensSeen, int64_t(ids.size()));
        QCOMPARE(st.perToken.size(), ids.size());
        for (int il = 0; il < s.nLayer; ++il) {
            QCOMPARE(st.layerAssignments(il),
                     st.moeLayer[size_t(il)] ? int64_t(ids.size()) : int64_t(0));
            for (size_t t = 0; t < ids.size(); ++t) {
                const TokenRouting& tr = st.perToken[t];
                QCOMPARE(tr.token, ids[t]);
                QCOMPARE(tr.position, int(t));
                int chosen = 0;
                for (int j = 0; j < tr.k; ++j) {
                    const int32_t e = tr.experts[size_t(il * tr.k + j)];
                    if (e < 0) continue;
                    ++chosen;
                    QVERIFY(e < s.nExpert);
                    if (s.normTopkProb)
                        QVERIFY(std::fabs(tr.weights[size_t(il * tr.k + j)] -
                                          s.routedScalingFactor) < 1e-5f);
                }
                QCOMPARE(chosen, st.moeLayer[size_t(il)] ? 1 : 0);
            }
        }
    }

    void thresholdOneIsNoThreshold_data() { addCases(); }
    void thresholdOneIsNoThreshold() {
        QFETCH(QString, name);
        auto m = model(name);
        QVERIFY(m);
        const std::vector<int32_t> ids = promptIds(name);
        ExpertPolicy t1;
        t1.threshold = 1.0f;
        RoutingStats a, b;
        const std::vector<float> base = runLogits(m, ids, {}, &a);
        QVERIFY(runLogits(m, ids, t1, &b) == base);
        QVERIFY(a.tokens == b.tokens);
        // A low threshold keeps only the top expert wherever it carries the share alone: fewer
        // assignments, never fewer than one per token.
        ExpertPolicy low;
        low.threshold = 0.01f;
        RoutingStats c;
        QVERIFY(!runLogits(m, ids, low, &c).empty());
        for (int il = 0; il < m->spec().nLayer; ++il)
            if (c.moeLayer[size_t(il)]) QCOMPARE(c.layerAssignments(il), int64_t(ids.size()));
    }

    void domainBiasRoutesToExpert_data() { addCases(); }
    // A +50 bias on expert 2 of every MoE layer (a "*" profile read from its own file) puts
    // expert 2 among every token's experts.
    void domainBiasRoutesToExpert() {
        QFETCH(QString, name);
        auto m = model(name);
        QVERIFY(m);
        const ModelSpec& s = m->spec();
        const QString file = m_dir.path() + "/favor2-" + name + ".json";
        QVERIFY(writeText(file, R"({"*": {"2": 50}})"));
        ExpertConfig none;
        auto p = withProfile(none, {}, file.toStdString(), s);
        QVERIFY2(p.isOk(), p.status().message().c_str());
        QCOMPARE(p->profile, "favor2-" + name.toStdString());
        RoutingStats st;
        QVERIFY(!runLogits(m, promptIds(name), *p, &st, true).empty());
        for (int il = 0; il < s.nLayer; ++il) {
            if (!st.moeLayer[size_t(il)]) continue;
            QCOMPARE(st.tokens[size_t(il * s.nExpert + 2)], st.tokensSeen);
            for (const TokenRouting& tr : st.perToken) {
                bool has2 = false;
                for (int j = 0; j < tr.k; ++j)
                    has2 = has2 || tr.experts[size_t(il * tr.k + j)] == 2;
                QVERIFY(has2);
            }
        }
    }

    void statsOnMoeLayersOnly_data() { addCases(); }
    // Default routing: tokens x k per MoE layer, 0 for dense ones; normalized weights sum to
    // routed_scaling_factor per token; stats accumulate over forwards and reset.
    void statsOnMoeLayersOnly() {
        QFETCH(QString, name);
        auto m = model(name);
        QVERIFY(m);
        const ModelSpec& s = m->spec();
        const std::vector<int32_t> ids = promptIds(name);
        SessionOptions so;
        so.collectRouting = true;
        auto sess = Session::create(m, so);
        QVERIFY(sess.isOk());
        Session& session = **sess;
        const size_t half = ids.size() / 2;
        QVERIFY(session.evaluate(std::span(ids).first(half)).isOk());
        QVERIFY(session.evaluate(std::span(ids).subspan(half)).isOk());
        const RoutingStats st = session.routingStats();
        QCOMPARE(st.nLayer, s.nLayer);
        QCOMPARE(st.nExpert, s.nExpert);
        QCOMPARE(st.tokensSeen, int64_t(ids.size()));
        // deepseek_v3: first_k_dense_replace = 1; mixtral: every layer routes.
        QCOMPARE(bool(st.moeLayer[0]), name != "deepseek_v3");
        QVERIFY(st.moeLayer[1]);
        for (int il = 0; il < s.nLayer; ++il) {
            const bool moe = st.moeLayer[size_t(il)];
            QCOMPARE(st.layerAssignments(il),
                     moe ? int64_t(ids.size()) * s.nExpertUsed : int64_t(0));
            double sum = 0;
            for (int e = 0; e < s.nExpert; ++e)
                sum += st.weightSums[size_t(il * s.nExpert + e)];
            const double want = moe ? double(ids.size()) * s.routedScalingFactor : 0.0;
            QVERIFY(std::fabs(sum - want) <= 1e-4 * std::max(want, 1.0));
            const double h = st.loadEntropy(il);
            QVERIFY(h >= 0 && h <= std::log(double(s.nExpert)) + 1e-12);
        }
        session.resetRoutingStats();
        const RoutingStats zero = session.routingStats();
        QCOMPARE(zero.tokensSeen, int64_t(0));
        QCOMPARE(zero.layerAssignments(1), int64_t(0));
        QVERIFY(zero.moeLayer == st.moeLayer);
    }

    void entropyOfCounts() {
        RoutingStats st;
        st.nLayer = 1;
        st.nExpert = 4;
        st.tokens = {5, 5, 5, 5};
        QVERIFY(std::fabs(st.loadEntropy(0) - std::log(4.0)) < 1e-12);
        QVERIFY(std::fabs(st.normalizedLoadEntropy(0) - 1.0) < 1e-12);
        st.tokens = {0, 7, 0, 0};
        QCOMPARE(st.loadEntropy(0), 0.0);
        st.tokens = {1, 3, 0, 0}; // -(1/4 ln 1/4 + 3/4 ln 3/4)
        QVERIFY(std::fabs(st.loadEntropy(0) - 0.5623351446188083) < 1e-12);
    }

    void badPolicyRefused_data() {
        QTest::addColumn<int>("maxExperts");
        QTest::addColumn<float>("threshold");
        QTest::addColumn<int>("biasSize");
        QTest::addColumn<QString>("field");
        QTest::newRow("max_experts > nExpert") << 5 << 0.0f << 0 << "max_experts 5";
        QTest::newRow("max_experts < 0") << -1 << 0.0f << 0 << "max_experts -1";
        QTest::newRow("threshold 1.5") << 0 << 1.5f << 0 << "threshold";
        QTest::newRow("threshold NaN") << 0 << std::nanf("") << 0 << "threshold";
        QTest::newRow("bias vector size") << 0 << 0.0f << 7 << "7 biases, expected 8";
    }
    void badPolicyRefused() {
        QFETCH(int, maxExperts);
        QFETCH(float, threshold);
        QFETCH(int, biasSize);
        QFETCH(QString, field);
        auto m = model("mixtral"); // 2 layers x 4 experts
        QVERIFY(m);
        ExpertPolicy bad;
        bad.maxExperts = maxExperts;
        bad.threshold = threshold;
        bad.profile = "odd";
        bad.domainBias.assign(size_t(biasSize), 1.0f);
        SessionOptions so;
        so.expertPolicy = bad;
        auto refused = Session::create(m, so);
        QVERIFY(!refused.isOk());
        QVERIFY2(refused.status().message().find(field.toStdString()) != std::string::npos,
                 refused.status().message().c_str());
        auto s = Session::create(m);
        QVERIFY(s.isOk());
        const std::vector<int32_t> ids = {1, 2, 3};
        QVERIFY((*s)->evaluate(ids).isOk());
        Status st = (*s)->setExpertPolicy(bad);
        QVERIFY(!st.isOk());
        QVERIFY2(st.message().find(field.toStdString()) != std::string::npos, st.message().c_str());
        QVERIFY(!(*s)->expertPolicy().active()); // unchanged
        QCOMPARE((*s)->position(), 3);           // cache kept
    }

    // A changed policy drops the cached rows (computed under the old routing); the same policy
    // keeps them; evaluating again gives the new policy's logits, equal to a fresh session's.
    void changedPolicyClearsCache() {
        auto m = model("mixtral");
        QVERIFY(m);
        const std::vector<int32_t> ids = promptIds("mixtral");
        auto s = Session::create(m);
        QVERIFY(s.isOk());
        QVERIFY((*s)->evaluate(ids).isOk());
        QVERIFY((*s)->setExpertPolicy({}).isOk());
        QCOMPARE((*s)->position(), int(ids.size()));
        ExpertPolicy one;
        one.maxExperts = 1;
        QVERIFY((*s)->setExpertPolicy(one).isOk());
        QCOMPARE((*s)->position(), 0);
        QCOMPARE((*s)->expertPolicy().maxExperts, 1);
        auto again = (*s)->evaluate(ids);
        QVERIFY(again.isOk());
        QVERIFY(*again == runLogits(m, ids, one));
    }

    // generate(): routing is collected over prefill and decode (the last sampled token is never
    // evaluated: prompt + generated - 1 tokens); a changed policy makes the next turn recompute
    // its whole prompt, the same policy reuses the cached prefix.
    void generateCollectsAndRecomputes() {
        const std::string path = (m_dir.path() + "/random.gguf").toStdString();
        RandomModelOptions ro;
        ro.seed = 11;
        QVERIFY(writeRandomModel(ro, path).isOk());
        auto m = Model::load(path);
        QVERIFY(m.isOk());
        const ModelSpec& s = (*m)->spec();
        SessionOptions so;
        so.collectRouting = true;
        auto sess = Session::create(*m, so);
        QVERIFY(sess.isOk());
        Session& session = **sess;
        SamplingParams sp;
        sp.temperature = 0;
        sp.maxTokens = 6;
        auto first = session.generateText("route me", sp, {});
        QVERIFY(first.isOk());
        QCOMPARE(first->generatedTokens, 6);
        RoutingStats st = session.routingStats();
        QCOMPARE(st.tokensSeen, int64_t(first->promptTokens + first->generatedTokens - 1));
        for (int il = 0; il < s.nLayer; ++il)
            QCOMPARE(st.layerAssignments(il), st.tokensSeen * s.nExpertUsed);
        auto same = session.generateText("route me again", sp, {});
        QVERIFY(same.isOk());
        QVERIFY(same->cachedTokens > 0);
        ExpertPolicy one;
        one.maxExperts = 1;
        QVERIFY(session.setExpertPolicy(one).isOk());
        session.resetRoutingStats();
        auto recomputed = session.generateText("route me again", sp, {});
        QVERIFY(recomputed.isOk());
        QCOMPARE(recomputed->cachedTokens, 0);
        st = session.routingStats();
        QCOMPARE(st.tokensSeen,
                 int64_t(recomputed->promptTokens + recomputed->generatedTokens - 1));
        for (int il = 0; il < s.nLayer; ++il)
            QCOMPARE(st.layerAssignments(il), st.tokensSeen);
        // The same reply as a fresh session under that policy.
        SessionOptions fo;
        fo.expertPolicy = one;
        auto fresh = Session::create(*m, fo);
        QVERIFY(fresh.isOk());
        auto want = (*fresh)->generateText("route me again", sp, {});
        QVERIFY(want.isOk());
        QCOMPARE(recomputed->tokens, want->tokens);
    }

    void logitsCommandMatchesEvaluate_data() { addCases(); }
    // The .npy from `moestudio-cli logits` holds Session::evaluate's logits bit for bit, under a
    // header equal to numpy's for the same shape (the parity folder's logits.npy has it).
    void logitsCommandMatchesEvaluate() {
        QFETCH(QString, name);
        auto m = model(name);
        QVERIFY(m);
        const std::vector<int32_t> ids = promptIds(name);
        QStringList tokenList;
        for (int32_t id : ids)
            tokenList << QString::number(id);
        const QString out = m_dir.path() + "/logits-" + name + ".npy";
        QProcess p;
        p.start(MOE_CLI_PATH, {"logits", "--model", caseDir(name), "--tokens", tokenList.join(','),
                               "--out", out, "--device", "cpu"});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray npy = f.readAll();
        QVERIFY(npy.startsWith(QByteArray("\x93NUMPY\x01\x00", 8)));
        const int hlen = uint8_t(npy[8]) | (uint8_t(npy[9]) << 8);
        const QByteArray header = npy.mid(10, hlen);
        const int nVocab = m->spec().nVocab;
        QVERIFY2(header.contains("'descr': '<f4'") && header.contains("'fortran_order': False") &&
                     header.contains(
                         QString("'shape': (%1, %2)").arg(ids.size()).arg(nVocab).toLatin1()),
                 header.constData());
        QCOMPARE((10 + hlen) % 64, 0);
        QFile ref(caseDir(name) + "/logits.npy"); // numpy.save of a [48, 256] float32 array
        QVERIFY(ref.open(QIODevice::ReadOnly));
        QCOMPARE(npy.left(10 + hlen), ref.read(10 + hlen));
        const std::vector<float> want = runLogits(m, ids, {});
        QCOMPARE(qsizetype(npy.size() - 10 - hlen), qsizetype(want.size() * sizeof(float)));
        QVERIFY(std::memcmp(npy.constData() + 10 + hlen, want.data(),
                            want.size() * sizeof(float)) == 0);
    }

    // `route --json --max-experts 1`: the counts Session collects, one assignment per token.
    void routeCommandJson() {
        auto m = model("deepseek_v3");
        QVERIFY(m);
        QProcess p;
        p.start(MOE_CLI_PATH, {"route", "--model", caseDir("deepseek_v3"), "--tokens",
                               "1,7,42,9,200", "--max-experts", "1", "--per-token", "--json"});
        QVERIFY(p.waitForFinished(120000));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QJsonObject j = QJsonDocument::fromJson(p.readAllStandardOutput()).object();
        QCOMPARE(j["tokens_seen"].toInt(), 5);
        QCOMPARE(j["policy"].toObject()["max_experts"].toInt(), 1);
        ExpertPolicy one;
        one.maxExperts = 1;
        RoutingStats st;
        QVERIFY(!runLogits(m, {1, 7, 42, 9, 200}, one, &st).empty());
        const QJsonArray layers = j["layers"].toArray();
        QCOMPARE(layers.size(), 2);
        QCOMPARE(layers[0].toObject()["moe"].toBool(), false);
        const QJsonObject l1 = layers[1].toObject();
        QCOMPARE(l1["assignments"].toInt(), 5);
        const QJsonArray counts = l1["expert_tokens"].toArray();
        for (int e = 0; e < 8; ++e)
            QCOMPARE(int64_t(counts[e].toInt()), st.tokens[size_t(8 + e)]);
        const QJsonArray perToken = j["per_token"].toArray();
        QCOMPARE(perToken.size(), 5);
        for (const QJsonValue& t : perToken)
            QCOMPARE(t.toObject()["layers"].toArray()[0].toObject()["experts"].toArray().size(), 1);
        QProcess bad;
        bad.start(MOE_CLI_PATH, {"route", "--model", caseDir("mixtral"), "--tokens", "1,2",
                                 "--threshold", "1.5"});
        QVERIFY(bad.waitForFinished(120000));
        QCOMPARE(bad.exitCode(), 2);
        QVERIFY(bad.readAllStandardError().contains("--threshold 1.5"));
    }
};

QTEST_GUILESS_MAIN(TestExpertPolicy)
#include "test-expert-policy.moc"
