// ExpertsPanel: routing heatmap, utilization and per-token experts of a prompt (see the header).
#include "panels/experts-panel.h"

#include "moe-projects/project-store.h"
#include "shell/job-tracker.h"
#include "widgets/routing-heatmap.h"
#include "widgets/token-strip.h"
#include "widgets/utilization-plot.h"

#include <QCheckBox>
#include <QComboBox>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QVBoxLayout>

#include <cmath>
#include <limits>

namespace moe::ui {

Q_LOGGING_CATEGORY(lcExperts, "moe.ui.experts")

namespace {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

std::string compact(const QJsonObject& o) {
    return QJsonDocument(o).toJson(QJsonDocument::Compact).toStdString();
}

qint64 layerTotal(const RoutingResult& r, int il) {
    qint64 total = 0;
    for (int e = 0; e < r.nExpert; ++e) total += r.tokens[qsizetype(il) * r.nExpert + e];
    return total;
}

} // namespace

ExpertsPanel::ExpertsPanel(moe::projects::ProjectStore& store, JobTracker* jobs, QWidget* parent)
    : QWidget(parent), m_store(store), m_jobs(jobs) {
    setObjectName(QStringLiteral("expertsPanel"));
    buildUi();
    m_worker = new RoutingWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &ExpertsPanel::analyzeRequested, m_worker, &RoutingWorker::analyze);
    connect(m_worker, &RoutingWorker::analyzed, this, &ExpertsPanel::onAnalyzed);
    connect(m_worker, &RoutingWorker::failed, this, &ExpertsPanel::onFailed);
    m_thread.setObjectName(QStringLiteral("routing"));
    m_thread.start();
    reload();
}

ExpertsPanel::~ExpertsPanel() {
    m_worker->requestStop();
    m_thread.quit();
    m_thread.wait();
    endJob();
}

void ExpertsPanel::buildUi() {
    m_versionCombo = new QComboBox(this);
    m_versionCombo->setObjectName(QStringLiteral("expertsVersionCombo"));
    m_versionCombo->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_versionCombo->setMinimumContentsLength(22);
    m_prompt = new QPlainTextEdit(this);
    m_prompt->setObjectName(QStringLiteral("expertsPromptEdit"));
    m_prompt->setPlaceholderText(tr("A prompt to route through the model"));
    m_prompt->setTabChangesFocus(true);
    m_prompt->setFixedHeight(m_prompt->fontMetrics().lineSpacing() * 3 + 12);
    m_chatTemplate = new QCheckBox(tr("As a chat turn"), this);
    m_chatTemplate->setObjectName(QStringLiteral("chatTemplateCheck"));
    m_chatTemplate->setChecked(true);
    m_chatTemplate->setToolTip(tr("Render the prompt with the model's chat template"));
    m_generate = new QSpinBox(this);
    m_generate->setObjectName(QStringLiteral("generateSpin"));
    m_generate->setRange(0, 1024);
    m_generate->setValue(16);
    m_generate->setSpecialValueText(tr("prompt only"));
    m_generate->setSuffix(tr(" tokens"));
    m_generate->setToolTip(tr("Greedy tokens to generate after the prompt; their routing counts too"));
    m_maxExperts = new QSpinBox(this);
    m_maxExperts->setObjectName(QStringLiteral("maxExpertsSpin"));
    m_maxExperts->setRange(0, 256);
    m_maxExperts->setSpecialValueText(tr("model's"));
    m_runButton = new QPushButton(tr("Analyze"), this);
    m_runButton->setObjectName(QStringLiteral("analyzeButton"));
    m_runButton->setDefault(true);
    m_stopButton = new QPushButton(tr("Stop"), this);
    m_stopButton->setObjectName(QStringLiteral("stopAnalyzeButton"));

    auto* controls = new QGridLayout;
    controls->addWidget(new QLabel(tr("Version"), this), 0, 0);
    controls->addWidget(m_versionCombo, 0, 1);
    controls->addWidget(new QLabel(tr("Then generate"), this), 1, 0);
    controls->addWidget(m_generate, 1, 1);
    controls->addWidget(new QLabel(tr("Experts / token"), this), 2, 0);
    controls->addWidget(m_maxExperts, 2, 1);
    controls->addWidget(m_prompt, 0, 2, 3, 1);
    auto* buttons = new QVBoxLayout;
    buttons->addWidget(m_runButton);
    buttons->addWidget(m_stopButton);
    buttons->addWidget(m_chatTemplate);
    controls->addLayout(buttons, 0, 3, 3, 1);
    controls->setColumnStretch(2, 1);

    m_metricCombo = new QComboBox(this);
    m_metricCombo->setObjectName(QStringLiteral("metricCombo"));
    m_metricCombo->addItems({tr("Token share (%)"), tr("Mean routing weight"), tr("Tokens")});
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("routingSummary"));
    m_summary->setWordWrap(true);
    m_cellInfo = new QLabel(this);
    m_cellInfo->setObjectName(QStringLiteral("cellInfo"));
    m_heatmap = new RoutingHeatmap(this);
    auto* heatBox = new QGroupBox(tr("Routing heatmap (layer \u00d7 expert)"), this);
    auto* heatLayout = new QVBoxLayout(heatBox);
    auto* heatTop = new QHBoxLayout;
    heatTop->addWidget(new QLabel(tr("Color:"), this));
    heatTop->addWidget(m_metricCombo);
    heatTop->addWidget(m_cellInfo, 1);
    heatLayout->addLayout(heatTop);
    heatLayout->addWidget(m_heatmap, 1);

    m_layerSpin = new QSpinBox(this);
    m_layerSpin->setObjectName(QStringLiteral("layerSpin"));
    m_layerSpin->setRange(0, 0);
    m_utilization = new UtilizationPlot(this);
    auto* utilBox = new QGroupBox(tr("Utilization per layer"), this);
    auto* utilLayout = new QVBoxLayout(utilBox);
    auto* utilTop = new QHBoxLayout;
    utilTop->addWidget(new QLabel(tr("Layer"), this));
    utilTop->addWidget(m_layerSpin);
    utilTop->addStretch(1);
    utilLayout->addLayout(utilTop);
    utilLayout->addWidget(m_utilization, 1);

    m_tokenTable = new QTableWidget(0, 2, this);
    m_tokenTable->setObjectName(QStringLiteral("tokenExpertsTable"));
    m_tokenTable->setHorizontalHeaderLabels({tr("Layer"), tr("Experts (weight)")});
    m_tokenTable->verticalHeader()->hide();
    m_tokenTable->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_tokenTable->horizontalHeader()->setStretchLastSection(true);
    m_tokenTable->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    auto* tokenBox = new QGroupBox(tr("Selected token's experts"), this);
    (new QVBoxLayout(tokenBox))->addWidget(m_tokenTable);

    m_tokens = new TokenStrip(this);
    auto* tokensBox = new QGroupBox(tr("Tokens (click one to see its experts; prompt grey, generated blue)"), this);
    (new QVBoxLayout(tokensBox))->addWidget(m_tokens);

    auto* side = new QSplitter(Qt::Vertical, this);
    side->addWidget(utilBox);
    side->addWidget(tokenBox);
    auto* middle = new QSplitter(Qt::Horizontal, this);
    middle->addWidget(heatBox);
    middle->addWidget(side);
    middle->setStretchFactor(0, 3);
    middle->setStretchFactor(1, 2);
    auto* main = new QSplitter(Qt::Vertical, this);
    main->addWidget(middle);
    main->addWidget(tokensBox);
    main->setStretchFactor(0, 4);
    main->setStretchFactor(1, 1);
    for (QSplitter* s : {side, middle, main}) s->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(controls);
    layout->addWidget(m_summary);
    layout->addWidget(main, 1);

    connect(m_runButton, &QPushButton::clicked, this, &ExpertsPanel::run);
    connect(m_stopButton, &QPushButton::clicked, this, &ExpertsPanel::stop);
    connect(m_prompt, &QPlainTextEdit::textChanged, this, &ExpertsPanel::updateButtons);
    connect(m_metricCombo, &QComboBox::currentIndexChanged, this,
            [this](int index) { setMetric(static_cast<Metric>(index)); });
    connect(m_layerSpin, &QSpinBox::valueChanged, this, &ExpertsPanel::showLayer);
    connect(m_tokens, &TokenStrip::tokenClicked, this, &ExpertsPanel::selectToken);
    connect(m_heatmap, &RoutingHeatmap::cellClicked, this, [this](int layer, int expert) {
        showLayer(layer);
        const RoutingResult& r = m_result;
        const qsizetype at = qsizetype(layer) * r.nExpert + expert;
        if (at >= r.tokens.size()) return;
        const qint64 total = layerTotal(r, layer);
        const qint64 count = r.tokens[at];
        m_cellInfo->setText(tr("Layer %1, expert %2: %3 tokens (%4 %), mean weight %5")
                                .arg(layer).arg(expert).arg(count)
                                .arg(total > 0 ? 100.0 * double(count) / double(total) : 0.0, 0, 'f', 1)
                                .arg(count > 0 && at < r.weightSums.size() ? r.weightSums[at] / double(count) : 0.0, 0, 'f', 3));
    });
    updateButtons();
}

void ExpertsPanel::reload() {
    const qint64 keep = m_versionCombo->currentData().toLongLong();
    QSignalBlocker block(m_versionCombo);
    m_versionCombo->clear();
    if (auto models = m_store.models()) {
        for (const moe::projects::ModelRecord& model : *models) {
            auto versions = m_store.modelVersions().versions(model.id);
            if (!versions) continue;
            for (const moe::projects::ModelVersionRecord& v : *versions) {
                if (v.kind == "adapter") continue;
                const QString title = v.kind == "base" ? fromStd(model.name)
                                                       : QStringLiteral("%1 / %2").arg(fromStd(model.name), fromStd(v.name));
                m_versionCombo->addItem(title, QVariant::fromValue<qint64>(v.id));
                m_versionCombo->setItemData(m_versionCombo->count() - 1, fromStd(v.path), Qt::UserRole + 1);
                m_versionCombo->setItemData(m_versionCombo->count() - 1, fromStd(v.path), Qt::ToolTipRole);
            }
        }
    }
    if (keep != 0) setVersion(keep);
    updateButtons();
}

void ExpertsPanel::setVersion(qint64 versionId) {
    const int index = m_versionCombo->findData(QVariant::fromValue<qint64>(versionId));
    if (index >= 0) m_versionCombo->setCurrentIndex(index);
}

void ExpertsPanel::setPrompt(const QString& text) { m_prompt->setPlainText(text); }

void ExpertsPanel::setGenerateTokens(int n) { m_generate->setValue(n); }

void ExpertsPanel::updateButtons() {
    m_runButton->setEnabled(!m_running && m_versionCombo->count() > 0 &&
                            !m_prompt->toPlainText().trimmed().isEmpty());
    m_stopButton->setEnabled(m_running);
    m_versionCombo->setEnabled(!m_running);
}

void ExpertsPanel::run() {
    if (m_running || m_versionCombo->currentIndex() < 0) return;
    const QString prompt = m_prompt->toPlainText().trimmed();
    if (prompt.isEmpty()) return;
    m_request = {};
    m_request.versionId = m_versionCombo->currentData().toLongLong();
    m_request.path = m_versionCombo->currentData(Qt::UserRole + 1).toString();
    m_request.prompt = prompt;
    m_request.chatTemplate = m_chatTemplate->isChecked();
    m_request.generateTokens = m_generate->value();
    m_request.maxExperts = m_maxExperts->value();

    QJsonObject config;
    config[QStringLiteral("version_id")] = m_request.versionId;
    config[QStringLiteral("prompt")] = prompt;
    config[QStringLiteral("chat_template")] = m_request.chatTemplate;
    config[QStringLiteral("generate_tokens")] = m_request.generateTokens;
    config[QStringLiteral("max_experts")] = m_request.maxExperts;
    std::optional<int64_t> modelId;
    if (auto v = m_store.modelVersions().version(m_request.versionId)) modelId = v->modelId;
    auto runId = m_store.beginRun("routing", compact(config), modelId);
    m_runId = runId ? *runId : 0;

    m_running = true;
    if (m_jobs) m_jobId = m_jobs->start(tr("Routing: %1").arg(m_versionCombo->currentText()), [this] { stop(); });
    updateButtons();
    emit statusMessage(tr("Routing the prompt through %1...").arg(m_versionCombo->currentText()));
    emit analyzeRequested(m_request);
}

void ExpertsPanel::stop() {
    if (m_running) m_worker->requestStop();
}

void ExpertsPanel::endJob() {
    if (m_jobs && m_jobId) m_jobs->finish(m_jobId);
    m_jobId = 0;
}

void ExpertsPanel::onAnalyzed(const RoutingResult& result) {
    m_running = false;
    endJob();
    m_result = result;
    if (m_runId) {
        QJsonObject out;
        out[QStringLiteral("tokens_seen")] = result.tokensSeen;
        out[QStringLiteral("prompt_tokens")] = result.promptTokens;
        out[QStringLiteral("n_layer")] = result.nLayer;
        out[QStringLiteral("n_expert")] = result.nExpert;
        out[QStringLiteral("k")] = result.k;
        out[QStringLiteral("device")] = result.device;
        out[QStringLiteral("generated_text")] = result.generatedText;
        out[QStringLiteral("total_ms")] = result.totalMs;
        QJsonArray layers;
        for (int il = 0; il < result.nLayer; ++il) {
            QJsonArray counts;
            for (int e = 0; e < result.nExpert; ++e) counts.append(result.tokens[qsizetype(il) * result.nExpert + e]);
            QJsonObject layer;
            layer[QStringLiteral("layer")] = il;
            layer[QStringLiteral("moe")] = bool(result.moeLayer[il]);
            layer[QStringLiteral("expert_tokens")] = counts;
            layer[QStringLiteral("entropy_normalized")] = result.entropyNormalized[il];
            layers.append(layer);
        }
        out[QStringLiteral("layers")] = layers;
        if (moe::Status st = m_store.finishRun(m_runId, "completed", compact(out)); !st.isOk())
            qCWarning(lcExperts) << "could not record run" << m_runId << st.toString().c_str();
    }
    showResult();
    updateButtons();
    emit statusMessage(tr("Routed %1 tokens through %2 layers of %3 experts in %4 ms.")
                           .arg(result.tokensSeen).arg(result.nLayer).arg(result.nExpert)
                           .arg(result.totalMs, 0, 'f', 0));
    emit analysisFinished(m_runId);
}

void ExpertsPanel::onFailed(const QString& error) {
    m_running = false;
    endJob();
    if (m_runId) {
        QJsonObject out;
        out[QStringLiteral("error")] = error;
        if (moe::Status st = m_store.finishRun(m_runId, "failed", compact(out)); !st.isOk())
            qCWarning(lcExperts) << "could not record run" << m_runId << st.toString().c_str();
    }
    qCWarning(lcExperts).noquote() << error;
    m_summary->setText(tr("Analysis failed: %1").arg(error));
    updateButtons();
    emit statusMessage(error);
    emit analysisFailed(error);
}

void ExpertsPanel::showResult() {
    const RoutingResult& r = m_result;
    m_layerSpin->setRange(0, std::max(0, r.nLayer - 1));
    double balance = 0;
    int moeLayers = 0;
    for (int il = 0; il < r.nLayer; ++il)
        if (r.moeLayer.value(il)) {
            balance += r.entropyNormalized.value(il);
            ++moeLayers;
        }
    m_summary->setText(tr("<b>%1</b>: %2 tokens routed (%3 prompt%4) through %5 MoE layers of %6 "
                          "experts, %7 per token; mean load balance %8 (1 = every expert "
                          "equally busy).")
                           .arg(r.modelName.toHtmlEscaped())
                           .arg(r.tokensSeen)
                           .arg(r.promptTokens)
                           .arg(r.generatedText.isEmpty() ? QString() : tr(" + generated"))
                           .arg(moeLayers).arg(r.nExpert).arg(r.k)
                           .arg(moeLayers > 0 ? balance / moeLayers : 0.0, 0, 'f', 3));
    setMetric(m_metric);
    m_tokens->setTokens(r.tokenTexts, r.promptTokens);
    selectToken(-1);
    int first = 0;
    while (first < r.nLayer && !r.moeLayer.value(first)) ++first;
    m_layer = -1;
    showLayer(first < r.nLayer ? first : 0);
}

void ExpertsPanel::setMetric(Metric metric) {
    m_metric = metric;
    if (m_metricCombo->currentIndex() != static_cast<int>(metric))
        m_metricCombo->setCurrentIndex(static_cast<int>(metric));
    const RoutingResult& r = m_result;
    if (r.nLayer == 0 || r.nExpert == 0 || r.tokens.size() != qsizetype(r.nLayer) * r.nExpert) {
        m_heatmap->clear();
        return;
    }
    QVector<double> values(r.tokens.size());
    const double nan = std::numeric_limits<double>::quiet_NaN();
    for (int il = 0; il < r.nLayer; ++il) {
        const qint64 total = layerTotal(r, il);
        for (int e = 0; e < r.nExpert; ++e) {
            const qsizetype at = qsizetype(il) * r.nExpert + e;
            const double count = static_cast<double>(r.tokens[at]);
            double v = nan;
            if (r.moeLayer.value(il)) {
                switch (metric) {
                case Metric::Share: v = total > 0 ? 100.0 * count / double(total) : 0; break;
                case Metric::MeanWeight: v = count > 0 && at < r.weightSums.size() ? r.weightSums[at] / count : 0; break;
                case Metric::Tokens: v = count; break;
                }
            }
            values[at] = v;
        }
    }
    m_heatmap->setData(r.nLayer, r.nExpert, values, m_metricCombo->currentText());
    selectToken(m_tokens->selectedToken());
}

void ExpertsPanel::showLayer(int layer) {
    const RoutingResult& r = m_result;
    if (layer < 0 || layer >= r.nLayer || layer == m_layer) return;
    m_layer = layer;
    if (m_layerSpin->value() != layer) m_layerSpin->setValue(layer);
    QVector<double> shares;
    const qint64 total = layerTotal(r, layer);
    for (int e = 0; e < r.nExpert; ++e)
        shares.append(total > 0 ? 100.0 * double(r.tokens[qsizetype(layer) * r.nExpert + e]) / double(total) : 0);
    const QString title = r.moeLayer.value(layer)
                              ? tr("Layer %1: %2 assignments, balance %3")
                                    .arg(layer).arg(total).arg(r.entropyNormalized.value(layer), 0, 'f', 3)
                              : tr("Layer %1 is dense (no routing)").arg(layer);
    m_utilization->setShares(shares, title);
}

void ExpertsPanel::selectToken(int index) {
    const RoutingResult& r = m_result;
    m_tokenTable->setRowCount(0);
    if (index < 0 || index >= r.tokenExperts.size() || r.k <= 0) {
        m_heatmap->setMarkers({});
        return;
    }
    m_tokens->selectToken(index);
    const QVector<int>& experts = r.tokenExperts[index];
    const QVector<float>& weights = r.tokenWeights[index];
    QList<QPair<int, int>> marks;
    for (int il = 0; il < r.nLayer; ++il) {
        if (!r.moeLayer.value(il)) continue;
        QStringList parts;
        for (int s = 0; s < r.k; ++s) {
            const qsizetype at = qsizetype(il) * r.k + s;
            if (at >= experts.size() || experts[at] < 0) continue;
            marks.append({il, experts[at]});
            parts << QStringLiteral("%1 (%2)").arg(experts[at]).arg(double(weights.value(at)), 0, 'f', 3);
        }
        const int row = m_tokenTable->rowCount();
        m_tokenTable->insertRow(row);
        m_tokenTable->setItem(row, 0, new QTableWidgetItem(QString::number(il)));
        m_tokenTable->setItem(row, 1, new QTableWidgetItem(parts.join(QStringLiteral(", "))));
    }
    m_heatmap->setMarkers(marks);
    m_cellInfo->setText(tr("Token %1 \u201c%2\u201d (id %3): its experts are ringed")
                            .arg(index).arg(r.tokenTexts.value(index)).arg(r.tokenIds.value(index)));
}

bool ExpertsPanel::openRun(qint64 runId) {
    auto run = m_store.trainingRuns().run(runId);
    if (!run || run->kind != "routing") return false;
    const QJsonObject result = QJsonDocument::fromJson(QByteArray::fromStdString(run->resultJson)).object();
    const QJsonObject config = QJsonDocument::fromJson(QByteArray::fromStdString(run->configJson)).object();
    RoutingResult r;
    r.versionId = config.value(QStringLiteral("version_id")).toInteger();
    r.nLayer = result.value(QStringLiteral("n_layer")).toInt();
    r.nExpert = result.value(QStringLiteral("n_expert")).toInt();
    r.k = result.value(QStringLiteral("k")).toInt();
    r.tokensSeen = result.value(QStringLiteral("tokens_seen")).toInteger();
    r.promptTokens = result.value(QStringLiteral("prompt_tokens")).toInt();
    r.generatedText = result.value(QStringLiteral("generated_text")).toString();
    r.modelName = tr("run #%1").arg(runId);
    for (const QJsonValue& lv : result.value(QStringLiteral("layers")).toArray()) {
        const QJsonObject layer = lv.toObject();
        r.moeLayer.append(layer.value(QStringLiteral("moe")).toBool());
        r.entropyNormalized.append(layer.value(QStringLiteral("entropy_normalized")).toDouble());
        for (const QJsonValue& c : layer.value(QStringLiteral("expert_tokens")).toArray())
            r.tokens.append(c.toInteger());
    }
    if (r.tokens.size() != qsizetype(r.nLayer) * r.nExpert) return false;
    m_result = r;
    m_runId = runId;
    setVersion(r.versionId);
    setPrompt(config.value(QStringLiteral("prompt")).toString());
    showResult();
    return true;
}

} // namespace moe::ui
