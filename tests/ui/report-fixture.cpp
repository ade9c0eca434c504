// The report test's project contents (see report-fixture.h).
#include "report-fixture.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

#include <cmath>
#include <map>

using namespace moe::projects;

namespace {

// Deterministic pseudo-random samples around a centre (spread as a fraction of it).
std::vector<double> samples(double centre, double spread, int n, uint32_t seed) {
    std::vector<double> v;
    uint32_t s = seed;
    for (int i = 0; i < n; ++i) {
        s = s * 1664525u + 1013904223u;
        const double u = double(s >> 8) / double(1u << 24); // [0, 1)
        v.push_back(centre * (1.0 + spread * (2.0 * u - 1.0)));
    }
    return v;
}

// One bench run of a version as the suite runner records it: config_json names the version,
// samples per metric summarized with units, eval rows carry the version and run.
void recordVersion(ProjectStore& store, ReportFixture& fx, int64_t versionId, int index) {
    BenchEnvironment env{.suite = "tiny-suite",
                         .gpu = "",
                         .driver = "",
                         .backend = "cpu",
                         .buildCommit = "0123abc",
                         .environmentJson = R"({"cpu":"Test CPU 8 cores","threads":8})"};
    const QString config =
        QStringLiteral(R"({"suite":"tiny-suite","version_id":%1})").arg(versionId);
    auto run = store.bench().begin(env, config.toStdString(), fx.modelId);
    QVERIFY(run.isOk());
    const int64_t runId = *run;
    fx.runs.push_back(runId);
    // Q4_K decodes faster and prefills a bit slower; the adapter costs some speed.
    const double speed[] = {1.0, 0.85, 1.3};
    const double f = speed[index];
    const auto seed = uint32_t(17 + 31 * index);
    std::map<std::string, std::string> units;
    auto add = [&](const std::string& metric, const std::vector<double>& v, const char* unit) {
        QVERIFY(store.bench().addSamples(runId, metric, v).isOk());
        units[metric] = unit;
    };
    add("pp128_tok_s", samples(900 * f, 0.05, 5, seed + 1), "tok/s");
    add("pp512_tok_s", samples(1400 * f, 0.05, 5, seed + 2), "tok/s");
    add("pp2048_tok_s", samples(1100 * f, 0.06, 5, seed + 3), "tok/s");
    add("tg128_tok_s", samples(60 * f, 0.04, 5, seed + 4), "tok/s");
    add("tg128_b4_tok_s", samples(180 * f, 0.05, 5, seed + 5), "tok/s");
    add("tg128_b16_tok_s", samples(420 * f, 0.05, 5, seed + 6), "tok/s");
    add("tg128_d4096_tok_s", samples(45 * f, 0.05, 5, seed + 7), "tok/s");
    add("ttft128_ms", samples(150 / f, 0.2, 30, seed + 8), "ms");
    add("ttft512_ms", samples(380 / f, 0.2, 30, seed + 9), "ms");
    add("load_ms", {120.0 + index}, "ms");
    QVERIFY(store.bench().summarize(runId, units).isOk());

    auto eval = [&](const char* kind, const char* metric, double value, std::string details = {},
                    std::optional<int64_t> dataset = {}) {
        EvalResultRecord e;
        e.runId = runId;
        e.versionId = versionId;
        e.datasetId = dataset;
        e.eval = kind;
        e.metric = metric;
        e.value = value;
        e.sampleCount = 64;
        e.detailsJson = std::move(details);
        QVERIFY(store.evals().add(e).isOk());
    };
    const double ppl[] = {12.4, 10.9, 12.9};
    eval("perplexity", "ppl", ppl[index]);
    eval("perplexity", "nll_mean", std::log(ppl[index]));
    if (index > 0) {
        eval("kl", "kl_mean", index == 1 ? 0.081 : 0.0123);
        eval("kl", "kl_p95", index == 1 ? 0.31 : 0.047);
        eval("kl", "top1_agreement", index == 1 ? 0.87 : 0.968);
    }
    const double acc[] = {0.52, 0.61, 0.5};
    eval("choice", "acc", acc[index], R"({"task":"mmlu-mini"})", fx.datasetId);
    eval("choice", "acc_norm", acc[index] + 0.03, R"({"task":"mmlu-mini"})", fx.datasetId);
    eval("generation", "exact_match", 0.25 + 0.1 * index);

    // Routing: 6 layers x 8 experts; each version prefers other experts; two domains.
    const int layers = 6, experts = 8;
    QJsonArray share;
    QJsonObject domains;
    for (const char* domain : {"", "code", "legal"}) {
        QJsonArray m;
        for (int il = 0; il < layers; ++il) {
            QJsonArray row;
            double sum = 0;
            std::vector<double> w(experts);
            for (int e = 0; e < experts; ++e) {
                const int hot = (il + index * 3 + int(qstrlen(domain))) % experts;
                w[size_t(e)] = 1.0 + (e == hot ? 3.0 : 0.0) + 0.3 * ((e * 7 + il) % 3);
                sum += w[size_t(e)];
            }
            for (int e = 0; e < experts; ++e)
                row.append(w[size_t(e)] / sum);
            m.append(row);
        }
        if (!*domain)
            share = m;
        else
            domains.insert(QString::fromLatin1(domain), QJsonObject{{"share", m}, {"tokens", 512}});
    }
    const QJsonObject details{
        {"layers", layers}, {"experts", experts}, {"share", share}, {"domains", domains}};
    eval("routing", "entropy_mean", 0.9 - 0.02 * index,
         QJsonDocument(details).toJson(QJsonDocument::Compact).toStdString());
    QVERIFY(store.trainingRuns().finish(runId, "completed", "{}").isOk());
}

} // namespace

void recordReportFixture(ProjectStore& store, ReportFixture& f) {
    ModelRecord m;
    m.path = "/models/tiny-mixtral.gguf";
    m.name = "tiny-mixtral";
    m.contentHash = "fp1:tiny";
    auto modelId = store.addModel(m);
    QVERIFY(modelId.isOk());
    f.modelId = *modelId;
    auto base = store.modelVersions().baseVersion(f.modelId);
    QVERIFY(base.isOk());
    f.versions.push_back(base->id);
    ModelVersionRecord lora;
    lora.kind = "adapter";
    lora.name = "lora";
    lora.configJson = R"({"r":8,"alpha":16})";
    auto loraId = store.modelVersions().addDerived(base->id, lora);
    QVERIFY(loraId.isOk());
    f.versions.push_back(*loraId);
    ModelVersionRecord q4;
    q4.kind = "quantization";
    q4.name = "q4_k";
    auto q4Id = store.modelVersions().addDerived(base->id, q4);
    QVERIFY(q4Id.isOk());
    f.versions.push_back(*q4Id);
    DatasetRecord ds;
    ds.path = "/data/mmlu-mini.jsonl";
    ds.name = "mmlu-mini";
    ds.contentHash = "fp1:mmlu";
    auto dsId = store.datasets().add(ds);
    QVERIFY(dsId.isOk());
    f.datasetId = *dsId;
    for (int i = 0; i < 3; ++i) {
        recordVersion(store, f, f.versions[size_t(i)], i);
        if (QTest::currentTestFailed()) return;
    }
}
