// Routing charts of a report (see report-charts.h): per version, a layer x expert heatmap of the
// share of routed tokens each expert received, and, when the run routed domain text sets, a
// domain x expert heatmap of the mean share over layers (which experts a domain prefers).
// A perfectly balanced router paints every cell 1 / nExpert; the colour scale starts at 0.
#include "reports/chart-kit.h"
#include "reports/report-charts.h"

#include <qcustomplot.h>

#include <algorithm>

namespace moe::ui::reports {

namespace {

// Viridis at five stops: perceptually even and readable in grey.
QCPColorGradient viridis() {
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.0, QColor(0x44, 0x01, 0x54));
    g.setColorStopAt(0.25, QColor(0x3b, 0x52, 0x8b));
    g.setColorStopAt(0.5, QColor(0x21, 0x90, 0x8c));
    g.setColorStopAt(0.75, QColor(0x5d, 0xc8, 0x63));
    g.setColorStopAt(1.0, QColor(0xfd, 0xe7, 0x25));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    return g;
}

// rows x cols matrix as cells; rowLabels (when given) name the rows on the y axis.
// fromZero: the colour scale starts at 0 (shares); else at the smallest cell (contrast).
QImage heatmap(const std::vector<std::vector<double>>& m, const QStringList& rowLabels,
               const QString& xLabel, const QString& yLabel, int height, bool fromZero) {
    const int rows = int(m.size());
    const int cols = rows ? int(m[0].size()) : 0;
    auto plot = newPlot(kChartWidth, height);
    auto* map = new QCPColorMap(plot->xAxis, plot->yAxis);
    map->data()->setSize(cols, rows);
    map->data()->setRange(QCPRange(0, std::max(1, cols - 1)), QCPRange(0, std::max(1, rows - 1)));
    double top = 0, bottom = rows && cols ? m[0][0] : 0;
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) {
            const double v = m[size_t(r)][size_t(c)];
            map->data()->setCell(c, r, v);
            top = std::max(top, v);
            bottom = std::min(bottom, v);
        }
    if (fromZero || bottom >= top) bottom = 0;
    map->setInterpolate(false);

    auto* scale = new QCPColorScale(plot.get());
    plot->plotLayout()->addElement(0, 1, scale);
    scale->setType(QCPAxis::atRight);
    scale->setBarWidth(14);
    scale->axis()->setLabel(QStringLiteral("share of routed tokens"));
    QFont f(QStringLiteral("DejaVu Sans"));
    f.setPixelSize(13);
    scale->axis()->setTickLabelFont(f);
    scale->axis()->setLabelFont(f);
    map->setColorScale(scale); // the map takes the scale's gradient and range from here on
    scale->setGradient(viridis());
    scale->setDataRange(QCPRange(bottom, top > bottom ? top : bottom + 1));
    auto* margins = new QCPMarginGroup(plot.get());
    plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);

    plot->xAxis->setLabel(xLabel);
    plot->yAxis->setLabel(yLabel);
    plot->xAxis->setRange(-0.5, double(cols) - 0.5);
    plot->yAxis->setRange(-0.5, double(rows) - 0.5);
    plot->yAxis->setRangeReversed(true); // first row at the top, as in a table
    plot->xAxis->grid()->setVisible(false);
    plot->yAxis->grid()->setVisible(false);
    plot->xAxis->setSubTicks(false);
    plot->yAxis->setSubTicks(false);
    // Integer ticks on both axes; named rows when labels are given.
    QSharedPointer<QCPAxisTickerText> xTicks(new QCPAxisTickerText);
    const int xStep = std::max(1, cols / 16);
    for (int c = 0; c < cols; c += xStep)
        xTicks->addTick(c, QString::number(c));
    plot->xAxis->setTicker(xTicks);
    QSharedPointer<QCPAxisTickerText> yTicks(new QCPAxisTickerText);
    const int yStep = rowLabels.isEmpty() ? std::max(1, rows / 16) : 1;
    for (int r = 0; r < rows; r += yStep)
        yTicks->addTick(r, rowLabels.isEmpty() ? QString::number(r) : rowLabels[r]);
    plot->yAxis->setTicker(yTicks);
    return renderPlot(*plot, kChartWidth, height, kChartScale);
}

} // namespace

std::vector<Chart> routingCharts(const ReportData& data) {
    std::vector<Chart> out;
    for (size_t iv = 0; iv < data.versions.size(); ++iv) {
        const VersionSection& v = data.versions[iv];
        if (!v.routing) continue;
        const RoutingMap& r = *v.routing;
        QString caption = QStringLiteral("%1 layers x %2 experts; balanced routing gives %3 per "
                                         "cell.")
                              .arg(r.layers)
                              .arg(r.experts)
                              .arg(1.0 / r.experts, 0, 'g', 3);
        if (r.entropyMean)
            caption +=
                QStringLiteral(" Mean load-balance entropy %1.").arg(*r.entropyMean, 0, 'f', 3);
        const int height = std::clamp(110 + 22 * r.layers, 260, 620);
        out.push_back({QStringLiteral("routing-%1").arg(iv + 1),
                       QStringLiteral("Expert routing: ") + v.name, caption,
                       heatmap(r.share, {}, QStringLiteral("expert"), QStringLiteral("layer"),
                               height, true)});
        if (r.domains.isEmpty()) continue;
        std::vector<std::vector<double>> affinity;
        QStringList names;
        for (auto it = r.domains.constBegin(); it != r.domains.constEnd(); ++it) {
            std::vector<double> mean(size_t(r.experts), 0.0);
            for (const auto& layer : it.value())
                for (size_t e = 0; e < layer.size(); ++e)
                    mean[e] += layer[e] / double(r.layers);
            affinity.push_back(std::move(mean));
            names << it.key();
        }
        out.push_back(
            {QStringLiteral("affinity-%1").arg(iv + 1),
             QStringLiteral("Domain affinity: ") + v.name,
             QStringLiteral("Mean share over layers of the tokens of each domain text set "
                            "routed to each expert; the colour scale spans the smallest "
                            "to the largest cell."),
             heatmap(affinity, names, QStringLiteral("expert"), QString(),
                     std::clamp(110 + 36 * int(names.size()), 220, 500), false)});
    }
    return out;
}

} // namespace moe::ui::reports
