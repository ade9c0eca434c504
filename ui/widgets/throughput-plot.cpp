// ThroughputPlot: tok/s per reply as bars.
#include "widgets/throughput-plot.h"

#include "widgets/plot-theme.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include <algorithm>

namespace moe::ui {

ThroughputPlot::ThroughputPlot(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("throughputPlot"));
    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(180, 120);
    m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_bars->setPen(QPen(QColor(0x3b, 0x6e, 0xc4)));
    m_bars->setBrush(QColor(0x3b, 0x6e, 0xc4, 150));
    m_bars->setWidth(0.7);
    m_plot->yAxis->setLabel(tr("tok/s"));
    m_plot->xAxis->setLabel(tr("reply"));
    QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_plot->xAxis->setTicker(ticker);
    QFont small = font();
    small.setPointSizeF(std::max(6.0, small.pointSizeF() - 1.5));
    m_plot->xAxis->setTickLabelFont(small);
    m_plot->yAxis->setTickLabelFont(small);
    m_plot->xAxis->setLabelFont(small);
    m_plot->yAxis->setLabelFont(small);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    applyPlotTheme(m_plot, palette());
    setValues({});
}

void ThroughputPlot::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() != QEvent::PaletteChange) return;
    applyPlotTheme(m_plot, palette());
    m_plot->replot();
}

void ThroughputPlot::setValues(const QList<double>& tokPerSec) {
    QVector<double> keys;
    QVector<double> values;
    double top = 1.0;
    for (qsizetype i = 0; i < tokPerSec.size(); ++i) {
        keys.append(static_cast<double>(i + 1));
        values.append(tokPerSec[i]);
        top = std::max(top, tokPerSec[i]);
    }
    m_bars->setData(keys, values, true);
    m_plot->xAxis->setRange(0.4, std::max<double>(5.0, static_cast<double>(keys.size())) + 0.6);
    m_plot->yAxis->setRange(0.0, top * 1.15);
    m_plot->replot();
}

} // namespace moe::ui
