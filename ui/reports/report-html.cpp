// The report as HTML (see report-html.h). Sections: header, versions, environment, speed (charts,
// then a table per version), quality (table, bars), routing (heatmaps), comparison (deltas against
// the first version, when there are several). Every user string is escaped.
#include "reports/report-html.h"

#include "reports/chart-kit.h"

#include <QBuffer>
#include <QByteArray>

#include <cmath>

namespace moe::ui::reports {

namespace {

// Width of a chart in the PDF: A4 less QTextDocument::print's 2 cm margins, in 96-dpi pixels.
constexpr int kPdfChartWidth = 640;

constexpr const char* kStyle = R"(
body { font-family: 'DejaVu Sans', 'Helvetica', sans-serif; font-size: 9.5pt; color: #222222; }
h1 { font-size: 20pt; color: #1d3557; margin-bottom: 2pt; }
h2 { font-size: 14pt; color: #1d3557; margin-top: 16pt; margin-bottom: 6pt; }
h3 { font-size: 11pt; color: #333333; margin-top: 10pt; margin-bottom: 4pt; }
table { border-collapse: collapse; margin-top: 4pt; margin-bottom: 8pt; }
th { background-color: #e6ecf5; text-align: left; padding: 3px 7px; border: 1px solid #b9c5d8; }
td { padding: 3px 7px; border: 1px solid #d3dae6; }
td.num { text-align: right; }
th.num { text-align: right; }
p.meta { color: #555555; margin-top: 0; }
p.caption { color: #555555; font-size: 8pt; margin-top: 2pt; }
p.note { color: #444444; }
span.better { color: #1b7f3b; }
span.worse { color: #b3261e; }
)";

constexpr const char* kBrowserStyle = R"(
body { max-width: 980px; margin: 24px auto; padding: 0 16px; line-height: 1.35; }
h2 { border-bottom: 2px solid #1d3557; padding-bottom: 2px; }
img.chart { max-width: 100%; height: auto; }
div.chart { margin: 10px 0 18px 0; }
)";

QString esc(const QString& s) {
    return s.toHtmlEscaped();
}

QString num(double v) {
    return QStringLiteral("<td class=\"num\">") + formatValue(v) + QStringLiteral("</td>");
}

QString pngDataUri(const QImage& image) {
    QByteArray bytes;
    QBuffer buffer(&bytes);
    buffer.open(QIODevice::WriteOnly);
    image.save(&buffer, "PNG");
    return QStringLiteral("data:image/png;base64,") + QString::fromLatin1(bytes.toBase64());
}

// "+12.3 %" coloured by whether the change is an improvement for this metric.
QString delta(double value, double reference, int direction) {
    if (reference == 0 || !std::isfinite(value) || !std::isfinite(reference))
        return QStringLiteral("<td class=\"num\">&ndash;</td>");
    const double pct = (value - reference) / std::abs(reference) * 100.0;
    const QString text = QStringLiteral("%1%2 %")
                             .arg(pct >= 0 ? QStringLiteral("+") : QString())
                             .arg(pct, 0, 'f', 1);
    const bool flat = std::abs(pct) < 0.05 || direction == 0;
    const char* cls = flat ? nullptr : (pct > 0) == (direction > 0) ? "better" : "worse";
    return QStringLiteral("<td class=\"num\">") +
           (cls ? QStringLiteral("<span class=\"%1\">%2</span>").arg(QString::fromLatin1(cls), text)
                : text) +
           QStringLiteral("</td>");
}

class Builder {
public:
    Builder(const ReportData& data, const ReportCharts& charts, HtmlTarget target)
        : m_data(data), m_charts(charts), m_target(target) {}

    QString build() {
        m_out += QStringLiteral("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
                                "<title>%1</title><style>%2%3</style></head><body>\n")
                     .arg(esc(m_data.title), QString::fromLatin1(kStyle),
                          m_target == HtmlTarget::Browser ? QString::fromLatin1(kBrowserStyle)
                                                          : QString());
        header();
        environment();
        speed();
        quality();
        routing();
        comparison();
        m_out += QStringLiteral("</body></html>\n");
        return m_out;
    }

private:
    void section(const QString& title) {
        const bool breakPage = m_target == HtmlTarget::TextDocument;
        m_out +=
            QStringLiteral("<h2%1>%2</h2>\n")
                .arg(breakPage ? QStringLiteral(" style=\"page-break-before: always\"") : QString(),
                     esc(title));
    }

    void chart(const Chart& c) {
        const QImage& img = c.image;
        m_out += QStringLiteral("<div class=\"chart\">\n"); // the title is in the image
        if (m_target == HtmlTarget::Browser) {
            m_out +=
                QStringLiteral("<p><img class=\"chart\" src=\"%1\" width=\"%2\" alt=\"%3\"></p>\n")
                    .arg(pngDataUri(img), QString::number(kChartWidth), esc(c.title));
        } else {
            const int h = img.width() ? kPdfChartWidth * img.height() / img.width() : 0;
            // In a paragraph of its own: QTextDocument gives an image that shares a block with
            // text the image's height on the text's line too (a gap as tall as the chart).
            m_out += QStringLiteral("<p><img src=\"chart:%1\" width=\"%2\" height=\"%3\"></p>\n")
                         .arg(esc(c.id))
                         .arg(kPdfChartWidth)
                         .arg(h);
        }
        if (!c.caption.isEmpty())
            m_out += QStringLiteral("<p class=\"caption\">%1</p>\n").arg(esc(c.caption));
        m_out += QStringLiteral("</div>\n");
    }

    // numericFrom: columns from this index on hold numbers (right-aligned headers).
    void tableHead(const QStringList& columns, qsizetype numericFrom = -1) {
        m_out += QStringLiteral("<table cellspacing=\"0\"><tr>");
        for (qsizetype i = 0; i < columns.size(); ++i)
            m_out += (numericFrom >= 0 && i >= numericFrom ? QStringLiteral("<th class=\"num\">")
                                                           : QStringLiteral("<th>")) +
                     esc(columns[i]) + QStringLiteral("</th>");
        m_out += QStringLiteral("</tr>\n");
    }

    void header() {
        QStringList names;
        for (const VersionSection& v : m_data.versions)
            names << v.name;
        QStringList runs;
        for (const int64_t id : m_data.runIds)
            runs << QString::number(id);
        m_out +=
            QStringLiteral("<h1>%1</h1>\n<p class=\"meta\">Project %2 &middot; created %3 "
                           "&middot; bench runs %4 &middot; %5 version%6</p>\n")
                .arg(esc(m_data.title), esc(m_data.projectName),
                     esc(m_data.createdAt.left(19).replace(QLatin1Char('T'), QLatin1Char(' ')) +
                         QStringLiteral(" UTC")),
                     esc(runs.join(QStringLiteral(", "))), QString::number(m_data.versions.size()),
                     m_data.versions.size() == 1 ? QString() : QStringLiteral("s"));
        m_out += QStringLiteral("<h2>Versions</h2>\n");
        tableHead({QStringLiteral("Version"), QStringLiteral("Kind"), QStringLiteral("Lineage"),
                   QStringLiteral("Runs")});
        for (const VersionSection& v : m_data.versions) {
            QStringList ids;
            for (const int64_t id : v.runIds)
                ids << QString::number(id);
            m_out +=
                QStringLiteral("<tr><td><b>%1</b></td><td>%2</td><td>%3</td><td>%4</td></tr>\n")
                    .arg(esc(v.name), esc(v.kind.isEmpty() ? QStringLiteral("-") : v.kind),
                         esc(v.lineage), ids.join(QStringLiteral(", ")));
        }
        m_out += QStringLiteral("</table>\n");
        if (m_data.versions.size() > 1) {
            m_out += QStringLiteral("<p class=\"note\">The comparison section measures every "
                                    "version against the first, <b>%1</b>.</p>\n")
                         .arg(esc(m_data.versions.front().name));
        }
    }

    void environment() {
        m_out += QStringLiteral("<h2>Environment</h2>\n");
        QStringList head = {QStringLiteral("")};
        for (const RunEnvironment& e : m_data.environments)
            head << QStringLiteral("Run %1").arg(e.runId);
        tableHead(head);
        const std::pair<const char*, QString RunEnvironment::*> rows[] = {
            {"Version", &RunEnvironment::version},   {"Suite", &RunEnvironment::suite},
            {"Status", &RunEnvironment::status},     {"Started (UTC)", &RunEnvironment::startedAt},
            {"GPU", &RunEnvironment::gpu},           {"Driver", &RunEnvironment::driver},
            {"CPU", &RunEnvironment::cpu},           {"Backend", &RunEnvironment::backend},
            {"Build", &RunEnvironment::buildCommit}, {"Other", &RunEnvironment::other},
        };
        for (const auto& [label, field] : rows) {
            m_out += QStringLiteral("<tr><th>%1</th>").arg(QString::fromLatin1(label));
            for (const RunEnvironment& e : m_data.environments) {
                QString v = e.*field;
                if (field == &RunEnvironment::startedAt)
                    v = v.left(19).replace(QLatin1Char('T'), QLatin1Char(' '));
                m_out +=
                    QStringLiteral("<td>%1</td>").arg(v.isEmpty() ? QStringLiteral("-") : esc(v));
            }
            m_out += QStringLiteral("</tr>\n");
        }
        m_out += QStringLiteral("</table>\n");
    }

    void speed() {
        bool any = false;
        for (const VersionSection& v : m_data.versions)
            any = any || !v.speed.empty();
        if (!any) return;
        section(QStringLiteral("Speed"));
        for (const Chart& c : m_charts.speed)
            chart(c);
        for (const VersionSection& v : m_data.versions) {
            if (v.speed.empty()) continue;
            m_out += QStringLiteral("<h3>Speed: %1</h3>\n").arg(esc(v.name));
            tableHead({QStringLiteral("Metric"), QStringLiteral("Unit"), QStringLiteral("Median"),
                       QStringLiteral("p5"), QStringLiteral("p95"), QStringLiteral("Std dev"),
                       QStringLiteral("Mean"), QStringLiteral("n")},
                      2);
            for (const QString& metric : m_data.speedMetrics()) {
                const SpeedRow* r = v.speedMetric(metric);
                if (!r) continue;
                m_out += QStringLiteral("<tr><td>%1</td><td>%2</td>")
                             .arg(esc(speedLabel(metric)), esc(r->unit)) +
                         num(r->median) + num(r->p5) + num(r->p95) + num(r->stddev) + num(r->mean) +
                         QStringLiteral("<td class=\"num\">%1</td></tr>\n").arg(r->count);
            }
            m_out += QStringLiteral("</table>\n");
        }
    }

    void quality() {
        const QStringList keys = m_data.qualityKeys();
        if (keys.isEmpty()) return;
        section(QStringLiteral("Quality"));
        QStringList head = {QStringLiteral("Metric"), QStringLiteral("Eval")};
        for (const VersionSection& v : m_data.versions)
            head << v.name;
        tableHead(head, 2);
        for (const QString& key : keys) {
            QString eval;
            QString cells;
            for (const VersionSection& v : m_data.versions) {
                const QualityRow* r = v.qualityKey(key);
                if (r) eval = r->eval;
                cells += r ? num(r->value) : QStringLiteral("<td class=\"num\">&ndash;</td>");
            }
            m_out += QStringLiteral("<tr><td>%1</td><td>%2</td>%3</tr>\n")
                         .arg(esc(key), esc(eval), cells);
        }
        m_out += QStringLiteral("</table>\n");
        for (const Chart& c : m_charts.quality)
            chart(c);
    }

    void routing() {
        if (m_charts.routing.empty()) return;
        section(QStringLiteral("Routing"));
        for (const Chart& c : m_charts.routing)
            chart(c);
    }

    void comparison() {
        if (m_data.versions.size() < 2) return;
        const VersionSection& ref = m_data.versions.front();
        section(QStringLiteral("Comparison"));
        m_out += QStringLiteral("<p class=\"note\">Each version against <b>%1</b>: speed "
                                "medians and quality values, with the relative change "
                                "(<span class=\"better\">better</span> or "
                                "<span class=\"worse\">worse</span> for that metric).</p>\n")
                     .arg(esc(ref.name));
        QStringList head = {QStringLiteral("Metric"), ref.name};
        for (size_t i = 1; i < m_data.versions.size(); ++i)
            head << m_data.versions[i].name << QStringLiteral("\u0394");
        tableHead(head, 1);
        auto row = [&](const QString& label, auto value, int direction) {
            const std::optional<double> r = value(ref);
            QString cells = r ? num(*r) : QStringLiteral("<td class=\"num\">&ndash;</td>");
            for (size_t i = 1; i < m_data.versions.size(); ++i) {
                const std::optional<double> v = value(m_data.versions[i]);
                cells += v ? num(*v) : QStringLiteral("<td class=\"num\">&ndash;</td>");
                cells += r && v ? delta(*v, *r, direction)
                                : QStringLiteral("<td class=\"num\">&ndash;</td>");
            }
            m_out += QStringLiteral("<tr><td>%1</td>%2</tr>\n").arg(esc(label), cells);
        };
        for (const QString& metric : m_data.speedMetrics()) {
            QString unit;
            for (const VersionSection& v : m_data.versions)
                if (const SpeedRow* s = v.speedMetric(metric)) unit = s->unit;
            row(
                speedLabel(metric) + QStringLiteral(" (") + unit + QLatin1Char(')'),
                [&](const VersionSection& v) {
                    const SpeedRow* s = v.speedMetric(metric);
                    return s ? std::optional(s->median) : std::nullopt;
                },
                metricDirection(metric, unit));
        }
        for (const QString& key : m_data.qualityKeys()) {
            row(
                key,
                [&](const VersionSection& v) {
                    const QualityRow* q = v.qualityKey(key);
                    return q ? std::optional(q->value) : std::nullopt;
                },
                metricDirection(key, {}));
        }
        m_out += QStringLiteral("</table>\n");
    }

    const ReportData& m_data;
    const ReportCharts& m_charts;
    HtmlTarget m_target;
    QString m_out;
};

} // namespace

QString formatValue(double v) {
    if (!std::isfinite(v)) return QStringLiteral("-");
    const double a = std::abs(v);
    if (a == 0) return QStringLiteral("0");
    if (a >= 1000) return QString::number(v, 'f', a >= 1e5 ? 0 : 1);
    if (a >= 1) return QString::number(v, 'f', a >= 100 ? 1 : 2);
    return QString::number(v, 'g', 4);
}

ReportCharts renderCharts(const ReportData& data) {
    ReportCharts charts{
        .speed = speedCharts(data), .quality = qualityCharts(data), .routing = routingCharts(data)};
    for (auto* list : {&charts.speed, &charts.quality, &charts.routing})
        for (Chart& c : *list)
            c.image = withTitle(c.image, c.title, kChartScale);
    return charts;
}

QString reportHtml(const ReportData& data, const ReportCharts& charts, HtmlTarget target) {
    return Builder(data, charts, target).build();
}

} // namespace moe::ui::reports
