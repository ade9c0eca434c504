// ComparePanel: prompts x versions side by side, recorded as a comparison (see the header).
#include "panels/compare-panel.h"

#include "moe-projects/project-store.h"
#include "panels/compare-column.h"
#include "shell/job-tracker.h"
#include "widgets/formatting.h"
#include "widgets/word-diff.h"
#include "workers/version-runner.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QEvent>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QListWidget>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <limits>

namespace moe::ui {

Q_LOGGING_CATEGORY(lcCompare, "moe.ui.compare")

namespace {

constexpr int kIdRole = Qt::UserRole;

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

QJsonObject parseObject(const std::string& json) {
    return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
}

std::string compact(const QJsonObject& o) {
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

QString shortTitle(const QString& text, int max = 60) {
    QString title = text.simplified();
    if (title.size() > max) title = title.left(max - 1) + QChar(0x2026);
    return title;
}

// Keeps both ends ("random mix…q4_k_m (quantization)"): versions of one model share the start.
QString middleTitle(const QString& text, int max) {
    const QString title = text.simplified();
    if (title.size() <= max) return title;
    const int head = (max - 1) / 3;
    return title.left(head) + QChar(0x2026) + title.right(max - 1 - head);
}

QString statsLine(const QJsonObject& stats) {
    if (stats.isEmpty()) return {};
    return formatGenerationStats(stats.value(QStringLiteral("tok_s")).toDouble(),
                                 stats.value(QStringLiteral("ttft_ms")).toDouble(),
                                 stats.value(QStringLiteral("tokens")).toInt(),
                                 stats.value(QStringLiteral("stop_reason")).toString());
}

bool isDark(const QWidget* w) { return w->palette().color(QPalette::Base).lightness() < 128; }

} // namespace

ComparePanel::ComparePanel(moe::projects::ProjectStore& store, JobTracker* jobs, QWidget* parent)
    : QWidget(parent), m_store(store), m_jobs(jobs) {
    setObjectName(QStringLiteral("comparePanel"));
    buildUi();
    reload();
}

ComparePanel::~ComparePanel() {
    for (VersionRunner* runner : std::as_const(m_runners)) runner->stop();
    qDeleteAll(m_runners); // each joins its worker thread
    if (m_jobs && m_jobId) m_jobs->finish(m_jobId);
}

void ComparePanel::buildUi() {
    m_versionList = new QListWidget(this);
    m_versionList->setObjectName(QStringLiteral("compareVersionList"));
    m_versionList->setTextElideMode(Qt::ElideMiddle);
    m_versionList->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto* versionsBox = new QGroupBox(tr("Versions (check 2 or more)"), this);
    (new QVBoxLayout(versionsBox))->addWidget(m_versionList);

    m_promptEdit = new QPlainTextEdit(this);
    m_promptEdit->setObjectName(QStringLiteral("comparePromptEdit"));
    m_promptEdit->setPlaceholderText(tr("A prompt, or one prompt per line"));
    m_promptEdit->setTabChangesFocus(true);
    m_perLine = new QCheckBox(tr("Each line is a prompt (prompt set)"), this);
    m_perLine->setObjectName(QStringLiteral("perLineCheck"));
    auto* promptBox = new QGroupBox(tr("Prompt"), this);
    auto* promptLayout = new QVBoxLayout(promptBox);
    promptLayout->addWidget(m_promptEdit);
    promptLayout->addWidget(m_perLine);

    m_temperature = new QDoubleSpinBox(this);
    m_temperature->setObjectName(QStringLiteral("compareTemperature"));
    m_temperature->setRange(0.0, 2.0);
    m_temperature->setSingleStep(0.05);
    m_temperature->setValue(0.0);
    m_temperature->setToolTip(tr("0 is greedy: the same prompt gives the same reply"));
    m_maxTokens = new QSpinBox(this);
    m_maxTokens->setObjectName(QStringLiteral("compareMaxTokens"));
    m_maxTokens->setRange(1, 1 << 16);
    m_maxTokens->setValue(128);
    m_seed = new QSpinBox(this);
    m_seed->setObjectName(QStringLiteral("compareSeed"));
    m_seed->setRange(0, std::numeric_limits<int>::max());
    m_seed->setValue(1);
    auto* samplingBox = new QGroupBox(tr("Sampling (same for every version)"), this);
    auto* form = new QFormLayout(samplingBox);
    form->addRow(tr("Temperature"), m_temperature);
    form->addRow(tr("Max tokens"), m_maxTokens);
    form->addRow(tr("Seed"), m_seed);

    m_runButton = new QPushButton(tr("Run comparison"), this);
    m_runButton->setObjectName(QStringLiteral("runCompareButton"));
    m_runButton->setDefault(true);
    m_stopButton = new QPushButton(tr("Stop"), this);
    m_stopButton->setObjectName(QStringLiteral("stopCompareButton"));
    auto* runRow = new QHBoxLayout;
    runRow->addWidget(m_runButton, 1);
    runRow->addWidget(m_stopButton);

    m_comparisonList = new QListWidget(this);
    m_comparisonList->setObjectName(QStringLiteral("comparisonList"));
    m_comparisonList->setWordWrap(true);
    m_comparisonList->setTextElideMode(Qt::ElideRight);
    m_comparisonList->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_rerunButton = new QPushButton(tr("Re-run"), this);
    m_rerunButton->setObjectName(QStringLiteral("rerunButton"));
    m_rerunButton->setToolTip(tr("Run the shown comparison's prompts on its versions again"));
    auto* pastBox = new QGroupBox(tr("Past comparisons"), this);
    auto* pastLayout = new QVBoxLayout(pastBox);
    pastLayout->addWidget(m_comparisonList, 1);
    pastLayout->addWidget(m_rerunButton);

    auto* left = new QWidget(this);
    auto* leftLayout = new QVBoxLayout(left);
    leftLayout->setContentsMargins(0, 0, 0, 0);
    leftLayout->addWidget(versionsBox, 2);
    leftLayout->addWidget(promptBox, 2);
    leftLayout->addWidget(samplingBox);
    leftLayout->addLayout(runRow);
    leftLayout->addWidget(pastBox, 2);

    m_promptCombo = new QComboBox(this);
    m_promptCombo->setObjectName(QStringLiteral("comparePromptCombo"));
    m_promptCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_promptCombo->setMinimumContentsLength(30);
    m_diff = new QCheckBox(tr("Word diff"), this);
    m_diff->setObjectName(QStringLiteral("diffCheck"));
    m_diffA = new QComboBox(this);
    m_diffA->setObjectName(QStringLiteral("diffA"));
    m_diffB = new QComboBox(this);
    m_diffB->setObjectName(QStringLiteral("diffB"));
    m_diffSummary = new QLabel(this);
    m_diffSummary->setObjectName(QStringLiteral("diffSummary"));
    auto* top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Prompt:"), this));
    top->addWidget(m_promptCombo, 1);
    top->addSpacing(12);
    top->addWidget(m_diff);
    top->addWidget(m_diffA);
    top->addWidget(new QLabel(tr("vs"), this));
    top->addWidget(m_diffB);
    top->addWidget(m_diffSummary);

    m_columnSplit = new QSplitter(Qt::Horizontal, this);
    m_columnSplit->setObjectName(QStringLiteral("compareColumns"));
    m_columnSplit->setChildrenCollapsible(false);
    auto* right = new QWidget(this);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(0, 0, 0, 0);
    rightLayout->addLayout(top);
    rightLayout->addWidget(m_columnSplit, 1);

    auto* split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(left);
    split->addWidget(right);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);
    split->setSizes({330, 900});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(split);

    connect(m_runButton, &QPushButton::clicked, this, &ComparePanel::run);
    connect(m_stopButton, &QPushButton::clicked, this, &ComparePanel::stop);
    connect(m_rerunButton, &QPushButton::clicked, this, &ComparePanel::rerun);
    connect(m_versionList, &QListWidget::itemChanged, this, &ComparePanel::updateButtons);
    connect(m_promptEdit, &QPlainTextEdit::textChanged, this, &ComparePanel::updateButtons);
    connect(m_promptCombo, &QComboBox::currentIndexChanged, this, &ComparePanel::showPrompt);
    connect(m_diff, &QCheckBox::toggled, this, &ComparePanel::setDiffEnabled);
    connect(m_diffA, &QComboBox::currentIndexChanged, this, &ComparePanel::refreshDiff);
    connect(m_diffB, &QComboBox::currentIndexChanged, this, &ComparePanel::refreshDiff);
    connect(m_comparisonList, &QListWidget::itemActivated, this, [this](QListWidgetItem* item) {
        openComparison(item->data(kIdRole).toLongLong());
    });
    connect(m_comparisonList, &QListWidget::itemClicked, this, [this](QListWidgetItem* item) {
        if (!isRunning()) openComparison(item->data(kIdRole).toLongLong());
    });
}

SamplingSettings ComparePanel::sampling() const {
    SamplingSettings s;
    s.temperature = m_temperature->value();
    s.maxTokens = m_maxTokens->value();
    s.seed = static_cast<quint64>(m_seed->value());
    return s;
}

void ComparePanel::reload() {
    const QList<qint64> checked = checkedVersions();
    QSignalBlocker block(m_versionList);
    m_versionList->clear();
    m_versionPaths.clear();
    m_versionTitles.clear();
    auto models = m_store.models();
    if (models) {
        for (const moe::projects::ModelRecord& model : *models) {
            auto versions = m_store.modelVersions().versions(model.id);
            if (!versions) continue;
            for (const moe::projects::ModelVersionRecord& v : *versions) {
                const QString title = v.kind == "base"
                                          ? fromStd(model.name)
                                          : QStringLiteral("%1 / %2 (%3)").arg(fromStd(model.name),
                                                                               fromStd(v.name), fromStd(v.kind));
                m_versionTitles.insert(v.id, title);
                auto* item = new QListWidgetItem(title, m_versionList);
                item->setData(kIdRole, QVariant::fromValue<qint64>(v.id));
                item->setToolTip(fromStd(v.path));
                if (v.kind == "adapter") {
                    item->setFlags(item->flags() & ~Qt::ItemIsEnabled);
                    item->setToolTip(tr("Adapters run once they are applied to their base"));
                    continue;
                }
                m_versionPaths.insert(v.id, fromStd(v.path));
                item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
                item->setCheckState(checked.contains(v.id) ? Qt::Checked : Qt::Unchecked);
            }
        }
    }
    block.unblock();
    reloadComparisons();
    updateButtons();
}

void ComparePanel::reloadComparisons() {
    QSignalBlocker block(m_comparisonList);
    m_comparisonList->clear();
    auto list = m_store.comparisons().list();
    if (!list) return;
    for (const moe::projects::ComparisonRecord& c : *list) {
        const QJsonObject sampling = parseObject(c.samplingJson);
        const int versions = static_cast<int>(sampling.value(QStringLiteral("version_ids")).toArray().size());
        auto* item = new QListWidgetItem(
            tr("#%1 %2\n%3 prompt(s) \u00d7 %4 versions \u00b7 %5")
                .arg(c.id)
                .arg(shortTitle(fromStd(c.name), 40))
                .arg(c.prompts.size())
                .arg(versions)
                .arg(fromStd(c.createdAt).left(16).replace(QLatin1Char('T'), QLatin1Char(' '))),
            m_comparisonList);
        item->setData(kIdRole, QVariant::fromValue<qint64>(c.id));
        if (c.id == m_comparisonId) item->setSelected(true);
    }
}

QList<qint64> ComparePanel::checkedVersions() const {
    QList<qint64> out;
    for (int i = 0; i < m_versionList->count(); ++i) {
        const QListWidgetItem* item = m_versionList->item(i);
        if (item->checkState() == Qt::Checked) out.append(item->data(kIdRole).toLongLong());
    }
    return out;
}

void ComparePanel::setCheckedVersions(const QList<qint64>& versionIds) {
    for (int i = 0; i < m_versionList->count(); ++i) {
        QListWidgetItem* item = m_versionList->item(i);
        if (!(item->flags() & Qt::ItemIsUserCheckable)) continue;
        item->setCheckState(versionIds.contains(item->data(kIdRole).toLongLong()) ? Qt::Checked
                                                                                 : Qt::Unchecked);
    }
}

void ComparePanel::setPrompts(const QString& text, bool perLine) {
    m_perLine->setChecked(perLine);
    m_promptEdit->setPlainText(text);
}

int ComparePanel::promptIndex() const { return m_promptCombo->currentIndex(); }

void ComparePanel::updateButtons() {
    const bool idle = !isRunning();
    m_runButton->setEnabled(idle && checkedVersions().size() >= 2 &&
                            !m_promptEdit->toPlainText().trimmed().isEmpty());
    m_stopButton->setEnabled(!idle);
    m_rerunButton->setEnabled(idle && m_comparisonId != 0 && m_columns.size() >= 2);
    m_versionList->setEnabled(idle);
    m_comparisonList->setEnabled(idle);
    for (CompareColumn* column : std::as_const(m_columnWidgets)) column->setWinnerEnabled(m_comparisonId != 0);
}

void ComparePanel::run() {
    const QList<qint64> versions = checkedVersions();
    QStringList prompts;
    const QString text = m_promptEdit->toPlainText();
    if (m_perLine->isChecked()) {
        for (const QString& line : text.split(QLatin1Char('\n')))
            if (!line.trimmed().isEmpty()) prompts << line.trimmed();
    } else if (!text.trimmed().isEmpty()) {
        prompts << text.trimmed();
    }
    if (isRunning() || versions.size() < 2 || prompts.isEmpty()) {
        emit statusMessage(tr("Check two or more versions and write a prompt to compare."));
        return;
    }
    start(prompts, versions, shortTitle(prompts.front(), 48));
}

void ComparePanel::rerun() {
    if (isRunning() || m_comparisonId == 0 || m_columns.size() < 2) return;
    const QList<qint64> versions = m_columns;
    const QStringList prompts = m_prompts;
    QString name;
    if (auto c = m_store.comparisons().comparison(m_comparisonId)) name = fromStd(c->name);
    start(prompts, versions, name.endsWith(tr(" (re-run)")) ? name : name + tr(" (re-run)"));
}

void ComparePanel::start(const QStringList& prompts, const QList<qint64>& versions,
                         const QString& name) {
    for (qint64 v : versions)
        if (!m_versionPaths.contains(v)) {
            emit statusMessage(tr("Version %1 is no longer in the project or cannot run.").arg(v));
            return;
        }
    const SamplingSettings s = sampling();
    QJsonObject samplingJson;
    samplingJson[QStringLiteral("temperature")] = s.temperature;
    samplingJson[QStringLiteral("top_p")] = s.topP;
    samplingJson[QStringLiteral("top_k")] = s.topK;
    samplingJson[QStringLiteral("max_tokens")] = s.maxTokens;
    samplingJson[QStringLiteral("seed")] = static_cast<qint64>(s.seed);
    QJsonArray ids;
    for (qint64 v : versions) ids.append(v);
    samplingJson[QStringLiteral("version_ids")] = ids;

    std::vector<std::string> promptList;
    for (const QString& p : prompts) promptList.push_back(p.toStdString());
    auto id = m_store.comparisons().create(name.toStdString(), promptList, compact(samplingJson));
    if (!id) {
        emit statusMessage(tr("Could not record the comparison: %1").arg(fromStd(id.status().toString())));
        return;
    }
    m_comparisonId = *id;
    QJsonObject config = samplingJson;
    config[QStringLiteral("comparison_id")] = m_comparisonId;
    config[QStringLiteral("prompts")] = QJsonArray::fromStringList(prompts);
    std::optional<int64_t> modelId;
    if (auto v = m_store.modelVersions().version(versions.front())) modelId = v->modelId;
    auto runId = m_store.beginRun("compare", compact(config), modelId);
    m_runId = runId ? *runId : 0;

    m_prompts = prompts;
    m_cells.clear();
    m_stopped = false;
    m_failed = false;
    buildColumns(versions);
    reloadComparisons();
    qCInfo(lcCompare) << "comparison" << m_comparisonId << prompts.size() << "prompts on" << versions;

    m_running = static_cast<int>(versions.size());
    if (m_jobs) {
        m_jobId = m_jobs->start(tr("Compare: %1").arg(shortTitle(name, 32)), [this] { stop(); });
        m_jobs->setProgress(m_jobId, 0, static_cast<int>(prompts.size() * versions.size()));
    }
    for (qint64 v : versions) {
        VersionRunner* runner = runnerFor(v, m_versionPaths.value(v));
        if (CompareColumn* c = column(v)) c->setState(runner->device().isEmpty() ? tr("loading...") : tr("queued"));
        runner->run(prompts, s);
    }
    updateButtons();
    emit comparisonStarted(m_comparisonId);
    emit statusMessage(tr("Comparing %1 version(s) on %2 prompt(s)...").arg(versions.size()).arg(prompts.size()));
}

VersionRunner* ComparePanel::runnerFor(qint64 versionId, const QString& path) {
    VersionRunner* runner = m_runners.value(versionId);
    if (runner && runner->path() == path) return runner;
    delete runner;
    runner = new VersionRunner(versionId, path, this);
    m_runners.insert(versionId, runner);
    connect(runner, &VersionRunner::loaded, this, [this, versionId](const QString& device) {
        if (CompareColumn* c = column(versionId)) c->setState(tr("on %1").arg(device.section(QLatin1Char(':'), 0, 0)));
    });
    connect(runner, &VersionRunner::promptStarted, this, [this, versionId](int index) {
        m_cells[{index, versionId}].streaming = true;
        if (index == promptIndex())
            if (CompareColumn* c = column(versionId)) {
                c->setText({});
                c->setState(tr("streaming..."));
            }
    });
    connect(runner, &VersionRunner::textReceived, this, [this, versionId](int index, const QString& text) {
        m_cells[{index, versionId}].text += text;
        if (index == promptIndex())
            if (CompareColumn* c = column(versionId)) c->appendText(text);
    });
    connect(runner, &VersionRunner::promptFinished, this,
            [this, versionId](int index, const GenerationResult& result) { onPromptFinished(versionId, index, result); });
    connect(runner, &VersionRunner::failed, this, [this, versionId](int index, const QString& error) {
        m_failed = true;
        qCWarning(lcCompare) << "version" << versionId << "prompt" << index << error;
        const int first = index < 0 ? 0 : index;
        for (int i = first; i < m_prompts.size(); ++i) m_cells[{i, versionId}].error = error;
        if (CompareColumn* c = column(versionId)) {
            c->setState(tr("error"));
            c->setStats(error);
        }
        emit statusMessage(tr("%1: %2").arg(versionTitle(versionId), error));
    });
    connect(runner, &VersionRunner::finished, this, &ComparePanel::onRunnerFinished);
    return runner;
}

void ComparePanel::onPromptFinished(qint64 versionId, int index, const GenerationResult& result) {
    Cell& cell = m_cells[{index, versionId}];
    cell.text = result.text;
    cell.done = true;
    cell.streaming = false;
    QJsonObject stats;
    stats[QStringLiteral("tokens")] = result.generatedTokens;
    stats[QStringLiteral("prompt_tokens")] = result.promptTokens;
    stats[QStringLiteral("ttft_ms")] = result.ttftMs;
    stats[QStringLiteral("tok_s")] = result.decodeTokPerSec;
    stats[QStringLiteral("total_ms")] = result.totalMs;
    stats[QStringLiteral("stop_reason")] = result.stopReason;
    stats[QStringLiteral("device")] = result.device;
    cell.statsJson = QString::fromStdString(compact(stats));

    moe::projects::ComparisonOutput output;
    output.comparisonId = m_comparisonId;
    output.promptIndex = index;
    output.versionId = versionId;
    output.output = result.text.toStdString();
    output.statsJson = cell.statsJson.toStdString();
    if (moe::Status st = m_store.comparisons().setOutput(output); !st.isOk()) {
        m_failed = true;
        emit statusMessage(tr("Could not record an output: %1").arg(fromStd(st.toString())));
    }
    if (m_jobs && m_jobId) {
        int done = 0;
        for (const Cell& c : std::as_const(m_cells)) done += c.done ? 1 : 0;
        m_jobs->setProgress(m_jobId, done, static_cast<int>(m_prompts.size() * m_columns.size()));
    }
    if (index == promptIndex())
        if (CompareColumn* c = column(versionId)) {
            c->setText(cell.text);
            c->setStats(statsLine(stats));
            c->setState(tr("done"));
            refreshDiff();
        }
}

void ComparePanel::onRunnerFinished() {
    if (m_running == 0) return;
    if (--m_running == 0) finishRun();
}

void ComparePanel::finishRun() {
    int outputs = 0;
    for (const Cell& c : std::as_const(m_cells)) outputs += c.done ? 1 : 0;
    const QString status = m_stopped ? QStringLiteral("cancelled")
                           : m_failed ? QStringLiteral("failed")
                                      : QStringLiteral("completed");
    if (m_runId) {
        QJsonObject result;
        result[QStringLiteral("comparison_id")] = m_comparisonId;
        result[QStringLiteral("outputs")] = outputs;
        if (moe::Status st = m_store.finishRun(m_runId, status.toStdString(), compact(result)); !st.isOk())
            qCWarning(lcCompare) << "could not record run" << m_runId << st.toString().c_str();
    }
    if (m_jobs && m_jobId) m_jobs->finish(m_jobId);
    m_jobId = 0;
    updateButtons();
    refreshColumns();
    emit statusMessage(tr("Comparison #%1 %2: %3 output(s) recorded.").arg(m_comparisonId).arg(status).arg(outputs));
    emit comparisonFinished(m_comparisonId);
}

void ComparePanel::stop() {
    if (!isRunning()) return;
    m_stopped = true;
    for (qint64 v : std::as_const(m_columns))
        if (VersionRunner* runner = m_runners.value(v)) runner->stop();
}

void ComparePanel::openComparison(qint64 comparisonId) {
    if (isRunning()) return;
    auto record = m_store.comparisons().comparison(comparisonId);
    auto outputs = m_store.comparisons().outputs(comparisonId);
    if (!record || !outputs) {
        emit statusMessage(tr("Could not read comparison #%1").arg(comparisonId));
        return;
    }
    m_comparisonId = comparisonId;
    m_prompts.clear();
    for (const std::string& p : record->prompts) m_prompts << fromStd(p);
    QList<qint64> versions;
    const QJsonObject sampling = parseObject(record->samplingJson);
    for (const QJsonValue& v : sampling.value(QStringLiteral("version_ids")).toArray())
        versions.append(v.toInteger());
    m_cells.clear();
    for (const moe::projects::ComparisonOutput& o : *outputs) {
        if (!versions.contains(o.versionId)) versions.append(o.versionId);
        Cell& cell = m_cells[{o.promptIndex, o.versionId}];
        cell.text = fromStd(o.output);
        cell.statsJson = fromStd(o.statsJson);
        cell.done = true;
        cell.winner = parseObject(o.statsJson).value(QStringLiteral("winner")).toBool();
    }
    if (sampling.contains(QStringLiteral("temperature")))
        m_temperature->setValue(sampling.value(QStringLiteral("temperature")).toDouble());
    if (sampling.contains(QStringLiteral("max_tokens")))
        m_maxTokens->setValue(sampling.value(QStringLiteral("max_tokens")).toInt());
    if (sampling.contains(QStringLiteral("seed")))
        m_seed->setValue(sampling.value(QStringLiteral("seed")).toInt());
    setCheckedVersions(versions);
    setPrompts(m_prompts.join(QLatin1Char('\n')), m_prompts.size() > 1);
    buildColumns(versions);
    for (int i = 0; i < m_comparisonList->count(); ++i)
        m_comparisonList->item(i)->setSelected(m_comparisonList->item(i)->data(kIdRole).toLongLong() == comparisonId);
    updateButtons();
}

QString ComparePanel::versionTitle(qint64 versionId) const {
    return m_versionTitles.value(versionId, tr("version %1").arg(versionId));
}

void ComparePanel::buildColumns(const QList<qint64>& versions) {
    m_columns = versions;
    qDeleteAll(m_columnWidgets);
    m_columnWidgets.clear();
    for (qint64 v : versions) {
        auto* column = new CompareColumn(v, versionTitle(v), m_columnSplit);
        connect(column, &CompareColumn::winnerPicked, this, &ComparePanel::pickWinner);
        m_columnSplit->addWidget(column);
        m_columnWidgets.append(column);
    }
    QSignalBlocker blockPrompt(m_promptCombo);
    m_promptCombo->clear();
    for (int i = 0; i < m_prompts.size(); ++i)
        m_promptCombo->addItem(tr("%1/%2: %3").arg(i + 1).arg(m_prompts.size()).arg(shortTitle(m_prompts[i])));
    QSignalBlocker blockA(m_diffA);
    QSignalBlocker blockB(m_diffB);
    m_diffA->clear();
    m_diffB->clear();
    for (qint64 v : versions) {
        m_diffA->addItem(middleTitle(versionTitle(v), 30), QVariant::fromValue(v));
        m_diffB->addItem(middleTitle(versionTitle(v), 30), QVariant::fromValue(v));
        m_diffA->setItemData(m_diffA->count() - 1, versionTitle(v), Qt::ToolTipRole);
        m_diffB->setItemData(m_diffB->count() - 1, versionTitle(v), Qt::ToolTipRole);
    }
    if (versions.size() > 1) m_diffB->setCurrentIndex(1);
    refreshColumns();
}

CompareColumn* ComparePanel::column(qint64 versionId) const {
    for (CompareColumn* c : m_columnWidgets)
        if (c->versionId() == versionId) return c;
    return nullptr;
}

QString ComparePanel::outputText(qint64 versionId) const {
    return m_cells.value({promptIndex(), versionId}).text;
}

void ComparePanel::showPrompt(int index) {
    if (index >= 0 && m_promptCombo->currentIndex() != index) {
        m_promptCombo->setCurrentIndex(index); // comes back here through the signal
        return;
    }
    refreshColumns();
}

void ComparePanel::refreshColumns() {
    const int index = promptIndex();
    for (CompareColumn* column : std::as_const(m_columnWidgets)) {
        const Cell cell = m_cells.value({index, column->versionId()});
        column->setText(cell.text);
        column->setStats(cell.error.isEmpty() ? statsLine(QJsonDocument::fromJson(cell.statsJson.toUtf8()).object())
                                              : cell.error);
        column->setState(cell.done ? tr("done") : cell.streaming ? tr("streaming...") : cell.error.isEmpty() ? QString() : tr("error"));
        column->setWinner(cell.winner);
    }
    refreshDiff();
    updateButtons();
}

void ComparePanel::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) refreshDiff();
}

void ComparePanel::setDiffEnabled(bool on) {
    if (m_diff->isChecked() != on) m_diff->setChecked(on);
    refreshDiff();
    if (!on) refreshColumns();
}

void ComparePanel::refreshDiff() {
    m_diffA->setEnabled(m_diff->isChecked());
    m_diffB->setEnabled(m_diff->isChecked());
    m_diffSummary->clear();
    if (!m_diff->isChecked()) return;
    const qint64 a = m_diffA->currentData().toLongLong();
    const qint64 b = m_diffB->currentData().toLongLong();
    CompareColumn* ca = column(a);
    CompareColumn* cb = column(b);
    if (!ca || !cb || a == b) return;
    const Cell cellA = m_cells.value({promptIndex(), a});
    const Cell cellB = m_cells.value({promptIndex(), b});
    if (cellA.streaming || cellB.streaming) return; // diffed once both are done
    const WordDiff diff = wordDiff(cellA.text, cellB.text);
    ca->setDiffHtml(diffHtml(diff.a, isDark(this)));
    cb->setDiffHtml(diffHtml(diff.b, isDark(this)));
    m_diffSummary->setText(tr("%1 word(s) only in A, %2 only in B").arg(diff.changedA).arg(diff.changedB));
}

void ComparePanel::pickWinner(qint64 versionId) {
    if (m_comparisonId == 0) return;
    const int index = promptIndex();
    if (index < 0) return;
    const bool clear = m_cells.value({index, versionId}).winner;
    for (qint64 v : std::as_const(m_columns)) {
        auto it = m_cells.find({index, v});
        if (it == m_cells.end() || !it->done) continue;
        const bool winner = !clear && v == versionId;
        if (it->winner == winner) continue;
        it->winner = winner;
        QJsonObject stats = QJsonDocument::fromJson(it->statsJson.toUtf8()).object();
        if (winner) stats[QStringLiteral("winner")] = true;
        else stats.remove(QStringLiteral("winner"));
        it->statsJson = QString::fromStdString(compact(stats));
        moe::projects::ComparisonOutput output;
        output.comparisonId = m_comparisonId;
        output.promptIndex = index;
        output.versionId = v;
        output.output = it->text.toStdString();
        output.statsJson = it->statsJson.toStdString();
        if (moe::Status st = m_store.comparisons().setOutput(output); !st.isOk())
            emit statusMessage(tr("Could not record the winner: %1").arg(fromStd(st.toString())));
    }
    for (CompareColumn* column : std::as_const(m_columnWidgets))
        column->setWinner(m_cells.value({index, column->versionId()}).winner);
    if (!clear) emit statusMessage(tr("Winner of prompt %1: %2").arg(index + 1).arg(versionTitle(versionId)));
}

} // namespace moe::ui
