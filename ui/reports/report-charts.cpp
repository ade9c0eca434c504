// Speed and quality charts of a report (see report-charts.h). Every chart compares the report's
// versions: one colour per version (chart-kit.h), the same order as the tables.
#include "reports/report-charts.h"
#include "reports/chart-kit.h"

#include <qcustomplot.h>

#include <QRegularExpression>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <tuple>

namespace moe::ui::reports {

namespace {

// QCPBarsGroup with its bar placement public: value labels sit over each bar's centre.
class BarsGroup : public QCPBarsGroup {
public:
    using QCPBarsGroup::keyPixelOffset;
    using QCPBarsGroup::QCPBarsGroup;
};

bool isThroughput(const SpeedRow& r) {
    return r.unit == QLatin1String("tok/s") || r.metric.endsWith(QLatin1String("tok_s"));
}

// Grouped bars: categories on x, one bar per version; value(version, category) is empty where the
// version lacks the category. err gives the (low, high) whisker ends when wanted.
struct BarSeries {
    QStringList categories;
    std::function<std::optional<double>(const VersionSection&, qsizetype)> value;
    std::function<std::optional<std::pair<double, double>>(const VersionSection&, qsizetype)> err;
    QString yLabel;
    bool labels = true; // value printed above each bar
    int decimals = 1;
};

QImage groupedBars(const ReportData& data, const BarSeries& s) {
    auto plot = newPlot(kChartWidth, kChartHeight);
    auto* group = new BarsGroup(plot.get());
    group->setSpacingType(QCPBarsGroup::stAbsolute);
    group->setSpacing(2);
    const double width = std::min(0.8 / double(std::max<size_t>(1, data.versions.size())), 0.3);
    double top = 0;
    for (size_t iv = 0; iv < data.versions.size(); ++iv) {
        const VersionSection& v = data.versions[iv];
        auto* bars = new QCPBars(plot->xAxis, plot->yAxis);
        bars->setName(v.name);
        bars->setWidth(width);
        bars->setPen(QPen(versionColor(iv).darker(130)));
        bars->setBrush(versionColor(iv));
        bars->setBarsGroup(group);
        QVector<double> keys, values, lo, hi;
        for (qsizetype ic = 0; ic < s.categories.size(); ++ic) {
            const auto value = s.value(v, ic);
            if (!value) continue;
            keys << double(ic + 1);
            values << *value;
            top = std::max(top, *value);
            if (s.err) {
                const auto e = s.err(v, ic).value_or(std::pair{*value, *value});
                lo << std::max(0.0, *value - e.first);
                hi << std::max(0.0, e.second - *value);
                top = std::max(top, e.second);
            }
        }
        bars->setData(keys, values, true);
        if (s.err) {
            auto* whiskers = new QCPErrorBars(plot->xAxis, plot->yAxis);
            whiskers->removeFromLegend();
            whiskers->setDataPlottable(bars);
            whiskers->setData(lo, hi);
            whiskers->setPen(QPen(QColor(0x33, 0x33, 0x33), 1.2));
            whiskers->setWhiskerWidth(6);
        }
    }
    setCategoryAxis(plot->xAxis, s.categories);
    plot->yAxis->setLabel(s.yLabel);
    plot->yAxis->setRange(0, top > 0 ? top * 1.18 : 1.0);
    legendOnTop(*plot);
    // Value labels above each bar's centre, placed once the layout (axis rect) is final.
    if (s.labels) {
        plot->replot(QCustomPlot::rpImmediateRefresh);
        QFont small(QStringLiteral("DejaVu Sans"));
        small.setPixelSize(11);
        for (int i = 0; i < plot->plottableCount(); ++i) {
            auto* bars = qobject_cast<QCPBars*>(plot->plottable(i));
            if (!bars) continue;
            for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it) {
                const double px =
                    plot->xAxis->coordToPixel(it->key) + group->keyPixelOffset(bars, it->key);
                auto* text = new QCPItemText(plot.get());
                text->setPositionAlignment(Qt::AlignHCenter | Qt::AlignBottom);
                text->position->setCoords(plot->xAxis->pixelToCoord(px), it->value);
                text->setPadding(QMargins(0, 0, 0, 3));
                text->setText(QString::number(it->value, 'f', s.decimals));
                text->setFont(small);
                text->setColor(QColor(0x33, 0x33, 0x33));
            }
        }
    }
    return renderPlot(*plot, kChartWidth, kChartHeight, kChartScale);
}

// Lines of one speed family against a parameter (prompt length, batch or depth), one per version.
// The measured parameter values sit evenly spaced (they are usually powers of two, and a depth
// of 0 has no place on a log axis), labelled with their values.
QImage speedLines(const ReportData& data, SpeedPoint::Kind kind,
                  const std::function<std::optional<int>(const SpeedPoint&)>& x,
                  const QString& xLabel, const QString& yLabel) {
    auto plot = newPlot(kChartWidth, kChartHeight);
    std::vector<std::map<int, double>> perVersion(data.versions.size());
    std::map<int, int> slot; // parameter value -> position 1..n
    double top = 0;
    for (size_t iv = 0; iv < data.versions.size(); ++iv) {
        for (const SpeedRow& r : data.versions[iv].speed) {
            const SpeedPoint p = parseSpeedMetric(r.metric, r.unit);
            if (p.kind != kind || !isThroughput(r)) continue;
            if (const auto at = x(p)) {
                perVersion[iv][*at] = r.median;
                slot[*at] = 0;
                top = std::max(top, r.median);
            }
        }
    }
    QStringList labels;
    for (auto& [value, position] : slot) {
        labels << QString::number(value);
        position = int(labels.size());
    }
    for (size_t iv = 0; iv < data.versions.size(); ++iv) {
        auto* graph = plot->addGraph();
        graph->setName(data.versions[iv].name);
        graph->setPen(QPen(versionColor(iv), 2.5));
        graph->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssCircle, versionColor(iv), Qt::white, 8));
        for (const auto& [at, value] : perVersion[iv])
            graph->addData(double(slot[at]), value);
    }
    setCategoryAxis(plot->xAxis, labels);
    plot->xAxis->grid()->setVisible(true);
    plot->xAxis->setLabel(xLabel);
    plot->yAxis->setLabel(yLabel);
    plot->yAxis->setRange(0, top > 0 ? top * 1.15 : 1.0);
    legendOnTop(*plot);
    return renderPlot(*plot, kChartWidth, kChartHeight, kChartScale);
}

// How many distinct x values the versions' speed rows of kind have (a line needs two).
int distinctPoints(const ReportData& data, SpeedPoint::Kind kind,
                   const std::function<std::optional<int>(const SpeedPoint&)>& x) {
    std::map<int, bool> seen;
    for (const VersionSection& v : data.versions)
        for (const SpeedRow& r : v.speed) {
            const SpeedPoint p = parseSpeedMetric(r.metric, r.unit);
            if (p.kind != kind || !isThroughput(r)) continue;
            if (const auto at = x(p)) seen[*at] = true;
        }
    return int(seen.size());
}

double quantile(std::vector<double> sorted, double q) {
    std::sort(sorted.begin(), sorted.end());
    const double pos = q * double(sorted.size() - 1);
    const auto i = size_t(pos);
    const double frac = pos - double(i);
    return i + 1 < sorted.size() ? sorted[i] * (1 - frac) + sorted[i + 1] * frac : sorted[i];
}

// Boxes of a latency family (ttft128, ttft512, ...): a category per metric, a box per version
// beside each other. Whiskers p5..p95, box the quartiles, dots the samples beyond the whiskers;
// without raw samples the box collapses to the median.
QImage latencyBoxes(const ReportData& data, const QStringList& metrics, const QString& unit) {
    auto plot = newPlot(kChartWidth, kChartHeight);
    const size_t n = data.versions.size();
    const double width = std::min(0.7 / double(std::max<size_t>(1, n)), 0.3);
    double top = 0;
    for (size_t iv = 0; iv < n; ++iv) {
        const VersionSection& v = data.versions[iv];
        auto* box = new QCPStatisticalBox(plot->xAxis, plot->yAxis);
        box->setName(v.name);
        box->setBrush(versionColor(iv).lighter(125));
        box->setPen(QPen(versionColor(iv).darker(150), 1.5));
        box->setWhiskerPen(QPen(versionColor(iv).darker(150), 1.5, Qt::SolidLine));
        box->setMedianPen(QPen(QColor(0x22, 0x22, 0x22), 2.5));
        box->setOutlierStyle(
            QCPScatterStyle(QCPScatterStyle::ssCircle, versionColor(iv).darker(150), 5));
        box->setWidth(width * 0.9);
        const double offset = (double(iv) - double(n - 1) / 2.0) * width;
        for (qsizetype ic = 0; ic < metrics.size(); ++ic) {
            const SpeedRow* r = v.speedMetric(metrics[ic]);
            if (!r) continue;
            QVector<double> outliers;
            double q1 = r->median, q3 = r->median;
            if (!r->samples.empty()) {
                q1 = quantile(r->samples, 0.25);
                q3 = quantile(r->samples, 0.75);
                for (const double x : r->samples) {
                    if (x < r->p5 || x > r->p95) outliers << x;
                    top = std::max(top, x);
                }
            }
            box->addData(double(ic + 1) + offset, r->p5, q1, r->median, q3, r->p95, outliers);
            top = std::max(top, r->p95);
        }
    }
    QStringList labels;
    for (const QString& m : metrics)
        labels << speedLabel(m);
    setCategoryAxis(plot->xAxis, labels);
    plot->yAxis->setLabel(unit);
    plot->yAxis->setRange(0, top > 0 ? top * 1.12 : 1.0);
    legendOnTop(*plot);
    return renderPlot(*plot, kChartWidth, kChartHeight, kChartScale);
}

BarSeries speedBars(const ReportData& data, SpeedPoint::Kind kind) {
    BarSeries s;
    for (const QString& metric : data.speedMetrics()) {
        for (const VersionSection& v : data.versions) {
            const SpeedRow* r = v.speedMetric(metric);
            if (r && isThroughput(*r) && parseSpeedMetric(r->metric, r->unit).kind == kind) {
                s.categories << metric;
                break;
            }
        }
    }
    const QStringList metrics = s.categories;
    s.value = [metrics](const VersionSection& v, qsizetype i) -> std::optional<double> {
        const SpeedRow* r = v.speedMetric(metrics[i]);
        return r ? std::optional<double>(r->median) : std::nullopt;
    };
    s.err = [metrics](const VersionSection& v,
                      qsizetype i) -> std::optional<std::pair<double, double>> {
        const SpeedRow* r = v.speedMetric(metrics[i]);
        return r ? std::optional(std::pair{r->p5, r->p95}) : std::nullopt;
    };
    for (QString& c : s.categories)
        c = speedLabel(c);
    s.labels = false; // the whiskers would cross them; the tables hold the numbers
    s.yLabel = QStringLiteral("tokens / s (median)");
    return s;
}

} // namespace

std::vector<Chart> speedCharts(const ReportData& data) {
    std::vector<Chart> out;
    const QString whiskers = QStringLiteral("Bars: median; whiskers: 5th to 95th percentile.");
    for (const auto& [kind, id, title] :
         {std::tuple{SpeedPoint::Kind::Prefill, "throughput-prefill", "Prefill throughput"},
          std::tuple{SpeedPoint::Kind::Decode, "throughput-decode", "Decode throughput"},
          std::tuple{SpeedPoint::Kind::Other, "throughput-other", "Other throughput"}}) {
        const BarSeries s = speedBars(data, kind);
        if (s.categories.isEmpty()) continue;
        out.push_back(
            {QString::fromLatin1(id), QString::fromLatin1(title), whiskers, groupedBars(data, s)});
    }
    // Decode lines hold the generation length fixed: the shortest one measured.
    int decodeTokens = 0;
    for (const VersionSection& v : data.versions)
        for (const SpeedRow& r : v.speed) {
            const SpeedPoint p = parseSpeedMetric(r.metric, r.unit);
            if (p.kind == SpeedPoint::Kind::Decode && (!decodeTokens || p.tokens < decodeTokens))
                decodeTokens = p.tokens;
        }
    using Pick = std::function<std::optional<int>(const SpeedPoint&)>;
    const Pick byLength = [](const SpeedPoint& p) {
        return p.batch == 1 && p.depth == 0 ? std::optional(p.tokens) : std::nullopt;
    };
    const Pick byBatch = [decodeTokens](const SpeedPoint& p) {
        return p.depth == 0 && p.tokens == decodeTokens ? std::optional(p.batch) : std::nullopt;
    };
    const Pick byDepth = [decodeTokens](const SpeedPoint& p) {
        return p.batch == 1 && p.tokens == decodeTokens ? std::optional(p.depth) : std::nullopt;
    };
    const struct {
        SpeedPoint::Kind kind;
        const Pick& pick;
        const char *id, *title, *xLabel;
    } lines[] = {
        {SpeedPoint::Kind::Prefill, byLength, "prefill-by-length", "Prefill speed by prompt length",
         "prompt tokens"},
        {SpeedPoint::Kind::Decode, byBatch, "decode-by-batch", "Decode speed by batch size",
         "batch size"},
        {SpeedPoint::Kind::Decode, byDepth, "decode-by-depth", "Decode speed by context depth",
         "context tokens before decoding"},
    };
    for (const auto& l : lines) {
        if (distinctPoints(data, l.kind, l.pick) < 2) continue;
        out.push_back({QString::fromLatin1(l.id), QString::fromLatin1(l.title),
                       QStringLiteral("Median tokens per second at each measured point."),
                       speedLines(data, l.kind, l.pick, QString::fromLatin1(l.xLabel),
                                  QStringLiteral("tokens / s"))});
    }
    // Latency families: the letters before the first digit ("ttft", "itl").
    QMap<QString, QStringList> families;
    QMap<QString, QString> units;
    for (const QString& metric : data.speedMetrics()) {
        for (const VersionSection& v : data.versions) {
            const SpeedRow* r = v.speedMetric(metric);
            if (!r || parseSpeedMetric(metric, r->unit).kind != SpeedPoint::Kind::Latency) continue;
            const QString family =
                metric.section(QRegularExpression(QStringLiteral("[0-9_]")), 0, 0);
            families[family] << metric;
            units[family] = r->unit.isEmpty() ? QStringLiteral("ms") : r->unit;
            break;
        }
    }
    for (auto it = families.constBegin(); it != families.constEnd(); ++it) {
        const QString name =
            it.key() == QLatin1String("ttft")  ? QStringLiteral("time to first token")
            : it.key() == QLatin1String("itl") ? QStringLiteral("inter-token latency")
                                               : it.key();
        out.push_back({QStringLiteral("latency-") + it.key(),
                       QStringLiteral("Latency distribution: ") + name,
                       QStringLiteral("Box: quartiles and median of the raw samples; whiskers: "
                                      "5th to 95th percentile; dots: samples beyond them."),
                       latencyBoxes(data, it.value(), units[it.key()])});
    }
    return out;
}

std::vector<Chart> qualityCharts(const ReportData& data) {
    struct Family {
        const char *id, *title, *yLabel;
        QStringList metrics;
        int decimals;
    };
    const Family families[] = {
        {"quality-ppl", "Perplexity (lower is better)", "perplexity", {"ppl"}, 2},
        {"quality-kl",
         "KL divergence from the reference (lower is better)",
         "KL (nats/token)",
         {"kl_mean", "kl_p95"},
         4},
        {"quality-accuracy",
         "Accuracy and agreement (higher is better)",
         "fraction",
         {"top1_agreement", "acc", "acc_norm", "exact_match", "contains", "regex"},
         3},
    };
    std::vector<Chart> out;
    const QStringList keys = data.qualityKeys();
    for (const Family& f : families) {
        BarSeries s;
        for (const QString& key : keys)
            if (f.metrics.contains(key.section(QStringLiteral(" · "), 0, 0))) s.categories << key;
        if (s.categories.isEmpty()) continue;
        const QStringList cats = s.categories;
        s.value = [cats](const VersionSection& v, qsizetype i) -> std::optional<double> {
            const QualityRow* r = v.qualityKey(cats[i]);
            return r ? std::optional<double>(r->value) : std::nullopt;
        };
        s.yLabel = QString::fromLatin1(f.yLabel);
        s.decimals = f.decimals;
        out.push_back({QString::fromLatin1(f.id), QString::fromLatin1(f.title), QString(),
                       groupedBars(data, s)});
    }
    return out;
}

} // namespace moe::ui::reports
