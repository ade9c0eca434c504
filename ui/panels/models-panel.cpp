// ModelsPanel: list the project's models; add model files through a probe worker thread.
#include "panels/models-panel.h"

#include "moe-projects/project-store.h"
#include "widgets/formatting.h"
#include "workers/model-probe-worker.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

namespace moe::ui {

Q_LOGGING_CATEGORY(lcModels, "moe.ui.models")

namespace {

constexpr int kIdRole = Qt::UserRole;
enum Column { ColName, ColArch, ColSize, ColParams, ColCount };

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

} // namespace

ModelsPanel::ModelsPanel(moe::projects::ProjectStore& store, QWidget* parent)
    : QWidget(parent), m_store(store) {
    setObjectName(QStringLiteral("modelsPanel"));

    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("modelList"));
    m_list->setColumnCount(ColCount);
    m_list->setHeaderLabels({tr("Name"), tr("Architecture"), tr("Size"), tr("Params")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setTextElideMode(Qt::ElideMiddle);
    m_list->setSelectionMode(QAbstractItemView::SingleSelection);
    m_list->header()->setStretchLastSection(false);
    m_list->header()->setSectionResizeMode(ColName, QHeaderView::Stretch);
    for (int c = ColArch; c < ColCount; ++c)
        m_list->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);

    m_addButton = new QPushButton(tr("Add model file..."), this);
    m_addButton->setObjectName(QStringLiteral("addModelButton"));
    m_addButton->setIcon(QIcon::fromTheme(QStringLiteral("list-add")));

    m_details = new QLabel(this);
    m_details->setObjectName(QStringLiteral("modelDetails"));
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_details->setAlignment(Qt::AlignTop | Qt::AlignLeft);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_list, 1);
    layout->addWidget(m_details);
    layout->addWidget(m_addButton);

    m_probe = new ModelProbeWorker;
    m_probe->moveToThread(&m_probeThread);
    connect(&m_probeThread, &QThread::finished, m_probe, &QObject::deleteLater);
    connect(this, &ModelsPanel::probeRequested, m_probe, &ModelProbeWorker::probe);
    connect(m_probe, &ModelProbeWorker::probed, this, &ModelsPanel::onProbed);
    connect(m_probe, &ModelProbeWorker::probeFailed, this, &ModelsPanel::onProbeFailed);
    m_probeThread.setObjectName(QStringLiteral("model-probe"));
    m_probeThread.start();

    connect(m_addButton, &QPushButton::clicked, this, &ModelsPanel::chooseModelFile);
    connect(m_list, &QTreeWidget::itemSelectionChanged, this, &ModelsPanel::onSelectionChanged);

    reload();
}

ModelsPanel::~ModelsPanel() {
    m_probeThread.quit();
    m_probeThread.wait();
}

qint64 ModelsPanel::currentModelId() const {
    const QList<QTreeWidgetItem*> selected = m_list->selectedItems();
    return selected.isEmpty() ? 0 : selected.first()->data(ColName, kIdRole).toLongLong();
}

void ModelsPanel::chooseModelFile() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Add model file"), QString(), tr("GGUF models (*.gguf);;All files (*)"));
    if (!path.isEmpty()) addModelFile(path);
}

void ModelsPanel::addModelFile(const QString& path) {
    ++m_pending;
    m_addButton->setEnabled(false);
    emit statusMessage(tr("Checking %1...").arg(path));
    qCInfo(lcModels) << "probing" << path;
    emit probeRequested(path);
}

void ModelsPanel::onProbed(const ProbedModel& probed) {
    --m_pending;
    m_addButton->setEnabled(m_pending == 0);
    moe::projects::ModelRecord record;
    record.path = probed.path.toStdString();
    record.name = probed.name.toStdString();
    record.contentHash = probed.contentHash.toStdString();
    record.format = probed.format.toStdString();
    record.architecture = probed.architecture.toStdString();
    record.family = probed.family.toStdString();
    record.fileBytes = probed.fileBytes;
    record.parameterCount = probed.parameterCount;
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
    --m_pending;
    m_addButton->setEnabled(m_pending == 0);
    showError(tr("Could not add %1:\n%2").arg(path, error));
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
    const qint64 keep = currentModelId();
    auto models = m_store.models();
    QSignalBlocker block(m_list);
    m_list->clear();
    if (!models) {
        showError(tr("Could not read the project's models: %1")
                      .arg(fromStd(models.status().toString())));
        return;
    }
    for (const moe::projects::ModelRecord& model : *models) {
        auto* item = new QTreeWidgetItem(m_list);
        item->setText(ColName, fromStd(model.name));
        item->setText(ColArch, fromStd(model.architecture));
        item->setText(ColSize, formatBytes(model.fileBytes));
        item->setText(ColParams, formatCount(model.parameterCount));
        item->setData(ColName, kIdRole, QVariant::fromValue<qint64>(model.id));
        item->setToolTip(ColName, fromStd(model.path));
        item->setTextAlignment(ColSize, Qt::AlignRight | Qt::AlignVCenter);
        item->setTextAlignment(ColParams, Qt::AlignRight | Qt::AlignVCenter);
        if (model.id == keep) item->setSelected(true);
    }
    block.unblock();
    onSelectionChanged();
}

void ModelsPanel::selectModel(qint64 modelId) {
    for (int i = 0; i < m_list->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = m_list->topLevelItem(i);
        if (item->data(ColName, kIdRole).toLongLong() == modelId) {
            m_list->setCurrentItem(item);
            item->setSelected(true);
            return;
        }
    }
}

void ModelsPanel::onSelectionChanged() {
    const qint64 id = currentModelId();
    if (id == 0) {
        m_details->setText(m_list->topLevelItemCount() == 0
                               ? tr("No models yet. Add a GGUF file to start.")
                               : tr("Select a model to chat with it."));
        return;
    }
    auto model = m_store.model(id);
    if (model) {
        const QString hash = fromStd(model->contentHash);
        m_details->setText(tr("<b>%1</b><br>%2 \u00b7 %3<br><small>%4<br>%5<br>added %6</small>")
                               .arg(fromStd(model->name).toHtmlEscaped(),
                                    fromStd(model->family).toHtmlEscaped(),
                                    fromStd(model->format).toHtmlEscaped(),
                                    QFileInfo(fromStd(model->path)).fileName().toHtmlEscaped(),
                                    hash.left(22).toHtmlEscaped() + QStringLiteral("..."),
                                    fromStd(model->addedAt).toHtmlEscaped()));
        m_details->setToolTip(fromStd(model->path));
    }
    emit modelSelected(id);
}

} // namespace moe::ui
