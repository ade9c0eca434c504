// RunsPanel: the run history with filters and the opened run's details (see the header).
#include "panels/runs-panel.h"

#include "moe-projects/project-store.h"
#include "panels/run-details.h"

#include <QComboBox>
#include <QDateTime>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMap>
#include <QSet>
#include <QSplitter>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace moe::ui {

Q_LOGGING_CATEGORY(lcRuns, "moe.ui.runs")

namespace {

constexpr int kSourceRole = Qt::UserRole;
constexpr int kIdRole = Qt::UserRole + 1;
constexpr int kSearchRole = Qt::UserRole + 2;
constexpr int kSortRole = Qt::UserRole + 3;
enum Column { ColId, ColKind, ColStatus, ColModel, ColStarted, ColDuration, ColSummary, ColCount };

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

QString duration(const std::string& started, const std::string& finished) {
    const QDateTime a = QDateTime::fromString(fromStd(started), Qt::ISODateWithMs);
    const QDateTime b = QDateTime::fromString(fromStd(finished), Qt::ISODateWithMs);
    if (!a.isValid() || !b.isValid()) return {};
    const double s = static_cast<double>(a.msecsTo(b)) / 1000.0;
    if (s < 60) return QStringLiteral("%1 s").arg(s, 0, 'f', 1);
    if (s < 3600) return QStringLiteral("%1 min").arg(s / 60, 0, 'f', 1);
    return QStringLiteral("%1 h").arg(s / 3600, 0, 'f', 1);
}

QString shortTime(const std::string& iso) {
    return fromStd(iso).left(19).replace(QLatin1Char('T'), QLatin1Char(' '));
}

// A one-line summary from the config/result JSON of the common kinds.
QString summaryOf(const moe::projects::RunSummary& run) {
    if (run.lastLoss) return QStringLiteral("step %1, loss %2").arg(run.lastStep).arg(*run.lastLoss, 0, 'f', 4);
    const QJsonObject result = QJsonDocument::fromJson(QByteArray::fromStdString(run.resultJson)).object();
    const QJsonObject config = QJsonDocument::fromJson(QByteArray::fromStdString(run.configJson)).object();
    if (result.contains(QStringLiteral("error")))
        return QObject::tr("error: %1").arg(result.value(QStringLiteral("error")).toString().simplified().left(80));
    if (run.kind == "compare")
        return QObject::tr("comparison #%1: %2 prompt(s) \u00d7 %3 versions, %4 outputs")
            .arg(config.value(QStringLiteral("comparison_id")).toInteger())
            .arg(config.value(QStringLiteral("prompts")).toArray().size())
            .arg(config.value(QStringLiteral("version_ids")).toArray().size())
            .arg(result.value(QStringLiteral("outputs")).toInt());
    if (run.kind == "routing" && result.contains(QStringLiteral("tokens_seen")))
        return QObject::tr("%1 tokens through %2 layers \u00d7 %3 experts \u00b7 \u201c%4\u201d")
            .arg(result.value(QStringLiteral("tokens_seen")).toInteger())
            .arg(result.value(QStringLiteral("n_layer")).toInt())
            .arg(result.value(QStringLiteral("n_expert")).toInt())
            .arg(config.value(QStringLiteral("prompt")).toString().simplified().left(50));
    QString text = fromStd(run.resultJson.empty() ? run.configJson : run.resultJson).simplified();
    if (text.size() > 90) text = text.left(89) + QChar(0x2026);
    return text;
}

class SortItem : public QTreeWidgetItem {
public:
    using QTreeWidgetItem::QTreeWidgetItem;
    bool operator<(const QTreeWidgetItem& other) const override {
        const int column = treeWidget() ? treeWidget()->sortColumn() : 0;
        if (column == ColId || column == ColStarted)
            return data(0, kSortRole).toString() < other.data(0, kSortRole).toString();
        return QTreeWidgetItem::operator<(other);
    }
};

} // namespace

RunsPanel::RunsPanel(moe::projects::ProjectStore& store, QWidget* parent)
    : QWidget(parent), m_store(store) {
    setObjectName(QStringLiteral("runsPanel"));
    m_kind = new QComboBox(this);
    m_kind->setObjectName(QStringLiteral("runKindFilter"));
    m_status = new QComboBox(this);
    m_status->setObjectName(QStringLiteral("runStatusFilter"));
    m_status->addItem(tr("All statuses"), QString());
    for (const char* s : {"running", "queued", "completed", "failed", "cancelled", "interrupted"})
        m_status->addItem(QString::fromLatin1(s), QString::fromLatin1(s));
    m_text = new QLineEdit(this);
    m_text->setObjectName(QStringLiteral("runTextFilter"));
    m_text->setPlaceholderText(tr("Filter by text (title, model, config, result)"));
    m_text->setClearButtonEnabled(true);
    m_count = new QLabel(this);
    m_count->setObjectName(QStringLiteral("runCount"));
    auto* filters = new QHBoxLayout;
    filters->addWidget(m_kind);
    filters->addWidget(m_status);
    filters->addWidget(m_text, 1);
    filters->addWidget(m_count);

    m_list = new QTreeWidget(this);
    m_list->setObjectName(QStringLiteral("runList"));
    m_list->setColumnCount(ColCount);
    m_list->setHeaderLabels({tr("#"), tr("Kind"), tr("Status"), tr("Model"), tr("Started"),
                             tr("Duration"), tr("Summary")});
    m_list->setRootIsDecorated(false);
    m_list->setUniformRowHeights(true);
    m_list->setSortingEnabled(true);
    m_list->header()->setStretchLastSection(true);
    for (int c = ColId; c < ColSummary; ++c)
        m_list->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);

    m_details = new RunDetails(this);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_list);
    split->addWidget(m_details);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    split->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(filters);
    layout->addWidget(split, 1);

    connect(m_kind, &QComboBox::currentIndexChanged, this, &RunsPanel::applyFilter);
    connect(m_status, &QComboBox::currentIndexChanged, this, &RunsPanel::applyFilter);
    connect(m_text, &QLineEdit::textChanged, this, &RunsPanel::applyFilter);
    connect(m_list, &QTreeWidget::currentItemChanged, this, &RunsPanel::onCurrentChanged);
    reload();
}

void RunsPanel::reload() {
    QMap<qint64, QString> modelNames;
    if (auto models = m_store.models())
        for (const moe::projects::ModelRecord& m : *models) modelNames.insert(m.id, fromStd(m.name));

    const QString keepSource = m_openedSource;
    const qint64 keepId = m_openedId;
    QSet<QString> kinds;
    {
        QSignalBlocker block(m_list);
        m_list->setSortingEnabled(false);
        m_list->clear();
        auto runs = m_store.trainingRuns().history({.kind = {}, .status = {}, .limit = 100000, .offset = 0});
        if (!runs) emit statusMessage(tr("Could not read the runs: %1").arg(fromStd(runs.status().toString())));
        for (const moe::projects::RunSummary& run : runs ? *runs : std::vector<moe::projects::RunSummary>{}) {
            auto* item = new SortItem(m_list);
            const QString model = run.modelId ? modelNames.value(*run.modelId, tr("model %1").arg(*run.modelId)) : QString();
            item->setText(ColId, QString::number(run.id));
            item->setText(ColKind, fromStd(run.kind));
            item->setText(ColStatus, fromStd(run.status));
            item->setText(ColModel, model);
            item->setText(ColStarted, shortTime(run.startedAt));
            item->setText(ColDuration, duration(run.startedAt, run.finishedAt));
            item->setText(ColSummary, summaryOf(run));
            item->setData(0, kSourceRole, QStringLiteral("run"));
            item->setData(0, kIdRole, QVariant::fromValue<qint64>(run.id));
            item->setData(0, kSearchRole, QStringList{fromStd(run.kind), model, fromStd(run.configJson),
                                                      fromStd(run.resultJson)}.join(QLatin1Char(' ')));
            item->setData(0, kSortRole, fromStd(run.startedAt) + QStringLiteral("|r%1").arg(run.id, 12, 10, QLatin1Char('0')));
            kinds.insert(fromStd(run.kind));
        }
        auto sessions = m_store.chatSessions();
        for (const moe::projects::ChatSessionRecord& s : sessions ? *sessions : std::vector<moe::projects::ChatSessionRecord>{}) {
            auto* item = new SortItem(m_list);
            auto messages = m_store.messageCount(s.id);
            const qint64 count = messages ? *messages : 0;
            item->setText(ColId, QStringLiteral("c%1").arg(s.id));
            item->setText(ColKind, QStringLiteral("chat"));
            item->setText(ColStatus, QStringLiteral("completed"));
            item->setText(ColModel, modelNames.value(s.modelId));
            item->setText(ColStarted, shortTime(s.createdAt));
            item->setText(ColSummary, tr("%1 (%2 messages)").arg(fromStd(s.title)).arg(count));
            item->setData(0, kSourceRole, QStringLiteral("chat"));
            item->setData(0, kIdRole, QVariant::fromValue<qint64>(s.id));
            item->setData(0, kSearchRole, QStringList{QStringLiteral("chat"), fromStd(s.title), fromStd(s.systemPrompt),
                                                      modelNames.value(s.modelId)}.join(QLatin1Char(' ')));
            item->setData(0, kSortRole, fromStd(s.createdAt) + QStringLiteral("|c%1").arg(s.id, 12, 10, QLatin1Char('0')));
            kinds.insert(QStringLiteral("chat"));
        }
        m_list->setSortingEnabled(true);
        m_list->sortItems(ColStarted, Qt::DescendingOrder);
    }
    {
        const QString keepKind = m_kind->currentData().toString();
        QSignalBlocker block(m_kind);
        m_kind->clear();
        m_kind->addItem(tr("All kinds"), QString());
        QStringList sorted(kinds.begin(), kinds.end());
        sorted.sort();
        for (const QString& k : sorted) m_kind->addItem(k, k);
        if (!keepKind.isEmpty() && m_kind->findData(keepKind) < 0) m_kind->addItem(keepKind, keepKind);
        m_kind->setCurrentIndex(std::max(0, m_kind->findData(keepKind)));
    }
    applyFilter();
    if (keepId != 0) openItemWith(keepSource, keepId);
}

int RunsPanel::totalCount() const { return m_list->topLevelItemCount(); }

int RunsPanel::visibleCount() const {
    int n = 0;
    for (int i = 0; i < m_list->topLevelItemCount(); ++i) n += m_list->topLevelItem(i)->isHidden() ? 0 : 1;
    return n;
}

void RunsPanel::setKindFilter(const QString& kind) {
    int index = m_kind->findData(kind);
    if (index < 0 && !kind.isEmpty()) {
        m_kind->addItem(kind, kind);
        index = m_kind->count() - 1;
    }
    m_kind->setCurrentIndex(std::max(0, index));
}

void RunsPanel::setStatusFilter(const QString& status) {
    m_status->setCurrentIndex(std::max(0, m_status->findData(status)));
}

void RunsPanel::setTextFilter(const QString& text) { m_text->setText(text); }

void RunsPanel::applyFilter() {
    const QString kind = m_kind->currentData().toString();
    const QString status = m_status->currentData().toString();
    const QString text = m_text->text().trimmed();
    for (int i = 0; i < m_list->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = m_list->topLevelItem(i);
        bool show = (kind.isEmpty() || item->text(ColKind) == kind) &&
                    (status.isEmpty() || item->text(ColStatus) == status);
        if (show && !text.isEmpty())
            show = item->data(0, kSearchRole).toString().contains(text, Qt::CaseInsensitive) ||
                   item->text(ColSummary).contains(text, Qt::CaseInsensitive);
        item->setHidden(!show);
    }
    m_count->setText(tr("%1 of %2").arg(visibleCount()).arg(totalCount()));
}

void RunsPanel::onCurrentChanged() {
    QTreeWidgetItem* item = m_list->currentItem();
    if (!item) return;
    const QString source = item->data(0, kSourceRole).toString();
    const qint64 id = item->data(0, kIdRole).toLongLong();
    if (source == QLatin1String("chat")) {
        m_details->showChat(m_store, id);
    } else {
        auto run = m_store.trainingRuns().run(id);
        if (!run) {
            emit statusMessage(tr("Could not read run #%1: %2").arg(id).arg(fromStd(run.status().toString())));
            return;
        }
        m_details->showRun(m_store, *run);
    }
    m_openedSource = source;
    m_openedId = id;
    emit runOpened(source, id);
}

bool RunsPanel::openItemWith(const QString& source, qint64 id) {
    for (int i = 0; i < m_list->topLevelItemCount(); ++i) {
        QTreeWidgetItem* item = m_list->topLevelItem(i);
        if (item->data(0, kSourceRole).toString() == source && item->data(0, kIdRole).toLongLong() == id) {
            if (m_list->currentItem() == item) onCurrentChanged();
            else m_list->setCurrentItem(item);
            return true;
        }
    }
    return false;
}

bool RunsPanel::openRun(qint64 runId) { return openItemWith(QStringLiteral("run"), runId); }

bool RunsPanel::openChat(qint64 sessionId) { return openItemWith(QStringLiteral("chat"), sessionId); }

} // namespace moe::ui
