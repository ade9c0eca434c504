// `moestudio-cli bench run` and `eval` as a user runs them, checked in the project database they
// record into: a bench run per model with its environment and config (version_id), speed samples
// and summaries under their metric names, eval_results rows for every eval and metric with raw
// details, datasets and the lm-eval results artifact; --versions resolving a project's model
// versions (kl against the lineage's base); identical quality numbers when a suite runs again;
// perplexity equal to exp(mean NLL) computed here from the `logits` .npy dump; the old speed-only
// `bench` unchanged; argument and suite errors.
#include "moe-projects/project-store.h"
#include "moe/model.h"
#include "npy-reader.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>

using namespace moe::projects;
using json = nlohmann::json;

class TestBenchCli : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_base, m_q8, m_suite, m_project;

    struct Outcome {
        int code = -1;
        QString out, err;
    };
    Outcome cli(const QStringList& args) {
        QProcess p;
        p.start(MOE_CLI_PATH, args);
        Outcome o;
        if (!p.waitForFinished(120000)) {
            p.kill();
            p.waitForFinished();
            return o;
        }
        o.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
        o.out = QString::fromUtf8(p.readAllStandardOutput());
        o.err = QString::fromUtf8(p.readAllStandardError());
        return o;
    }
    QString file(const QString& name) const { return m_dir.path() + "/" + name; }
    void write(const QString& name, const std::string& text) const {
        std::ofstream(file(name).toStdString()) << text;
    }
    std::unique_ptr<ProjectStore>
    openStore(ProjectStore::OpenMode mode = ProjectStore::OpenMode::ReadOnly) {
        auto s = ProjectStore::open(m_project.toStdString(), mode);
        return s.isOk() ? std::move(s).value() : nullptr;
    }
    // eval_results of a run as "eval/metric" -> value.
    std::map<std::string, double> evalValues(ProjectStore& store, int64_t runId) {
        std::map<std::string, double> out;
        const auto all = store.evals().list();
        for (const auto& e : *all)
            if (e.runId == runId) out[e.eval + "/" + e.metric] = e.value;
        return out;
    }

private slots:
    void initTestCase() {
        m_base = file("base.gguf");
        m_q8 = file("q8.gguf");
        QCOMPARE(cli({"make-model", "--seed", "3", "--out", m_base}).code, 0);
        QCOMPARE(cli({"make-model", "--seed", "3", "--type", "q8_0", "--out", m_q8}).code, 0);
        QVERIFY(QDir(m_dir.path()).mkpath("suite/data"));
        write("suite/data/wiki.txt",
              "Experts are chosen per token by a router, a linear layer over the hidden state. "
              "A load-balancing loss keeps every expert busy across the batch.");
        write("suite/data/code.txt",
              "int main() { int s = 0; for (int i = 0; i < 10; ++i) s += i; return s; }\n");
        write("suite/data/mc.jsonl", "{\"question\": \"Two plus two is\", \"choices\": [\"four\", "
                                     "\"seven\"], \"answer\": 0}\n"
                                     "{\"question\": \"The sky is\", \"choices\": [\"blue\", \"a "
                                     "fish\"], \"answer\": \"A\"}\n");
        write("suite/data/gen.jsonl", "{\"prompt\": \"Say yes:\", \"answer\": \"yes\"}\n");
        const json suite = {
            {"name", "smoke"},
            {"speed",
             {{"prompt_tokens", {16}},
              {"gen_tokens", {4}},
              {"batch", {1, 2}},
              {"repetitions", 2},
              {"warmup", 0}}},
            {"quality",
             {{{"type", "perplexity"}, {"file", "data/wiki.txt"}, {"context", 64}, {"stride", 32}},
              {{"type", "kl"}, {"reference", "base"}},
              {{"type", "choice"}, {"file", "data/mc.jsonl"}},
              {{"type", "generation"},
               {"file", "data/gen.jsonl"},
               {"scoring", "exact_match"},
               {"max_tokens", 4}},
              {{"type", "routing"},
               {"domains", {{"code", "data/code.txt"}, {"prose", "data/wiki.txt"}}},
               {"context", 32}}}}};
        m_suite = file("suite/smoke.json");
        write("suite/smoke.json", suite.dump(1));
        m_project = file("project");
        QCOMPARE(cli({"project", "init", m_project}).code, 0);
    }

    void runRecordsEveryResult() {
        Outcome o = cli({"bench", "run", m_suite, "--model", m_base, "--model", m_q8, "--project",
                         m_project, "--json"});
        QVERIFY2(o.code == 0, qPrintable(o.err));
        const json out = json::parse(o.out.toStdString());
        QCOMPARE(out["models"].size(), size_t(2));
        auto store = openStore();
        QVERIFY(store);
        const auto versions =
            std::vector<int64_t>{out["models"][0]["version_id"], out["models"][1]["version_id"]};
        for (int m = 0; m < 2; ++m) {
            const int64_t runId = out["models"][m]["run_id"];
            auto run = store->trainingRuns().run(runId);
            QVERIFY(run.isOk());
            QCOMPARE(run->kind, std::string("bench"));
            QCOMPARE(run->status, std::string("completed"));
            const json config = json::parse(run->configJson);
            QCOMPARE(config["version_id"].get<int64_t>(), versions[size_t(m)]);
            QCOMPARE(config["suite"].get<std::string>(), std::string("smoke"));
            auto history = store->bench().history("smoke");
            QVERIFY(history.isOk());
            const auto bench =
                std::find_if(history->begin(), history->end(),
                             [&](const BenchRunRecord& b) { return b.runId == runId; });
            QVERIFY(bench != history->end());
            QCOMPARE(bench->environment.backend, std::string("cpu"));
            QVERIFY(json::parse(bench->environment.environmentJson).contains("cpu"));
            std::set<std::string> metrics;
            const auto summaries = store->bench().summaries(runId);
            for (const auto& s : *summaries)
                metrics.insert(s.metric);
            const std::set<std::string> expected = {"pp16_tok_s",  "ttft16_ms",    "tg4_tok_s",
                                                    "itl4_ms",     "tg4_b2_tok_s", "load_ms",
                                                    "peak_rss_mib"};
            QCOMPARE(metrics, expected);
            QCOMPARE(store->bench().samples(runId, "pp16_tok_s")->size(), size_t(2));
            QCOMPARE(store->bench().samples(runId, "itl4_ms")->size(), size_t(8));

            std::map<std::string, double> values = evalValues(*store, runId);
            std::set<std::string> keys;
            for (const auto& [k, v] : values)
                keys.insert(k);
            const std::set<std::string> evals = {
                "perplexity/ppl",  "perplexity/nll_mean",    "kl/kl_mean",
                "kl/kl_p95",       "kl/top1_agreement",      "choice/acc",
                "choice/acc_norm", "generation/exact_match", "routing/entropy_mean"};
            QCOMPARE(keys, evals);
            QVERIFY(std::abs(values["perplexity/ppl"] - std::exp(values["perplexity/nll_mean"])) <
                    1e-9 * values["perplexity/ppl"]);
            if (m == 0) { // the first model is "base": kl against itself
                QCOMPARE(values["kl/kl_mean"], 0.0);
                QCOMPARE(values["kl/top1_agreement"], 1.0);
            } else {
                QVERIFY(values["kl/kl_mean"] > 0);
            }
        }
        const auto evals = store->evals().list();
        for (const auto& e : *evals) {
            QVERIFY(e.versionId.has_value());
            if (e.eval == "routing") {
                const json d = json::parse(e.detailsJson);
                QCOMPARE(d["share"].size(), size_t(d["layers"].get<int>()));
                QCOMPARE(d["share"][0].size(), size_t(d["experts"].get<int>()));
                QVERIFY(d["domains"].contains("code"));
            }
            if (e.eval == "choice" && e.metric == "acc") {
                QCOMPARE(e.sampleCount, int64_t(2));
                QCOMPARE(json::parse(e.detailsJson)["per_item"].size(), size_t(2));
            }
        }
        std::set<std::string> datasets;
        const auto datasetRows = store->datasets().list();
        for (const auto& d : *datasetRows)
            datasets.insert(d.name);
        QVERIFY(datasets.count("wiki.txt") && datasets.count("mc.jsonl") &&
                datasets.count("gen.jsonl"));
        const auto artifacts =
            *store->trainingRuns().artifacts(out["models"][0]["run_id"].get<int64_t>());
        QCOMPARE(artifacts.size(), size_t(1));
        QFile lm(m_project + "/" + QString::fromStdString(artifacts[0].path));
        QVERIFY(lm.open(QIODevice::ReadOnly));
        QVERIFY(json::parse(lm.readAll().toStdString())["results"]["mc"].contains("acc,none"));
    }

    // --versions: a quantization version of the base model; its kl reference is the lineage's base.
    // The numbers equal the --model run's for the same files (the suite is deterministic).
    void versionsAndDeterministicRerun() {
        int64_t baseVersion = 0, q8Version = 0, modelId = 0;
        std::map<std::string, double> first;
        {
            auto store = openStore(ProjectStore::OpenMode::ReadWrite);
            QVERIFY(store);
            const auto models = *store->models();
            for (const auto& m : models)
                if (m.path == m_base.toStdString()) modelId = m.id;
            QVERIFY(modelId > 0);
            baseVersion = store->modelVersions().baseVersion(modelId)->id;
            ModelVersionRecord v;
            v.kind = "quantization";
            v.name = "q8_0";
            v.path = m_q8.toStdString();
            auto added = store->modelVersions().addDerived(baseVersion, v);
            QVERIFY2(added.isOk(), added.status().message().c_str());
            q8Version = *added;
            const auto runs = store->runs();
            for (const auto& r : *runs)
                if (r.kind == "bench" && json::parse(r.configJson)["model"] == m_q8.toStdString())
                    first = evalValues(*store, r.id);
        }
        QVERIFY(!first.empty());
        Outcome o = cli({"bench", "run", m_suite, "--versions",
                         QString("%1,%2").arg(baseVersion).arg(q8Version), "--project", m_project,
                         "--json"});
        QVERIFY2(o.code == 0, qPrintable(o.err));
        const json out = json::parse(o.out.toStdString());
        auto store = openStore();
        const int64_t runId = out["models"][1]["run_id"];
        QCOMPARE(out["models"][1]["version_id"].get<int64_t>(), q8Version);
        QCOMPARE(*store->trainingRuns().run(runId)->modelId,
                 modelId); // the version's model, not a new one
        const std::map<std::string, double> again = evalValues(*store, runId);
        QCOMPARE(again, first);
        const auto evals = store->evals().list();
        for (const auto& e : *evals)
            if (e.runId == runId) QCOMPARE(*e.versionId, q8Version);
    }

    void perplexityEqualsTheLogitsDump() {
        auto model = moe::Model::load(m_base.toStdString());
        QVERIFY(model.isOk());
        std::ifstream f(file("suite/data/wiki.txt").toStdString());
        const std::string text((std::istreambuf_iterator<char>(f)),
                               std::istreambuf_iterator<char>());
        const std::vector<int32_t> ids = (*model)->tokenizer().encode(text, true);
        QStringList tokens;
        for (int32_t id : ids)
            tokens << QString::number(id);
        Outcome d = cli(
            {"logits", "--model", m_base, "--tokens", tokens.join(','), "--out", file("l.npy")});
        QVERIFY2(d.code == 0, qPrintable(d.err));
        moe::testing::NpyF32 l;
        QCOMPARE(moe::testing::readNpyF32(file("l.npy").toStdString(), l), std::string());
        const int64_t nVocab = l.shape[1];
        double nll = 0;
        for (size_t j = 1; j < ids.size(); ++j) {
            const float* row = l.data.data() + (j - 1) * size_t(nVocab);
            double mx = row[0], sum = 0;
            for (int64_t v = 1; v < nVocab; ++v)
                mx = std::max(mx, double(row[v]));
            for (int64_t v = 0; v < nVocab; ++v)
                sum += std::exp(double(row[v]) - mx);
            nll -= double(row[ids[j]]) - mx - std::log(sum);
        }
        const double ppl = std::exp(nll / double(ids.size() - 1));
        Outcome e =
            cli({"eval", "perplexity", "--model", m_base, "--file", file("suite/data/wiki.txt"),
                 "--context", QString::number(ids.size()), "--json"});
        QVERIFY2(e.code == 0, qPrintable(e.err));
        const json q = json::parse(e.out.toStdString())["models"][0]["quality"][0];
        QCOMPARE(q["sample_count"].get<int64_t>(), int64_t(ids.size() - 1));
        const double got = q["metrics"]["ppl"];
        QVERIFY2(std::abs(got - ppl) < 1e-6 * ppl,
                 qPrintable(QString("%1 vs %2").arg(got).arg(ppl)));
    }

    void singleEvalsAndLmEvalFile() {
        Outcome c = cli({"eval", "choice", "--model", m_base, "--file", file("suite/data/mc.jsonl"),
                         "--lm-eval-dir", file("lm")});
        QVERIFY2(c.code == 0, qPrintable(c.err));
        QVERIFY(c.out.contains("acc_norm"));
        QFile lm(file("lm/base-mc-results.json"));
        QVERIFY(lm.open(QIODevice::ReadOnly));
        QVERIFY(lm.readAll().contains("\"acc,none\""));
        Outcome r = cli({"eval", "routing", "--model", m_base, "--domain",
                         "code=" + file("suite/data/code.txt")});
        QVERIFY2(r.code == 0 && r.out.contains("entropy_mean"), qPrintable(r.err));
        Outcome k = cli({"eval", "kl", "--model", m_q8, "--reference", m_base, "--file",
                         file("suite/data/wiki.txt")});
        QVERIFY2(k.code == 0 && k.out.contains("top1_agreement"), qPrintable(k.err));
    }

    void plainBenchStillWorks() {
        Outcome o = cli(
            {"bench", "--model", m_base, "--pp", "8", "--tg", "2", "--reps", "1", "--warmup", "0"});
        QVERIFY2(o.code == 0, qPrintable(o.err));
        QVERIFY(o.out.contains("pp8") && o.out.contains("tg2") && o.out.contains("ttft8"));
    }

    void errors() {
        QCOMPARE(cli({"bench", "run"}).code, 2);
        QCOMPARE(cli({"bench", "run", m_suite}).code, 2);
        QCOMPARE(cli({"bench", "run", m_suite, "--versions", "1"}).code, 2);
        QCOMPARE(cli({"eval", "kl", "--model", m_base, "--file", file("suite/data/wiki.txt")}).code,
                 2);
        write(
            "suite/bad.json",
            R"({"quality":[{"type":"perplexity","file":"data/wiki.txt","context":8,"stride":9}]})");
        Outcome bad = cli({"bench", "run", file("suite/bad.json"), "--model", m_base});
        QCOMPARE(bad.code, 1);
        QVERIFY2(bad.err.contains("bad.json: quality[0].stride"), qPrintable(bad.err));
        Outcome type =
            cli({"eval", "bleu", "--model", m_base, "--file", file("suite/data/wiki.txt")});
        QCOMPARE(type.code, 1);
        QVERIFY(type.err.contains("is not one of"));
        Outcome version =
            cli({"bench", "run", m_suite, "--versions", "999", "--project", m_project});
        QCOMPARE(version.code, 1);
        QVERIFY2(version.err.contains("999"), qPrintable(version.err));
    }
};

QTEST_GUILESS_MAIN(TestBenchCli)
#include "test-bench-cli.moc"
