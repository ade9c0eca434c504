// ModelVersionRepo tests: addModel makes a base version; derived versions (adapter, esft-delta,
// merge, quantization) read back field for field after a reopen; versions() lists a model's
// versions in creation order; lineage() walks from any version to its base, across branches;
// a wrong kind, bad JSON, unknown parent or run is refused naming it, writing nothing.
#include "moe-projects/project-store.h"

#include <QTemporaryDir>
#include <QtTest>

#include <memory>

using namespace moe::projects;

namespace {

ModelRecord model(const std::string& path) {
    ModelRecord m;
    m.path = path;
    m.name = "base " + path;
    m.contentHash = "fp1:" + path;
    return m;
}

ModelVersionRecord derived(const std::string& kind, const std::string& name) {
    ModelVersionRecord v;
    v.kind = kind;
    v.name = name;
    v.path = "adapters/" + name;
    v.contentHash = "fp1:" + name;
    v.configJson = R"({"r":16,"alpha":32})";
    return v;
}

std::vector<int64_t> ids(const std::vector<ModelVersionRecord>& versions) {
    std::vector<int64_t> out;
    for (const auto& v : versions)
        out.push_back(v.id);
    return out;
}

} // namespace

class TestStoreLineage : public QObject {
    Q_OBJECT

private slots:
    void baseVersionMadeByAddModel();
    void derivedReadsBackEveryField();
    void lineageWalksToTheBase();
    void rejectsInvalidVersions_data();
    void rejectsInvalidVersions();
};

void TestStoreLineage::baseVersionMadeByAddModel() {
    QTemporaryDir tmp;
    auto store = ProjectStore::create(tmp.path().toStdString(), "lineage");
    QVERIFY(store.isOk());
    const int64_t m = *(*store)->addModel(model("/models/a.gguf"));
    QCOMPARE(*(*store)->addModel(model("/models/a.gguf")), m); // no second base version
    auto base = (*store)->modelVersions().baseVersion(m);
    QVERIFY2(base.isOk(), base.status().toString().c_str());
    QCOMPARE(base->modelId, m);
    QCOMPARE(base->kind, std::string("base"));
    QVERIFY(!base->parentId);
    QCOMPARE(base->path, std::string("/models/a.gguf"));
    QCOMPARE(base->contentHash, std::string("fp1:/models/a.gguf"));
    QCOMPARE(base->name, std::string("base /models/a.gguf"));
    QCOMPARE((*store)->modelVersions().versions(m)->size(), size_t(1));
    auto lineage = (*store)->modelVersions().lineage(base->id);
    QVERIFY(lineage.isOk());
    QCOMPARE(ids(*lineage), std::vector<int64_t>{base->id});
    auto none = (*store)->modelVersions().baseVersion(m + 50);
    QCOMPARE(none.status().code(), moe::StatusCode::NotFound);
    QVERIFY(none.status().message().find("model " + std::to_string(m + 50)) != std::string::npos);
}

void TestStoreLineage::derivedReadsBackEveryField() {
    QTemporaryDir tmp;
    int64_t m = 0, baseId = 0, adapterId = 0, runId = 0;
    {
        auto store = ProjectStore::create(tmp.path().toStdString(), "lineage");
        QVERIFY(store.isOk());
        m = *(*store)->addModel(model("/models/a.gguf"));
        baseId = (*store)->modelVersions().baseVersion(m)->id;
        runId = *(*store)->trainingRuns().begin("finetune", "{}", m);
        ModelVersionRecord v = derived("adapter", "lora-r16");
        v.runId = runId;
        v.modelId = 12345; // ignored: a derived version belongs to its parent's model
        auto id = (*store)->modelVersions().addDerived(baseId, v);
        QVERIFY2(id.isOk(), id.status().toString().c_str());
        adapterId = *id;
    }
    auto store = ProjectStore::open(tmp.path().toStdString());
    QVERIFY(store.isOk());
    auto v = (*store)->modelVersions().version(adapterId);
    QVERIFY(v.isOk());
    QCOMPARE(v->id, adapterId);
    QCOMPARE(v->modelId, m);
    QCOMPARE(v->parentId, std::optional<int64_t>(baseId));
    QCOMPARE(v->kind, std::string("adapter"));
    QCOMPARE(v->name, std::string("lora-r16"));
    QCOMPARE(v->path, std::string("adapters/lora-r16"));
    QCOMPARE(v->contentHash, std::string("fp1:lora-r16"));
    QCOMPARE(v->configJson, std::string(R"({"r":16,"alpha":32})"));
    QCOMPARE(v->runId, std::optional<int64_t>(runId));
    QCOMPARE(v->createdAt.size(), size_t(24));
}

void TestStoreLineage::lineageWalksToTheBase() {
    QTemporaryDir tmp;
    auto created = ProjectStore::create(tmp.path().toStdString(), "lineage");
    QVERIFY(created.isOk());
    ModelVersionRepo& versions = (*created)->modelVersions();
    const int64_t a = *(*created)->addModel(model("/models/a.gguf"));
    const int64_t b = *(*created)->addModel(model("/models/b.gguf"));
    const int64_t baseA = versions.baseVersion(a)->id;
    const int64_t baseB = versions.baseVersion(b)->id;
    // base -> adapter -> merge -> quantization, and a branch base -> esft-delta.
    const int64_t adapter = *versions.addDerived(baseA, derived("adapter", "lora"));
    const int64_t otherB = *versions.addDerived(baseB, derived("adapter", "lora-b"));
    const int64_t merge = *versions.addDerived(adapter, derived("merge", "merged"));
    const int64_t quant = *versions.addDerived(merge, derived("quantization", "q4_k"));
    const int64_t esft = *versions.addDerived(baseA, derived("esft-delta", "esft"));

    auto chain = versions.lineage(quant);
    QVERIFY2(chain.isOk(), chain.status().toString().c_str());
    QCOMPARE(ids(*chain), (std::vector<int64_t>{baseA, adapter, merge, quant}));
    QCOMPARE(chain->front().kind, std::string("base"));
    QCOMPARE(chain->back().kind, std::string("quantization"));
    QCOMPARE(ids(*versions.lineage(esft)), (std::vector<int64_t>{baseA, esft}));
    QCOMPARE(ids(*versions.lineage(otherB)), (std::vector<int64_t>{baseB, otherB}));
    QCOMPARE(ids(*versions.versions(a)),
             (std::vector<int64_t>{baseA, adapter, merge, quant, esft}));
    QCOMPARE(ids(*versions.versions(b)), (std::vector<int64_t>{baseB, otherB}));
    QCOMPARE(versions.version(quant)->modelId, a);
    auto missing = versions.lineage(9999);
    QCOMPARE(missing.status().code(), moe::StatusCode::NotFound);
    QVERIFY(missing.status().message().find("no model version with id 9999") != std::string::npos);
}

void TestStoreLineage::rejectsInvalidVersions_data() {
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("config");
    QTest::addColumn<qlonglong>("parent"); // 0 = the base version
    QTest::addColumn<qlonglong>("run");    // 0 = none
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("mentions");
    using moe::StatusCode;
    QTest::newRow("base kind") << "base"
                               << "" << 0LL << 0LL << int(StatusCode::InvalidArgument)
                               << "kind 'base' is not one of";
    QTest::newRow("unknown kind") << "lora"
                                  << "" << 0LL << 0LL << int(StatusCode::InvalidArgument)
                                  << "kind 'lora'";
    QTest::newRow("bad config") << "adapter"
                                << "{r:" << 0LL << 0LL << int(StatusCode::InvalidArgument)
                                << "config_json";
    QTest::newRow("unknown parent")
        << "adapter"
        << "" << 777LL << 0LL << int(StatusCode::NotFound) << "no model version with id 777";
    QTest::newRow("unknown run") << "adapter"
                                 << "" << 0LL << 555LL << int(StatusCode::NotFound)
                                 << "no run with id 555";
}

void TestStoreLineage::rejectsInvalidVersions() {
    QFETCH(QString, kind);
    QFETCH(QString, config);
    QFETCH(qlonglong, parent);
    QFETCH(qlonglong, run);
    QFETCH(int, code);
    QFETCH(QString, mentions);
    QTemporaryDir tmp;
    auto store = ProjectStore::create(tmp.path().toStdString(), "lineage");
    QVERIFY(store.isOk());
    const int64_t m = *(*store)->addModel(model("/models/a.gguf"));
    ModelVersionRepo& versions = (*store)->modelVersions();
    const int64_t base = versions.baseVersion(m)->id;
    ModelVersionRecord v = derived(kind.toStdString(), "x");
    v.configJson = config.toStdString();
    if (run) v.runId = run;
    auto result = versions.addDerived(parent ? parent : base, v);
    QVERIFY(!result.isOk());
    QCOMPARE(int(result.status().code()), code);
    QVERIFY2(QString::fromStdString(result.status().message()).contains(mentions),
             result.status().message().c_str());
    QCOMPARE(versions.versions(m)->size(), size_t(1));
    QVERIFY((*store)->checkIntegrity().isOk());
}

QTEST_GUILESS_MAIN(TestStoreLineage)
#include "test-store-lineage.moc"
