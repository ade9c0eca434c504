// RoutingHeatmap: layer x expert QCPColorMap with a color scale and cell markers.
#include "widgets/routing-heatmap.h"

#include "widgets/plot-theme.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <limits>

namespace moe::ui {

namespace {

// Viridis (matplotlib's perceptually uniform map) in 5 stops: dark = rare, yellow = busy.
QCPColorGradient viridis() {
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.00, QColor(0x44, 0x01, 0x54));
    g.setColorStopAt(0.25, QColor(0x3b, 0x52, 0x8b));
    g.setColorStopAt(0.50, QColor(0x21, 0x90, 0x8c));
    g.setColorStopAt(0.75, QColor(0x5d, 0xc8, 0x63));
    g.setColorStopAt(1.00, QColor(0xfd, 0xe7, 0x25));
    g.setNanHandling(QCPColorGradient::nhTransparent);
    g.setLevelCount(256);
    return g;
}

} // namespace

RoutingHeatmap::RoutingHeatmap(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("routingHeatmap"));
    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(240, 180);
    m_plot->axisRect()->setupFullAxesBox(true);
    m_plot->xAxis->setLabel(tr("expert"));
    m_plot->yAxis->setLabel(tr("layer"));
    m_plot->yAxis->setRangeReversed(true);
    for (QCPAxis* axis : {m_plot->xAxis, m_plot->yAxis}) {
        axis->grid()->setVisible(false);
        QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
        ticker->setTickStep(1.0);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssNone);
        axis->setTicker(ticker);
        axis->setSubTicks(false);
    }

    m_map = new QCPColorMap(m_plot->xAxis, m_plot->yAxis);
    m_map->setInterpolate(false);
    m_map->setTightBoundary(false);
    m_scale = new QCPColorScale(m_plot);
    m_scale->setType(QCPAxis::atRight);
    m_scale->setBarWidth(12);
    m_plot->plotLayout()->addElement(0, 1, m_scale);
    m_map->setColorScale(m_scale);
    m_map->setGradient(viridis());
    auto* margins = new QCPMarginGroup(m_plot);
    m_plot->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    m_scale->setMarginGroup(QCP::msBottom | QCP::msTop, margins);

    m_markerGraph = m_plot->addGraph();
    m_markerGraph->setLineStyle(QCPGraph::lsNone);

    connect(m_plot, &QCustomPlot::mousePress, this, &RoutingHeatmap::onMousePress);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    applyTheme();
    clear();
}

void RoutingHeatmap::clear() {
    setData(0, 0, {}, QString());
}

void RoutingHeatmap::setData(int nLayer, int nExpert, const QVector<double>& values,
                             const QString& valueLabel, double maxValue) {
    m_nLayer = nLayer;
    m_nExpert = nExpert;
    m_values = values;
    m_markers.clear();
    m_markerGraph->data()->clear();
    for (QCPItemText* label : std::as_const(m_rowLabels)) m_plot->removeItem(label);
    m_rowLabels.clear();
    const bool empty = nLayer <= 0 || nExpert <= 0 || values.size() != qsizetype(nLayer) * nExpert;
    if (empty) {
        m_nLayer = m_nExpert = 0;
        m_values.clear();
        m_map->data()->setSize(1, 1);
        m_map->data()->setRange(QCPRange(0, 0), QCPRange(0, 0));
        m_map->data()->setCell(0, 0, std::numeric_limits<double>::quiet_NaN());
        m_plot->xAxis->setRange(-0.5, 7.5);
        m_plot->yAxis->setRange(-0.5, 3.5);
        m_scale->axis()->setLabel(QString());
        m_scale->setDataRange(QCPRange(0, 1));
        m_plot->replot();
        return;
    }
    m_map->data()->setSize(nExpert, nLayer);
    m_map->data()->setRange(QCPRange(0, nExpert - 1), QCPRange(0, nLayer - 1));
    double top = 0;
    for (int il = 0; il < nLayer; ++il)
        for (int e = 0; e < nExpert; ++e) {
            const double v = values[qsizetype(il) * nExpert + e];
            m_map->data()->setCell(e, il, v);
            if (!std::isnan(v)) top = std::max(top, v);
        }
    if (maxValue > 0) top = maxValue;
    // Rows without data (dense layers) say so in place of the empty row.
    for (int il = 0; il < nLayer; ++il) {
        bool empty = true;
        for (int e = 0; e < nExpert && empty; ++e) empty = std::isnan(values[qsizetype(il) * nExpert + e]);
        if (!empty) continue;
        auto* label = new QCPItemText(m_plot);
        label->position->setCoords((nExpert - 1) / 2.0, il);
        label->setText(tr("layer %1: dense (no router)").arg(il));
        label->setColor(palette().color(QPalette::WindowText));
        m_rowLabels.append(label);
    }
    m_scale->setDataRange(QCPRange(0, top > 0 ? top : 1));
    m_scale->axis()->setLabel(valueLabel);
    m_plot->xAxis->setRange(-0.5, nExpert - 0.5);
    m_plot->yAxis->setRange(-0.5, nLayer - 0.5);
    // Ticks every cell while they fit; past that every few.
    const double stepX = nExpert <= 32 ? 1 : std::ceil(nExpert / 16.0);
    const double stepY = nLayer <= 32 ? 1 : std::ceil(nLayer / 16.0);
    qSharedPointerDynamicCast<QCPAxisTickerFixed>(m_plot->xAxis->ticker())->setTickStep(stepX);
    qSharedPointerDynamicCast<QCPAxisTickerFixed>(m_plot->yAxis->ticker())->setTickStep(stepY);
    m_plot->replot();
}

double RoutingHeatmap::value(int layer, int expert) const {
    if (layer < 0 || layer >= m_nLayer || expert < 0 || expert >= m_nExpert)
        return std::numeric_limits<double>::quiet_NaN();
    return m_values[qsizetype(layer) * m_nExpert + expert];
}

void RoutingHeatmap::setMarkers(const QList<QPair<int, int>>& cells) {
    m_markers = cells;
    QVector<double> keys;
    QVector<double> vals;
    for (const auto& [layer, expert] : cells) {
        keys.append(expert);
        vals.append(layer);
    }
    m_markerGraph->setData(keys, vals);
    m_plot->replot();
}

void RoutingHeatmap::onMousePress(QMouseEvent* event) {
    if (m_nLayer == 0) return;
    const double x = m_plot->xAxis->pixelToCoord(event->position().x());
    const double y = m_plot->yAxis->pixelToCoord(event->position().y());
    const int expert = static_cast<int>(std::lround(x));
    const int layer = static_cast<int>(std::lround(y));
    if (expert >= 0 && expert < m_nExpert && layer >= 0 && layer < m_nLayer)
        emit cellClicked(layer, expert);
}

void RoutingHeatmap::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        applyTheme();
        m_plot->replot();
    }
}

void RoutingHeatmap::applyTheme() {
    applyPlotTheme(m_plot, palette());
    const QColor text = palette().color(QPalette::WindowText);
    for (QCPAxis* axis : {m_scale->axis()}) {
        axis->setBasePen(QPen(text));
        axis->setTickPen(QPen(text));
        axis->setSubTickPen(QPen(text));
        axis->setTickLabelColor(text);
        axis->setLabelColor(text);
    }
    for (QCPItemText* label : std::as_const(m_rowLabels)) label->setColor(text);
    // Rings in the text color with a contrasting halo read on every cell color.
    m_markerGraph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle,
                                                   QPen(QColor(0xff, 0x40, 0x40), 2.5), Qt::NoBrush, 13));
}

} // namespace moe::ui
