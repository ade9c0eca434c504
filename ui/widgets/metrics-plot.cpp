// MetricsPlot: metric curves with a legend and an optional right axis.
#include "widgets/metrics-plot.h"

#include "widgets/plot-theme.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include <cmath>

namespace moe::ui {

MetricsPlot::MetricsPlot(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("metricsPlot"));
    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(240, 160);
    m_plot->legend->setVisible(true);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    rebuild();
}

int MetricsPlot::pointCount() const {
    int n = 0;
    for (const MetricSeries& s : m_series) n += static_cast<int>(s.y.size());
    return n;
}

void MetricsPlot::setSeries(const QList<MetricSeries>& series, const QString& xLabel,
                            const QString& yLabel, const QString& y2Label) {
    m_series = series;
    m_xLabel = xLabel;
    m_yLabel = yLabel;
    m_y2Label = y2Label;
    rebuild();
}

void MetricsPlot::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) rebuild();
}

void MetricsPlot::rebuild() {
    m_plot->clearGraphs();
    applyPlotTheme(m_plot, palette());
    bool secondary = false;
    for (qsizetype i = 0; i < m_series.size(); ++i) {
        const MetricSeries& s = m_series[i];
        QCPAxis* valueAxis = s.secondary ? m_plot->yAxis2 : m_plot->yAxis;
        secondary |= s.secondary;
        QCPGraph* graph = m_plot->addGraph(m_plot->xAxis, valueAxis);
        graph->setName(s.name);
        const QColor color = seriesColor(static_cast<int>(i));
        graph->setPen(QPen(color, 2));
        if (s.points || s.y.size() == 1) {
            graph->setLineStyle(s.points ? QCPGraph::lsNone : QCPGraph::lsLine);
            graph->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, color, color, 7));
        }
        graph->setData(s.x, s.y);
    }
    m_plot->yAxis2->setVisible(secondary);
    m_plot->yAxis2->setTickLabels(secondary);
    m_plot->xAxis->setLabel(m_xLabel);
    m_plot->yAxis->setLabel(m_yLabel);
    m_plot->yAxis2->setLabel(m_y2Label);
    m_plot->legend->setVisible(!m_series.isEmpty());
    m_plot->rescaleAxes();
    // Whole-number keys (prompts, replies, layers) get a tick per key and half a key of air.
    bool integerKeys = !m_series.isEmpty();
    for (const MetricSeries& s : m_series)
        for (double x : s.x) integerKeys &= x == std::floor(x);
    QCPRange xr = m_plot->xAxis->range();
    if (integerKeys && xr.size() <= 40) {
        QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
        ticker->setTickStep(1.0);
        ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
        m_plot->xAxis->setTicker(ticker);
        m_plot->xAxis->setRange(xr.lower - 0.5, xr.upper + 0.5);
    } else {
        m_plot->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        const double pad = xr.size() > 0 ? xr.size() * 0.03 : 1.0;
        m_plot->xAxis->setRange(xr.lower - pad, xr.upper + pad);
    }
    // Some air around the curves; a flat series still gets a visible range.
    for (QCPAxis* axis : {m_plot->yAxis, m_plot->yAxis2}) {
        QCPRange r = axis->range();
        const double pad = r.size() > 0 ? r.size() * 0.08 : std::max(1e-9, std::abs(r.center()) * 0.1 + 1e-9);
        axis->setRange(r.lower - pad, r.upper + pad);
    }
    if (m_series.isEmpty()) {
        m_plot->xAxis->setRange(0, 1);
        m_plot->yAxis->setRange(0, 1);
    }
    m_plot->replot();
}

} // namespace moe::ui
