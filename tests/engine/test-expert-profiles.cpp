// model_config.json and profile files (moe/expert-profiles.h): where the file is looked for, every
// form of a profile read to the biases the JSON spells out, errors naming the file and the dotted
// key, and the CLI taking its defaults from the file under its flags. The models are the
// transformers-made parity folders (tests/data/parity, tests/parity/make_goldens.py): mixtral
// (2 MoE layers x 4 experts) and deepseek_v3 (layer 0 dense, layer 1 MoE, 8 experts).
#include "moe/expert-profiles.h"
#include "moe/session.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <map>

using namespace moe;

namespace {

QString caseDir(const QString& name) {
    return QStringLiteral(MOE_TEST_DATA_DIR) + "/parity/" + name;
}

bool writeText(const QString& path, const QByteArray& text) {
    QFile f(path);
    return f.open(QIODevice::WriteOnly | QIODevice::Truncate) && f.write(text) == text.size();
}

} // namespace

class TestExpertProfiles : public QObject {
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

private slots:
    void configPath() {
        const QString d = m_dir.path() + "/paths";
        QVERIFY(QDir().mkpath(d + "/hf"));
        QCOMPARE(expertConfigPath((d + "/hf").toStdString()),
                 (d + "/hf/model_config.json").toStdString());
        QCOMPARE(expertConfigPath((d + "/m-q4.gguf").toStdString()),
                 (d + "/model_config.json").toStdString());
        QVERIFY(writeText(d + "/m-q4.model_config.json", "{}"));
        QCOMPARE(expertConfigPath((d + "/m-q4.gguf").toStdString()),
                 (d + "/m-q4.model_config.json").toStdString());
        QCOMPARE(expertConfigPath((d + "/m-q8.gguf").toStdString()),
                 (d + "/model_config.json").toStdString());
        auto none = loadExpertConfig((d + "/hf").toStdString(), model("mixtral")->spec());
        QVERIFY(none.isOk());
        QVERIFY(none->path.empty());
        QVERIFY(!none->defaults.active());
    }

    // Every form of a profile: sparse object, dense array, "*" (MoE layers only, adding up), a
    // profile file by relative path; the defaults and the default profile.
    void configReads() {
        auto m = model("deepseek_v3"); // layer 0 dense, layer 1 MoE, 8 experts
        QVERIFY(m);
        const ModelSpec& s = m->spec();
        const QString d = m_dir.path() + "/good";
        QVERIFY(QDir().mkpath(d + "/profiles"));
        QVERIFY(writeText(d + "/profiles/code.json", R"({"1": [0, 1, 2, 3, 4, 5, 6, 7.5]})"));
        QVERIFY(writeText(d + "/model_config.json", R"({"other": 1, "expert_activation": {
            "threshold": 0.8, "max_experts": 4, "profile": "legal",
            "domain_weights": {"legal": {"1": {"3": 2.5, "5": -1}, "*": {"3": 0.5}},
                               "code": "profiles/code.json"}}})"));
        auto cfg = loadExpertConfig(d.toStdString(), s);
        QVERIFY2(cfg.isOk(), cfg.status().message().c_str());
        QCOMPARE(cfg->path, (d + "/model_config.json").toStdString());
        QCOMPARE(cfg->defaults.maxExperts, 4);
        QCOMPARE(cfg->defaults.threshold, 0.8f);
        QCOMPARE(cfg->defaults.profile, std::string("legal"));
        std::vector<float> legal(16, 0.0f);
        legal[8 + 3] = 3.0f;
        legal[8 + 5] = -1.0f;
        QVERIFY(cfg->defaults.domainBias == legal);
        QVERIFY(cfg->profiles.at("legal") == legal);
        std::vector<float> code(16, 0.0f);
        for (int e = 0; e < 8; ++e)
            code[size_t(8 + e)] = float(e);
        code[15] = 7.5f;
        QVERIFY(cfg->profiles.at("code") == code);
        auto p = withProfile(*cfg, cfg->defaults, "code", s);
        QVERIFY(p.isOk());
        QCOMPARE(p->profile, std::string("code"));
        QCOMPARE(p->maxExperts, 4);
        QVERIFY(p->domainBias == code);
        auto off = withProfile(*cfg, cfg->defaults, "none", s);
        QVERIFY(off.isOk() && off->domainBias.empty() && off->profile.empty());
        auto missing = withProfile(*cfg, cfg->defaults, "medical", s);
        QVERIFY(!missing.isOk());
        QVERIFY2(missing.status().message().find("'medical'") != std::string::npos &&
                     missing.status().message().find("code, legal") != std::string::npos,
                 missing.status().message().c_str());
        SessionOptions so;
        so.expertPolicy = cfg->defaults;
        QVERIFY(Session::create(m, so).isOk());
    }

    void configErrors_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QByteArray>("json");
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("what");
        const QString mx = "mixtral", ds = "deepseek_v3";
        QTest::newRow("not JSON") << mx << QByteArray("{\"expert_activation\": ") << "not JSON"
                                  << "byte";
        QTest::newRow("top level") << mx << QByteArray("[1]") << "(top level)"
                                   << "expected an object";
        QTest::newRow("block type")
            << mx << QByteArray(R"({"expert_activation": 3})") << "expert_activation:"
            << "expected an object";
        QTest::newRow("unknown key")
            << mx << QByteArray(R"({"expert_activation": {"max_expert": 2}})")
            << "expert_activation.max_expert"
            << "unknown key";
        QTest::newRow("max_experts range")
            << mx << QByteArray(R"({"expert_activation": {"max_experts": 5}})")
            << "expert_activation.max_experts"
            << "outside 0..4";
        QTest::newRow("max_experts type")
            << mx << QByteArray(R"({"expert_activation": {"max_experts": "2"}})")
            << "expert_activation.max_experts"
            << "expected an integer";
        QTest::newRow("max_experts float")
            << mx << QByteArray(R"({"expert_activation": {"max_experts": 1.5}})")
            << "expert_activation.max_experts"
            << "expected an integer";
        QTest::newRow("threshold range")
            << mx << QByteArray(R"({"expert_activation": {"threshold": 1.5}})")
            << "expert_activation.threshold"
            << "outside [0, 1]";
        QTest::newRow("threshold type")
            << mx << QByteArray(R"({"expert_activation": {"threshold": true}})")
            << "expert_activation.threshold"
            << "expected a number";
        QTest::newRow("layer range")
            << mx
            << QByteArray(
                   R"({"expert_activation": {"domain_weights": {"legal": {"2": {"0": 1}}}}})")
            << "expert_activation.domain_weights.legal.2"
            << "0..1";
        QTest::newRow("layer key")
            << mx
            << QByteArray(
                   R"({"expert_activation": {"domain_weights": {"legal": {"x": {"0": 1}}}}})")
            << "expert_activation.domain_weights.legal.x"
            << "layer index";
        QTest::newRow("expert range")
            << mx
            << QByteArray(
                   R"({"expert_activation": {"domain_weights": {"legal": {"1": {"4": 1}}}}})")
            << "expert_activation.domain_weights.legal.1.4"
            << "0..3";
        QTest::newRow("bias type")
            << mx
            << QByteArray(
                   R"({"expert_activation": {"domain_weights": {"legal": {"1": {"0": "big"}}}}})")
            << "expert_activation.domain_weights.legal.1.0"
            << "expected a number";
        QTest::newRow("array size")
            << mx
            << QByteArray(R"({"expert_activation": {"domain_weights": {"code": {"0": [1, 2]}}}})")
            << "expert_activation.domain_weights.code.0"
            << "expected 4 biases";
        QTest::newRow("array item")
            << mx
            << QByteArray(
                   R"({"expert_activation": {"domain_weights": {"code": {"0": [1, 2, null, 4]}}}})")
            << "expert_activation.domain_weights.code.0[2]"
            << "expected a number";
        QTest::newRow("profiles type")
            << mx << QByteArray(R"({"expert_activation": {"domain_weights": [1]}})")
            << "expert_activation.domain_weights"
            << "named profiles";
        QTest::newRow("dense layer")
            << ds
            << QByteArray(
                   R"({"expert_activation": {"domain_weights": {"legal": {"0": {"0": 1}}}}})")
            << "expert_activation.domain_weights.legal.0"
            << "dense layer";
        QTest::newRow("default profile")
            << mx << QByteArray(R"({"expert_activation": {"profile": "legal"}})")
            << "expert_activation.profile"
            << "'legal' is not in domain_weights";
        QTest::newRow("profile file")
            << mx
            << QByteArray(R"({"expert_activation": {"domain_weights": {"law": "no-such.json"}}})")
            << "expert_activation.domain_weights.law"
            << "no-such.json: cannot open";
    }
    void configErrors() {
        QFETCH(QString, model);
        QFETCH(QByteArray, json);
        QFETCH(QString, key);
        QFETCH(QString, what);
        auto m = this->model(model);
        QVERIFY(m);
        const QString file =
            m_dir.path() + "/bad-" + QString(QTest::currentDataTag()).replace(' ', '-') + ".json";
        QVERIFY(writeText(file, json));
        auto cfg = readExpertConfig(file.toStdString(), m->spec());
        QVERIFY(!cfg.isOk());
        const QString msg = QString::fromStdString(cfg.status().message());
        QVERIFY2(msg.startsWith(file + ": "), qPrintable(msg));
        QVERIFY2(msg.contains(key), qPrintable(msg));
        QVERIFY2(msg.contains(what), qPrintable(msg));
    }

    void profileFileErrors() {
        auto m = model("mixtral");
        QVERIFY(m);
        const QString file = m_dir.path() + "/bad-profile.json";
        QVERIFY(writeText(file, R"({"1": {"0": 1}, "*": {"9": 2}})"));
        auto p = readExpertProfile(file.toStdString(), m->spec());
        QVERIFY(!p.isOk());
        const QString msg = QString::fromStdString(p.status().message());
        QVERIFY2(msg.startsWith(file + ": *.9: ") && msg.contains("0..3"), qPrintable(msg));
    }

    // The CLI reads model_config.json inside an HF folder; flags override it; --profile none
    // drops its default profile; bad flags and a bad file fail naming them.
    void cliReadsModelConfig() {
        const QString d = m_dir.path() + "/mixtral-with-config";
        QVERIFY(QDir().mkpath(d));
        for (const char* f : {"config.json", "model.safetensors"})
            QVERIFY(QFile::copy(caseDir("mixtral") + "/" + f, d + "/" + QString(f)));
        QVERIFY(writeText(d + "/model_config.json",
                          R"({"expert_activation": {"max_experts": 1, "profile": "e3",
            "domain_weights": {"e3": {"*": {"3": 50}}}}})"));
        auto route = [&](const QStringList& extra) {
            QProcess p;
            p.start(MOE_CLI_PATH,
                    QStringList{"route", "--model", d, "--tokens", "1,2,3,4", "--json"} + extra);
            p.waitForFinished(120000);
            return std::make_pair(p.exitCode(),
                                  QJsonDocument::fromJson(p.readAllStandardOutput()).object());
        };
        auto [code, j] = route({});
        QCOMPARE(code, 0);
        QCOMPARE(j["experts_per_token"].toInt(), 1);
        QCOMPARE(j["policy"].toObject()["profile"].toString(), QString("e3"));
        for (const QJsonValue& l : j["layers"].toArray())
            QCOMPARE(l.toObject()["expert_tokens"].toArray()[3].toInt(),
                     4); // every token on expert 3
        auto [code2, j2] = route({"--max-experts", "2", "--profile", "none"});
        QCOMPARE(code2, 0);
        QCOMPARE(j2["experts_per_token"].toInt(), 2);
        QCOMPARE(j2["policy"].toObject()["profile"].toString(), QString());
        QCOMPARE(j2["layers"].toArray()[0].toObject()["assignments"].toInt(), 8);

        QProcess gen;
        gen.start(MOE_CLI_PATH, {"generate", "--model", d, "--prompt", "x", "--max-experts", "9"});
        QVERIFY(gen.waitForFinished(120000));
        QCOMPARE(gen.exitCode(), 1);
        QVERIFY(gen.readAllStandardError().contains("--max-experts 9"));
        QVERIFY(writeText(d + "/model_config.json", R"({"expert_activation": {"threshold": 2}})"));
        QProcess bad;
        bad.start(MOE_CLI_PATH, {"route", "--model", d, "--tokens", "1,2"});
        QVERIFY(bad.waitForFinished(120000));
        QCOMPARE(bad.exitCode(), 1);
        const QString err = QString::fromUtf8(bad.readAllStandardError());
        QVERIFY2(err.contains(d + "/model_config.json: expert_activation.threshold"),
                 qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TestExpertProfiles)
#include "test-expert-profiles.moc"
