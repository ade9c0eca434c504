// UtilizationPlot: per-expert share bars for one layer with the uniform-share line.
#include "widgets/utilization-plot.h"

#include "widgets/plot-theme.h"

#include <qcustomplot.h>

#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace moe::ui {

UtilizationPlot::UtilizationPlot(QWidget* parent) : QWidget(parent) {
    setObjectName(QStringLiteral("utilizationPlot"));
    m_plot = new QCustomPlot(this);
    m_plot->setMinimumSize(200, 140);
    m_plot->plotLayout()->insertRow(0);
    m_title = new QCPTextElement(m_plot, QString());
    m_plot->plotLayout()->addElement(0, 0, m_title);
    m_bars = new QCPBars(m_plot->xAxis, m_plot->yAxis);
    m_bars->setWidth(0.75);
    m_uniform = new QCPItemStraightLine(m_plot);
    m_plot->xAxis->setLabel(tr("expert"));
    m_plot->yAxis->setLabel(tr("share of tokens (%)"));
    QSharedPointer<QCPAxisTickerFixed> ticker(new QCPAxisTickerFixed);
    ticker->setTickStep(1.0);
    ticker->setScaleStrategy(QCPAxisTickerFixed::ssNone);
    m_plot->xAxis->setTicker(ticker);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);
    applyTheme();
    setShares({}, tr("Run a prompt to see expert utilization"));
}

int UtilizationPlot::barCount() const { return m_bars->data()->size(); }

void UtilizationPlot::setShares(const QVector<double>& shares, const QString& title) {
    QVector<double> keys;
    double top = 1;
    for (qsizetype e = 0; e < shares.size(); ++e) {
        keys.append(static_cast<double>(e));
        top = std::max(top, shares[e]);
    }
    m_bars->setData(keys, shares, true);
    const double uniform = shares.isEmpty() ? 0 : 100.0 / static_cast<double>(shares.size());
    m_uniform->setVisible(!shares.isEmpty());
    m_uniform->point1->setCoords(0, uniform);
    m_uniform->point2->setCoords(1, uniform);
    const double n = std::max<double>(static_cast<double>(shares.size()), 8.0);
    m_plot->xAxis->setRange(-0.6, n - 0.4);
    qSharedPointerDynamicCast<QCPAxisTickerFixed>(m_plot->xAxis->ticker())
        ->setTickStep(n <= 32 ? 1 : std::ceil(n / 16.0));
    m_plot->yAxis->setRange(0, top * 1.15);
    m_title->setText(title);
    m_plot->replot();
}

void UtilizationPlot::changeEvent(QEvent* event) {
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) {
        applyTheme();
        m_plot->replot();
    }
}

void UtilizationPlot::applyTheme() {
    applyPlotTheme(m_plot, palette());
    const QColor bar = seriesColor(0);
    m_bars->setPen(QPen(bar));
    QColor fill = bar;
    fill.setAlpha(170);
    m_bars->setBrush(fill);
    m_uniform->setPen(QPen(palette().color(QPalette::WindowText), 1, Qt::DashLine));
    m_title->setTextColor(palette().color(QPalette::WindowText));
}

} // namespace moe::ui
