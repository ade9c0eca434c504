// ModelsPanel: the model library (lineage tree) and the inspector, over a probe worker thread.
#include "panels/models-panel.h"

#include "moe-projects/project-store.h"
#include "panels/model-inspector.h"
#include "widgets/formatting.h"
#include "workers/model-probe-worker.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QSplitter>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <map>

namespace moe::ui {

Q_LOGGING_CATEGORY(lcModels, "moe.ui.models")

namespace {

constexpr int kVersionRole = Qt::UserRole;
constexpr int kModelRole = Qt::UserRole + 1;
enum Column { ColName, ColKind, ColArch, ColSize, ColParams, ColCount };

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

QJsonObject parseObject(const std::string& json) {
    return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
}

} // namespace

ModelsPanel::ModelsPanel(moe::projects::ProjectStore& store, QWidget* parent)
    : QWidget(parent), m_store(store) {
    setObjectName(QStringLiteral("modelsPanel"));

    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("modelList"));
    m_list->setColumnCount(ColCount);
    m_list->setHeaderLabels({tr("Name"), tr("Kind"), tr("Architecture"), tr("Size"), tr("Params")});
    m_list->setUniformRowHeights(true);
    m_list->setTextElideMode(Qt::ElideMiddle);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->header()->setStretchLastSection(false);
    m_list->header()->setSectionResizeMode(ColName, QHeaderView::Stretch);
    for (int c = ColKind; c < ColCount; ++c)
        m_list->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);

    m_addButton = new QToolButton(this);
    m_addButton->setObjectName(QStringLiteral("addModelButton"));
    m_addButton->setText(tr("Add model"));
    m_addButton->setIcon(QIcon::fromTheme(QStringLiteral("list-add")));
    m_addButton->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_addButton->setPopupMode(QToolButton::MenuButtonPopup);
    auto* addMenu = new QMenu(m_addButton);
    addMenu->addAction(tr("GGUF file..."), this, &ModelsPanel::chooseModelFile);
    addMenu->addAction(tr("Hugging Face folder..."), this, &ModelsPanel::chooseModelFolder);
    m_addButton->setMenu(addMenu);
    connect(m_addButton, &QToolButton::clicked, this, &ModelsPanel::chooseModelFile);

    m_versionButton = new QToolButton(this);
    m_versionButton->setObjectName(QStringLiteral("addVersionButton"));
    m_versionButton->setText(tr("Add version"));
    m_versionButton->setToolButtonStyle(Qt::ToolButtonTextOnly);
    m_versionButton->setPopupMode(QToolButton::InstantPopup);
    auto* versionMenu = new QMenu(m_versionButton);
    versionMenu->addAction(tr("Quantized GGUF of the selected version..."), this,
                           [this] { chooseVersionFile(QStringLiteral("quantization")); });
    versionMenu->addAction(tr("Merged GGUF of the selected version..."), this,
                           [this] { chooseVersionFile(QStringLiteral("merge")); });
    m_versionButton->setMenu(versionMenu);

    m_details = new QLabel(this);
    m_details->setObjectName(QStringLiteral("modelDetails"));
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setAlignment(Qt::AlignTop | Qt::AlignLeft);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_addButton);
    buttons->addWidget(m_versionButton);
    buttons->addStretch(1);
    auto* library = new QWidget(this);
    auto* libraryLayout = new QVBoxLayout(library);
    libraryLayout->setContentsMargins(0, 0, 0, 0);
    libraryLayout->addLayout(buttons);
    libraryLayout->addWidget(m_list, 1);
    libraryLayout->addWidget(m_details);

    m_inspector = new ModelInspector(this);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(library);
    split->addWidget(m_inspector);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(split);

    m_probe = new ModelProbeWorker;
    m_probe->moveToThread(&m_probeThread);
    connect(&m_probeThread, &QThread::finished, m_probe, &QObject::deleteLater);
    connect(this, &ModelsPanel::probeRequested, m_probe, &ModelProbeWorker::probe);
    connect(this, &ModelsPanel::inspectRequested, m_probe, &ModelProbeWorker::inspect);
    connect(m_probe, &ModelProbeWorker::probed, this, &ModelsPanel::onProbed);
    connect(m_probe, &ModelProbeWorker::probeFailed, this, &ModelsPanel::onProbeFailed);
    connect(m_probe, &ModelProbeWorker::inspected, this, &ModelsPanel::onInspected);
    connect(m_probe, &ModelProbeWorker::inspectFailed, this, &ModelsPanel::onInspectFailed);
    m_probeThread.setObjectName(QStringLiteral("model-probe"));
    m_probeThread.start();

    connect(m_list, &QTreeWidget::itemSelectionChanged, this, &ModelsPanel::onSelectionChanged);
    reload();
}

ModelsPanel::~ModelsPanel() {
    m_probeThread.quit();
    m_probeThread.wait();
}

qint64 ModelsPanel::currentModelId() const {
    const QList<QTreeWidgetItem*> selected = m_list->selectedItems();
    return selected.isEmpty() ? 0 : selected.first()->data(ColName, kModelRole).toLongLong();
}

qint64 ModelsPanel::currentVersionId() const {
    const QList<QTreeWidgetItem*> selected = m_list->selectedItems();
    return selected.isEmpty() ? 0 : selected.first()->data(ColName, kVersionRole).toLongLong();
}

void ModelsPanel::chooseModelFile() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Add model file"), QString(), tr("GGUF models (*.gguf);;All files (*)"));
    if (!path.isEmpty()) addModelFile(path);
}

void ModelsPanel::chooseModelFolder() {
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Add a Hugging Face model folder (config.json, *.safetensors)"));
    if (!dir.isEmpty()) addModelFile(dir);
}

void ModelsPanel::chooseVersionFile(const QString& kind) {
    const qint64 parent = currentVersionId();
    if (parent == 0) {
        showError(tr("Select the version the new one derives from first."));
        return;
    }
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Add a %1 version").arg(kind), QString(), tr("GGUF models (*.gguf);;All files (*)"));
    if (!path.isEmpty()) addVersionFile(parent, path, kind);
}

void ModelsPanel::addModelFile(const QString& path) { addVersionFile(0, path, QStringLiteral("base")); }

void ModelsPanel::addVersionFile(qint64 parentVersionId, const QString& path, const QString& kind) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    m_pendingAdds.insert(absolute, {parentVersionId, kind});
    m_addButton->setEnabled(false);
    m_versionButton->setEnabled(false);
    emit statusMessage(tr("Checking %1...").arg(absolute));
    emit busyChanged(tr("Checking %1").arg(QFileInfo(absolute).fileName()), true);
    qCInfo(lcModels) << "probing" << absolute << kind;
    emit probeRequested(absolute);
}

void ModelsPanel::onProbed(const ProbedModel& probed) {
    const PendingAdd pending = m_pendingAdds.take(probed.path);
    m_addButton->setEnabled(m_pendingAdds.isEmpty());
    m_versionButton->setEnabled(m_pendingAdds.isEmpty());
    emit busyChanged(tr("Checking %1").arg(QFileInfo(probed.path).fileName()), false);
    if (pending.parentVersionId != 0) {
        auto parent = m_store.modelVersions().version(pending.parentVersionId);
        if (!parent) {
            showError(fromStd(parent.status().toString()));
            return;
        }
        moe::projects::ModelVersionRecord version;
        version.kind = pending.kind.toStdString();
        version.name = QFileInfo(probed.path).completeBaseName().toStdString();
        version.path = probed.path.toStdString();
        version.contentHash = probed.contentHash.toStdString();
        QJsonObject config;
        config[QStringLiteral("format")] = probed.format;
        config[QStringLiteral("architecture")] = probed.architecture;
        config[QStringLiteral("file_bytes")] = probed.fileBytes;
        config[QStringLiteral("parameter_count")] = probed.parameterCount;
        config[QStringLiteral("quant_types")] = probed.quantTypes;
        version.configJson = QJsonDocument(config).toJson(QJsonDocument::Compact).toStdString();
        auto id = m_store.modelVersions().addDerived(pending.parentVersionId, version);
        if (!id) {
            showError(tr("Could not record %1 in the project: %2")
                          .arg(probed.path, fromStd(id.status().toString())));
            return;
        }
        qCInfo(lcModels) << "added version" << *id << probed.path;
        emit statusMessage(tr("Added %1 version %2 of %3")
                               .arg(pending.kind, QString::fromStdString(version.name),
                                    fromStd(parent->name)));
        reload();
        selectVersion(*id);
        emit versionAdded(*id);
        return;
    }
    moe::projects::ModelRecord record;
    record.path = probed.path.toStdString();
    record.name = probed.name.toStdString();
    record.contentHash = probed.contentHash.toStdString();
    record.format = probed.format.toStdString();
    record.architecture = probed.architecture.toStdString();
    record.family = probed.family.toStdString();
    record.fileBytes = probed.fileBytes;
    record.parameterCount = probed.parameterCount;
    record.activeParameterCount = probed.activeParameterCount;
    record.quantTypes = probed.quantTypes.toStdString();
    auto id = m_store.addModel(record);
    if (!id) {
        showError(tr("Could not record %1 in the project: %2")
                      .arg(probed.path, fromStd(id.status().toString())));
        return;
    }
    qCInfo(lcModels) << "added model" << *id << probed.path;
    emit statusMessage(tr("Added %1 (%2 layers, %3 experts, %4 per token)")
                           .arg(probed.name)
                           .arg(probed.nLayer)
                           .arg(probed.nExpert)
                           .arg(probed.nExpertUsed));
    reload();
    selectModel(*id);
    emit modelAdded(*id);
}

void ModelsPanel::onProbeFailed(const QString& path, const QString& error) {
    m_pendingAdds.remove(path);
    m_addButton->setEnabled(m_pendingAdds.isEmpty());
    m_versionButton->setEnabled(m_pendingAdds.isEmpty());
    emit busyChanged(tr("Checking %1").arg(QFileInfo(path).fileName()), false);
    showError(tr("Could not add %1:\n%2").arg(path, error));
}

void ModelsPanel::onInspected(const ModelInspection& inspection) {
    m_inspecting.remove(inspection.versionId);
    emit busyChanged(tr("Inspecting %1").arg(QFileInfo(inspection.path).fileName()), false);
    m_inspections.insert(inspection.versionId, inspection);
    if (inspection.versionId != currentVersionId()) return;
    m_inspector->showInspection(inspection);
    m_shownVersion = inspection.versionId;
    emit inspectionShown(inspection.versionId);
}

void ModelsPanel::onInspectFailed(qint64 versionId, const QString& path, const QString& error) {
    m_inspecting.remove(versionId);
    emit busyChanged(tr("Inspecting %1").arg(QFileInfo(path).fileName()), false);
    if (versionId == currentVersionId())
        m_inspector->showMessage(tr("Could not inspect %1: %2").arg(path, error));
}

void ModelsPanel::showError(const QString& error) {
    qCWarning(lcModels).noquote() << error;
    emit statusMessage(error.section(QLatin1Char('\n'), 0, 0));
    emit addFailed(error);
    // Non-blocking: the panel keeps working and tests are never stuck in a nested event loop.
    auto* box = new QMessageBox(QMessageBox::Warning, tr("Add model"), error, QMessageBox::Ok,
                                this);
    box->setObjectName(QStringLiteral("modelErrorBox"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void ModelsPanel::reload() {
    const qint64 keep = currentVersionId();
    auto models = m_store.models();
    QSignalBlocker block(m_list);
    m_list->clear();
    if (!models) {
        showError(tr("Could not read the project's models: %1")
                      .arg(fromStd(models.status().toString())));
        return;
    }
    QTreeWidgetItem* keepItem = nullptr;
    for (const moe::projects::ModelRecord& model : *models) {
        auto versions = m_store.modelVersions().versions(model.id);
        if (!versions) continue;
        std::map<int64_t, QTreeWidgetItem*> items; // by version id; parents come first
        for (const moe::projects::ModelVersionRecord& v : *versions) {
            QTreeWidgetItem* item = nullptr;
            if (v.kind == "base") {
                item = new QTreeWidgetItem(m_list);
                item->setText(ColName, fromStd(model.name));
                item->setText(ColArch, fromStd(model.architecture));
                item->setText(ColSize, formatBytes(model.fileBytes));
                item->setText(ColParams, formatCount(model.parameterCount));
                item->setToolTip(ColName, fromStd(model.path));
            } else {
                auto parent = items.find(v.parentId.value_or(0));
                if (parent == items.end()) continue;
                item = new QTreeWidgetItem(parent->second);
                const QJsonObject config = parseObject(v.configJson);
                item->setText(ColName, fromStd(v.name));
                item->setText(ColArch, config.value(QStringLiteral("quant_types")).toString());
                item->setText(ColSize, formatBytes(config.value(QStringLiteral("file_bytes")).toInteger()));
                item->setText(ColParams, formatCount(config.value(QStringLiteral("parameter_count")).toInteger()));
                item->setToolTip(ColName, fromStd(v.path));
            }
            item->setText(ColKind, fromStd(v.kind));
            item->setData(ColName, kVersionRole, QVariant::fromValue<qint64>(v.id));
            item->setData(ColName, kModelRole, QVariant::fromValue<qint64>(model.id));
            item->setTextAlignment(ColSize, Qt::AlignRight | Qt::AlignVCenter);
            item->setTextAlignment(ColParams, Qt::AlignRight | Qt::AlignVCenter);
            items[v.id] = item;
            if (v.id == keep) keepItem = item;
        }
    }
    m_list->expandAll();
    if (keepItem) {
        m_list->setCurrentItem(keepItem);
        keepItem->setSelected(true);
    }
    block.unblock();
    onSelectionChanged();
}

QTreeWidgetItem* ModelsPanel::findVersionItem(qint64 versionId) const {
    for (QTreeWidgetItemIterator it(m_list); *it; ++it)
        if ((*it)->data(ColName, kVersionRole).toLongLong() == versionId) return *it;
    return nullptr;
}

void ModelsPanel::selectModel(qint64 modelId) {
    for (int i = 0; i < m_list->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = m_list->topLevelItem(i);
        if (item->data(ColName, kModelRole).toLongLong() == modelId) {
            m_list->setCurrentItem(item);
            item->setSelected(true);
            return;
        }
    }
}

void ModelsPanel::selectVersion(qint64 versionId) {
    if (QTreeWidgetItem* item = findVersionItem(versionId)) {
        m_list->setCurrentItem(item);
        item->setSelected(true);
    }
}

void ModelsPanel::onSelectionChanged() {
    const qint64 id = currentModelId();
    const qint64 versionId = currentVersionId();
    m_versionButton->setEnabled(versionId != 0 && m_pendingAdds.isEmpty());
    if (id == 0) {
        m_details->setText(m_list->topLevelItemCount() == 0
                               ? tr("No models yet. Add a GGUF file or a Hugging Face folder.")
                               : tr("Select a model to inspect it and chat with it."));
        m_inspector->showMessage(tr("Select a model version to inspect it."));
        m_shownVersion = 0;
        return;
    }
    auto model = m_store.model(id);
    auto version = m_store.modelVersions().version(versionId);
    if (model && version) {
        QStringList chain;
        if (auto lineage = m_store.modelVersions().lineage(versionId))
            for (const auto& v : *lineage)
                chain << QStringLiteral("%1 (%2)").arg(fromStd(v.name), fromStd(v.kind)).toHtmlEscaped();
        m_details->setText(tr("<b>Lineage</b> %1<br><small>%2<br>%3 &middot; added %4</small>")
                               .arg(chain.join(QStringLiteral(" &rarr; ")),
                                    QFileInfo(fromStd(version->path)).fileName().toHtmlEscaped(),
                                    fromStd(version->contentHash).left(22).toHtmlEscaped() +
                                        QStringLiteral("..."),
                                    fromStd(version->createdAt).toHtmlEscaped()));
        m_details->setToolTip(fromStd(version->path));

        if (auto cached = m_inspections.constFind(versionId); cached != m_inspections.constEnd()) {
            m_inspector->showInspection(*cached);
            m_shownVersion = versionId;
            emit inspectionShown(versionId);
        } else if (version->kind == "adapter") {
            m_inspector->showMessage(tr("%1 is an adapter of %2; the engine runs adapters once "
                                        "they are applied to their base.")
                                         .arg(fromStd(version->name), fromStd(model->name)));
        } else {
            m_inspector->showMessage(tr("Loading %1...").arg(fromStd(version->path)));
            if (!m_inspecting.contains(versionId)) {
                m_inspecting.insert(versionId);
                emit busyChanged(tr("Inspecting %1").arg(QFileInfo(fromStd(version->path)).fileName()), true);
                emit inspectRequested(versionId, fromStd(version->path));
            }
        }
    }
    emit versionSelected(versionId);
    emit modelSelected(id);
}

} // namespace moe::ui
