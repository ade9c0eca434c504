// RunDetails: config, metric curves and outputs of one run (see the header).
#include "panels/run-details.h"

#include "moe-projects/project-store.h"
#include "widgets/formatting.h"
#include "widgets/metrics-plot.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QTabWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace moe::ui {

namespace {

constexpr size_t kMaxPoints = 2000;

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

QString prettyJson(const std::string& json) {
    if (json.empty()) return {};
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray::fromStdString(json));
    if (doc.isNull()) return fromStd(json);
    return QString::fromUtf8(doc.toJson(QJsonDocument::Indented));
}

QJsonObject parseObject(const std::string& json) {
    return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
}

QString section(const QString& title) { return QStringLiteral("<h3>%1</h3>").arg(title.toHtmlEscaped()); }

QString preBlock(const QString& text) {
    return QStringLiteral("<pre>%1</pre>").arg(text.toHtmlEscaped());
}

} // namespace

RunDetails::RunDetails(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("runDetails"));
    m_title = new QLabel(this);
    m_title->setObjectName(QStringLiteral("runTitle"));
    m_title->setTextFormat(Qt::RichText);
    m_title->setWordWrap(true);
    m_config = new QPlainTextEdit(this);
    m_config->setObjectName(QStringLiteral("runConfig"));
    m_config->setReadOnly(true);
    m_config->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_plot = new MetricsPlot(this);
    m_plotNote = new QLabel(this);
    m_plotNote->setWordWrap(true);
    auto* plotPage = new QWidget(this);
    auto* plotLayout = new QVBoxLayout(plotPage);
    plotLayout->addWidget(m_plotNote);
    plotLayout->addWidget(m_plot, 1);
    m_outputs = new QTextBrowser(this);
    m_outputs->setObjectName(QStringLiteral("runOutputs"));
    m_tabs = new QTabWidget(this);
    m_tabs->setObjectName(QStringLiteral("runTabs"));
    m_tabs->addTab(plotPage, tr("Metrics"));
    m_tabs->addTab(m_config, tr("Config"));
    m_tabs->addTab(m_outputs, tr("Outputs"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_title);
    layout->addWidget(m_tabs, 1);
    showNothing();
}

QString RunDetails::configText() const { return m_config->toPlainText(); }
QString RunDetails::outputsText() const { return m_outputs->toPlainText(); }

void RunDetails::showNothing() {
    m_title->setText(tr("Open a run to see its config, curves and outputs."));
    m_config->clear();
    m_outputs->clear();
    m_plot->clear();
    m_plotNote->clear();
    m_tabs->setEnabled(false);
}

void RunDetails::showRun(moe::projects::ProjectStore& store, const moe::projects::RunSummary& run) {
    m_tabs->setEnabled(true);
    m_title->setText(tr("<b>Run #%1</b> &middot; %2 &middot; %3<br><small>started %4%5</small>")
                         .arg(run.id)
                         .arg(fromStd(run.kind).toHtmlEscaped(), fromStd(run.status).toHtmlEscaped(),
                              fromStd(run.startedAt).toHtmlEscaped(),
                              run.finishedAt.empty() ? QString()
                                                     : tr(", finished %1").arg(fromStd(run.finishedAt).toHtmlEscaped())));
    m_config->setPlainText(prettyJson(run.configJson));
    m_plot->clear();
    m_plotNote->clear();

    QString outputs = section(tr("Result"));
    outputs += preBlock(run.resultJson.empty() ? tr("(no result yet)") : prettyJson(run.resultJson));
    if (run.kind == "bench") {
        showBenchMetrics(store, run.id, outputs);
    } else if (run.kind == "compare") {
        const qint64 comparisonId = parseObject(run.resultJson).value(QStringLiteral("comparison_id")).toInteger(
            parseObject(run.configJson).value(QStringLiteral("comparison_id")).toInteger());
        showComparison(store, comparisonId, outputs);
    } else if (run.kind == "routing") {
        const QJsonObject result = parseObject(run.resultJson);
        MetricSeries balance{tr("load balance"), {}, {}, false, false};
        for (const QJsonValue& v : result.value(QStringLiteral("layers")).toArray()) {
            const QJsonObject layer = v.toObject();
            if (!layer.value(QStringLiteral("moe")).toBool()) continue;
            balance.x.append(layer.value(QStringLiteral("layer")).toDouble());
            balance.y.append(layer.value(QStringLiteral("entropy_normalized")).toDouble());
        }
        m_plot->setSeries({balance}, tr("layer"), tr("normalized load entropy"));
        m_plotNote->setText(tr("Per-layer load balance of the routed prompt (1: every expert "
                               "equally busy). Open the Experts panel for the heatmap."));
    } else {
        showTrainingMetrics(store, run.id);
    }
    showArtifacts(store, run.id, outputs);
    m_outputs->setHtml(outputs);
}

void RunDetails::showTrainingMetrics(moe::projects::ProjectStore& store, qint64 runId) {
    auto rows = store.trainingRuns().metrics(runId, 0, kMaxPoints);
    if (!rows || rows->empty()) {
        m_plotNote->setText(tr("This run recorded no per-step metrics."));
        return;
    }
    MetricSeries loss{tr("loss"), {}, {}, false, false};
    MetricSeries evalLoss{tr("eval loss"), {}, {}, false, true};
    MetricSeries gradNorm{tr("grad norm"), {}, {}, false, false};
    MetricSeries lr{tr("learning rate"), {}, {}, true, false};
    for (const moe::projects::MetricRow& row : *rows) {
        const double step = static_cast<double>(row.step);
        if (row.loss) { loss.x.append(step); loss.y.append(*row.loss); }
        if (row.evalLoss) { evalLoss.x.append(step); evalLoss.y.append(*row.evalLoss); }
        if (row.gradNorm) { gradNorm.x.append(step); gradNorm.y.append(*row.gradNorm); }
        if (row.learningRate) { lr.x.append(step); lr.y.append(*row.learningRate); }
    }
    QList<MetricSeries> series;
    for (const MetricSeries& s : {loss, evalLoss, gradNorm, lr})
        if (!s.y.isEmpty()) series.append(s);
    m_plot->setSeries(series, tr("step"), tr("loss, grad norm"), tr("learning rate"));
    m_plotNote->setText(tr("%1 logged steps (learning rate on the right axis).").arg(rows->size()));
}

void RunDetails::showBenchMetrics(moe::projects::ProjectStore& store, qint64 runId, QString& outputs) {
    auto summaries = store.bench().summaries(runId);
    QList<MetricSeries> series;
    if (summaries && !summaries->empty()) {
        outputs += section(tr("Summaries"));
        outputs += QStringLiteral("<table border=1 cellspacing=0 cellpadding=3><tr><th>%1</th><th>%2</th>"
                                  "<th>n</th><th>mean</th><th>median</th><th>p5</th><th>p95</th><th>stddev</th></tr>")
                       .arg(tr("metric"), tr("unit"));
        for (const moe::projects::BenchSummary& s : *summaries) {
            outputs += QStringLiteral("<tr><td>%1</td><td>%2</td><td>%3</td><td>%4</td><td>%5</td>"
                                      "<td>%6</td><td>%7</td><td>%8</td></tr>")
                           .arg(fromStd(s.metric).toHtmlEscaped(), fromStd(s.unit).toHtmlEscaped())
                           .arg(s.count)
                           .arg(s.mean, 0, 'g', 5).arg(s.median, 0, 'g', 5).arg(s.p5, 0, 'g', 5)
                           .arg(s.p95, 0, 'g', 5).arg(s.stddev, 0, 'g', 4);
            auto samples = store.bench().samples(runId, s.metric);
            if (!samples || samples->empty()) continue;
            MetricSeries m{fromStd(s.metric), {}, {}, false, false};
            for (size_t i = 0; i < samples->size(); ++i) {
                m.x.append(static_cast<double>(i));
                m.y.append((*samples)[i]);
            }
            series.append(m);
        }
        outputs += QStringLiteral("</table>");
    }
    m_plot->setSeries(series, tr("sample"), tr("value"));
    m_plotNote->setText(series.isEmpty() ? tr("This benchmark recorded no samples.")
                                         : tr("Raw samples per metric, in the order measured."));
}

void RunDetails::showComparison(moe::projects::ProjectStore& store, qint64 comparisonId, QString& outputs) {
    auto record = store.comparisons().comparison(comparisonId);
    auto cells = store.comparisons().outputs(comparisonId);
    if (!record || !cells) {
        m_plotNote->setText(tr("Comparison #%1 is not in the project.").arg(comparisonId));
        return;
    }
    QMap<qint64, MetricSeries> perVersion;
    outputs += section(tr("Comparison #%1: %2").arg(comparisonId).arg(fromStd(record->name)));
    for (const moe::projects::ComparisonOutput& o : *cells) {
        const QJsonObject stats = parseObject(o.statsJson);
        QString versionName = tr("version %1").arg(o.versionId);
        if (auto v = store.modelVersions().version(o.versionId)) versionName = fromStd(v->name);
        MetricSeries& s = perVersion[o.versionId];
        s.name = versionName;
        s.x.append(o.promptIndex + 1);
        s.y.append(stats.value(QStringLiteral("tok_s")).toDouble());
        const QString prompt = o.promptIndex < int(record->prompts.size()) ? fromStd(record->prompts[size_t(o.promptIndex)]) : QString();
        outputs += QStringLiteral("<p><b>%1 &middot; prompt %2%3</b> <i>%4</i><br><small>%5</small></p>%6")
                       .arg(versionName.toHtmlEscaped())
                       .arg(o.promptIndex + 1)
                       .arg(stats.value(QStringLiteral("winner")).toBool() ? tr(" &#9733; winner") : QString())
                       .arg(prompt.toHtmlEscaped())
                       .arg(formatGenerationStats(stats.value(QStringLiteral("tok_s")).toDouble(),
                                                  stats.value(QStringLiteral("ttft_ms")).toDouble(),
                                                  stats.value(QStringLiteral("tokens")).toInt(),
                                                  stats.value(QStringLiteral("stop_reason")).toString())
                                .toHtmlEscaped())
                       .arg(preBlock(fromStd(o.output)));
    }
    QList<MetricSeries> series;
    for (const MetricSeries& s : std::as_const(perVersion)) series.append({s.name, s.x, s.y, false, true});
    m_plot->setSeries(series, tr("prompt"), tr("tok/s"));
    m_plotNote->setText(tr("Decode speed of each version per prompt."));
}

void RunDetails::showArtifacts(moe::projects::ProjectStore& store, qint64 runId, QString& outputs) {
    auto checkpoints = store.trainingRuns().checkpoints(runId);
    if (checkpoints && !checkpoints->empty()) {
        outputs += section(tr("Checkpoints"));
        for (const moe::projects::CheckpointRecord& c : *checkpoints)
            outputs += QStringLiteral("<p>step %1: <code>%2</code></p>").arg(c.step).arg(fromStd(c.path).toHtmlEscaped());
    }
    auto artifacts = store.trainingRuns().artifacts(runId);
    if (artifacts && !artifacts->empty()) {
        outputs += section(tr("Artifacts"));
        for (const moe::projects::ArtifactRecord& a : *artifacts)
            outputs += QStringLiteral("<p>%1: <code>%2</code> (%3)</p>")
                           .arg(fromStd(a.kind).toHtmlEscaped(), fromStd(a.path).toHtmlEscaped(), formatBytes(a.bytes));
    }
}

void RunDetails::showChat(moe::projects::ProjectStore& store, qint64 sessionId) {
    m_tabs->setEnabled(true);
    m_plot->clear();
    auto sessions = store.chatSessions();
    auto messages = store.messages(sessionId);
    if (!sessions || !messages) {
        showNothing();
        return;
    }
    QString title;
    QString system;
    QString created;
    for (const moe::projects::ChatSessionRecord& s : *sessions)
        if (s.id == sessionId) {
            title = fromStd(s.title);
            system = fromStd(s.systemPrompt);
            created = fromStd(s.createdAt);
        }
    m_title->setText(tr("<b>Chat #%1</b> &middot; %2<br><small>started %3</small>")
                         .arg(sessionId).arg(title.toHtmlEscaped(), created.toHtmlEscaped()));
    QJsonObject config;
    config[QStringLiteral("session_id")] = sessionId;
    config[QStringLiteral("system_prompt")] = system;
    MetricSeries tokS{tr("tok/s"), {}, {}, false, false};
    MetricSeries ttft{tr("TTFT (ms)"), {}, {}, true, false};
    QString outputs;
    int reply = 0;
    for (const moe::projects::MessageRecord& m : *messages) {
        if (m.role == "assistant") {
            ++reply;
            tokS.x.append(reply);
            tokS.y.append(m.tokensPerSecond);
            ttft.x.append(reply);
            ttft.y.append(m.ttftMs);
            if (config.value(QStringLiteral("sampling")).isUndefined())
                config[QStringLiteral("sampling")] = parseObject(m.samplingJson);
        }
        outputs += QStringLiteral("<p><b>%1</b>%2</p>%3")
                       .arg(fromStd(m.role).toHtmlEscaped())
                       .arg(m.role == "assistant"
                                ? QStringLiteral(" <small>%1</small>")
                                      .arg(formatGenerationStats(m.tokensPerSecond, m.ttftMs, m.generatedTokens,
                                                                 fromStd(m.stopReason)).toHtmlEscaped())
                                : QString())
                       .arg(preBlock(fromStd(m.content)));
    }
    m_config->setPlainText(QString::fromUtf8(QJsonDocument(config).toJson(QJsonDocument::Indented)));
    m_plot->setSeries({tokS, ttft}, tr("reply"), tr("tok/s"), tr("TTFT (ms)"));
    m_plotNote->setText(tr("Decode speed and time to first token of each reply."));
    m_outputs->setHtml(outputs);
}

} // namespace moe::ui
