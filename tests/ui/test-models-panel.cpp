// Offscreen Qt Test of the Models panel's main path: add a GGUF file and a Hugging Face folder
// (tiny random models written by moe::writeRandomModel), add a quantized version under a base,
// see the lineage in the library and the inspector's tabs filled, and find it all in the project
// database and in a panel reopened over it.
#include "moe-projects/project-store.h"
#include "moe/model-factory.h"
#include "moe/model.h"
#include "panels/model-inspector.h"
#include "panels/models-panel.h"

#include <QLineEdit>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using moe::projects::ProjectStore;
using moe::ui::ModelsPanel;

class TestModelsPanel : public QObject {
    Q_OBJECT

private slots:
    void initTestCase();
    void addModelShowsInspector();
    void addVersionShowsLineage();
    void addHuggingFaceFolder();
    void reopenedProjectShowsLibrary();

private:
    QTreeWidget* library(ModelsPanel& panel) {
        return panel.findChild<QTreeWidget*>(QStringLiteral("modelList"));
    }
    void addAndWait(ModelsPanel& panel, const QString& path);

    QTemporaryDir m_dir;
    QString m_projectDir;
    QString m_f32Path;
    QString m_q8Path;
    QString m_hfDir;
    std::unique_ptr<ProjectStore> m_store;
};

void TestModelsPanel::initTestCase() {
    QVERIFY(m_dir.isValid());
    moe::RandomModelOptions options;
    options.arch = "mixtral";
    options.preset = "tiny";
    m_f32Path = m_dir.filePath(QStringLiteral("tiny-f32.gguf"));
    moe::Status status = moe::writeRandomModel(options, m_f32Path.toStdString());
    QVERIFY2(status.isOk(), status.toString().c_str());
    options.type = "q8_0";
    m_q8Path = m_dir.filePath(QStringLiteral("tiny-q8_0.gguf"));
    status = moe::writeRandomModel(options, m_q8Path.toStdString());
    QVERIFY2(status.isOk(), status.toString().c_str());
    options.type = "f32";
    options.format = "hf";
    options.seed = 2;
    m_hfDir = m_dir.filePath(QStringLiteral("tiny-hf"));
    status = moe::writeRandomModel(options, m_hfDir.toStdString());
    QVERIFY2(status.isOk(), status.toString().c_str());

    m_projectDir = m_dir.filePath(QStringLiteral("project"));
    auto store = ProjectStore::create(m_projectDir.toStdString(), "models test");
    QVERIFY2(store, store.status().toString().c_str());
    m_store = std::move(store).value();
}

void TestModelsPanel::addAndWait(ModelsPanel& panel, const QString& path) {
    QSignalSpy added(&panel, &ModelsPanel::modelAdded);
    QSignalSpy failed(&panel, &ModelsPanel::addFailed);
    panel.addModelFile(path);
    QVERIFY(panel.isBusy());
    QTRY_VERIFY_WITH_TIMEOUT(added.count() + failed.count() > 0, 30000);
    QVERIFY2(failed.isEmpty(), failed.isEmpty() ? "" : qPrintable(failed.at(0).at(0).toString()));
}

void TestModelsPanel::addModelShowsInspector() {
    ModelsPanel panel(*m_store);
    panel.resize(1100, 700);
    panel.show();
    QSignalSpy shown(&panel, &ModelsPanel::inspectionShown);
    addAndWait(panel, m_f32Path);
    QVERIFY(panel.currentModelId() != 0);
    QVERIFY(panel.currentVersionId() != 0);
    QCOMPARE(library(panel)->topLevelItemCount(), 1);

    // The recorded model and its base version.
    auto model = m_store->model(panel.currentModelId());
    QVERIFY(model);
    QCOMPARE(QString::fromStdString(model->path), m_f32Path);
    QCOMPARE(QString::fromStdString(model->quantTypes), QStringLiteral("F32"));
    QVERIFY(model->activeParameterCount > 0 && model->activeParameterCount < model->parameterCount);
    auto base = m_store->modelVersions().baseVersion(model->id);
    QVERIFY(base);
    QCOMPARE(base->id, panel.currentVersionId());

    // The inspector: every tensor with its type and size, the template, a memory row per device.
    QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0, 30000);
    QCOMPARE(panel.inspectedVersionId(), base->id);
    auto loaded = moe::Model::load(m_f32Path.toStdString());
    QVERIFY(loaded);
    const moe::ModelInfo& info = (*loaded)->info();
    moe::ui::ModelInspector* inspector = panel.inspector();
    QTableWidget* tensors = inspector->tensorTable();
    QCOMPARE(tensors->rowCount(), int(info.tensors.size()));
    QStringList names;
    for (int row = 0; row < tensors->rowCount(); ++row) {
        names << tensors->item(row, 0)->text();
        QCOMPARE(tensors->item(row, 2)->text(), QStringLiteral("F32"));
    }
    QVERIFY(names.contains(QString::fromStdString(info.tensors.front().name)));
    QVERIFY(inspector->memoryTable()->rowCount() >= 1);
    QVERIFY(inspector->memoryTable()->item(0, 2)->text().contains(QStringLiteral("B")));
    const QList<QTreeWidgetItem*> experts = inspector->overviewTree()->findItems(
        QStringLiteral("Routed experts"), Qt::MatchExactly | Qt::MatchRecursive);
    QCOMPARE(experts.size(), 1);
    QCOMPARE(experts.front()->text(1), QString::number(info.spec.nExpert));
    auto* chatTemplate = inspector->findChild<QPlainTextEdit*>(QStringLiteral("chatTemplateText"));
    QVERIFY(chatTemplate && !chatTemplate->toPlainText().isEmpty());

    // Filtering the tensor table by type hides the rest.
    inspector->findChild<QLineEdit*>(QStringLiteral("tensorFilter"))->setText(QStringLiteral("exps"));
    int visible = 0;
    for (int row = 0; row < tensors->rowCount(); ++row) visible += tensors->isRowHidden(row) ? 0 : 1;
    QVERIFY(visible > 0 && visible < tensors->rowCount());
}

void TestModelsPanel::addVersionShowsLineage() {
    ModelsPanel panel(*m_store);
    QCOMPARE(library(panel)->topLevelItemCount(), 1);
    library(panel)->setCurrentItem(library(panel)->topLevelItem(0));
    const qint64 baseId = panel.currentVersionId();
    QVERIFY(baseId != 0);
    QSignalSpy added(&panel, &ModelsPanel::versionAdded);
    panel.addVersionFile(baseId, m_q8Path, QStringLiteral("quantization"));
    QTRY_COMPARE_WITH_TIMEOUT(added.count(), 1, 30000);
    const qint64 versionId = added.at(0).at(0).toLongLong();
    QCOMPARE(panel.currentVersionId(), versionId);

    QTreeWidgetItem* root = library(panel)->topLevelItem(0);
    QCOMPARE(root->childCount(), 1);
    QCOMPARE(root->child(0)->text(1), QStringLiteral("quantization"));
    QVERIFY(root->child(0)->text(2).contains(QStringLiteral("Q8_0")));
    auto lineage = m_store->modelVersions().lineage(versionId);
    QVERIFY(lineage && lineage->size() == 2);
    QCOMPARE(lineage->front().id, baseId);
    QCOMPARE(QString::fromStdString(lineage->back().path), m_q8Path);

    QSignalSpy shown(&panel, &ModelsPanel::inspectionShown);
    QTRY_VERIFY_WITH_TIMEOUT(panel.inspectedVersionId() == versionId, 30000);
    bool quantized = false;
    QTableWidget* tensors = panel.inspector()->tensorTable();
    for (int row = 0; row < tensors->rowCount(); ++row)
        quantized |= tensors->item(row, 2)->text() == QStringLiteral("Q8_0");
    QVERIFY(quantized);
}

void TestModelsPanel::addHuggingFaceFolder() {
    ModelsPanel panel(*m_store);
    addAndWait(panel, m_hfDir);
    auto model = m_store->model(panel.currentModelId());
    QVERIFY(model);
    QCOMPARE(QString::fromStdString(model->format), QStringLiteral("hf"));
    QCOMPARE(QString::fromStdString(model->path), m_hfDir);
    QCOMPARE(library(panel)->topLevelItemCount(), 2);
    QTRY_VERIFY_WITH_TIMEOUT(panel.inspectedVersionId() == panel.currentVersionId(), 30000);
    QVERIFY(panel.inspector()->tensorTable()->rowCount() > 0);
}

void TestModelsPanel::reopenedProjectShowsLibrary() {
    m_store.reset();
    auto store = ProjectStore::open(m_projectDir.toStdString());
    QVERIFY2(store, store.status().toString().c_str());
    m_store = std::move(store).value();
    ModelsPanel panel(*m_store);
    QTreeWidget* tree = library(panel);
    QCOMPARE(tree->topLevelItemCount(), 2);
    int children = 0;
    for (int i = 0; i < tree->topLevelItemCount(); ++i) children += tree->topLevelItem(i)->childCount();
    QCOMPARE(children, 1);
}

QTEST_MAIN(TestModelsPanel)
#include "test-models-panel.moc"
