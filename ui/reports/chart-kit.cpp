// Shared look of the report charts (see chart-kit.h).
#include "reports/chart-kit.h"

#include <qcustomplot.h>

#include <QPainter>

namespace moe::ui::reports {

namespace {

QFont pixelFont(int px, bool bold = false) {
    QFont f(QStringLiteral("DejaVu Sans"));
    f.setStyleHint(QFont::SansSerif);
    f.setPixelSize(px);
    f.setBold(bold);
    return f;
}

void styleAxis(QCPAxis* axis) {
    axis->setTickLabelFont(pixelFont(13));
    axis->setLabelFont(pixelFont(14));
    axis->setBasePen(QPen(QColor(0x55, 0x55, 0x55)));
    axis->setTickPen(QPen(QColor(0x55, 0x55, 0x55)));
    axis->setSubTickPen(QPen(QColor(0x88, 0x88, 0x88)));
    axis->grid()->setPen(QPen(QColor(0xdd, 0xdd, 0xdd), 1, Qt::DotLine));
}

} // namespace

std::unique_ptr<QCustomPlot> newPlot(int width, int height) {
    auto plot = std::make_unique<QCustomPlot>();
    plot->setAttribute(Qt::WA_DontShowOnScreen);
    plot->resize(width, height);
    plot->setFont(pixelFont(13));
    plot->setBackground(Qt::white);
    plot->setAntialiasedElements(QCP::aeAll);
    for (QCPAxis* axis : {plot->xAxis, plot->yAxis, plot->xAxis2, plot->yAxis2})
        styleAxis(axis);
    plot->legend->setFont(pixelFont(13));
    plot->legend->setBorderPen(Qt::NoPen);
    plot->legend->setBrush(QColor(255, 255, 255, 220));
    return plot;
}

QColor versionColor(size_t index) {
    // Tableau 10: distinguishable in colour and, mostly, in grey.
    static const QColor colors[] = {{0x4e, 0x79, 0xa7}, {0xf2, 0x8e, 0x2b}, {0x59, 0xa1, 0x4f},
                                    {0xe1, 0x57, 0x59}, {0x76, 0xb7, 0xb2}, {0xed, 0xc9, 0x48},
                                    {0xb0, 0x7a, 0xa1}, {0xff, 0x9d, 0xa7}, {0x9c, 0x75, 0x5f},
                                    {0xba, 0xb0, 0xac}};
    return colors[index % (sizeof(colors) / sizeof(colors[0]))];
}

void setCategoryAxis(QCPAxis* axis, const QStringList& labels) {
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (qsizetype i = 0; i < labels.size(); ++i)
        ticker->addTick(double(i + 1), labels[i]);
    axis->setTicker(ticker);
    axis->setSubTicks(false);
    axis->setTickLength(0, 4);
    axis->grid()->setVisible(false);
    axis->setRange(0.4, double(labels.size()) + 0.6);
}

void legendOnTop(QCustomPlot& plot) {
    plot.legend->setVisible(true);
    plot.axisRect()->insetLayout()->take(plot.legend);
    plot.plotLayout()->insertRow(0);
    plot.plotLayout()->addElement(0, 0, plot.legend);
    plot.legend->setFillOrder(QCPLegend::foColumnsFirst);
    plot.legend->setMargins(QMargins(4, 2, 4, 2));
    plot.plotLayout()->setRowStretchFactor(0, 0.001);
}

QImage renderPlot(QCustomPlot& plot, int width, int height, double scale) {
    plot.replot(QCustomPlot::rpImmediateRefresh);
    return plot.toPixmap(width, height, scale).toImage();
}

QImage withTitle(const QImage& image, const QString& title, double scale) {
    const int band = int(34 * scale);
    QImage out(image.width(), image.height() + band, QImage::Format_RGB32);
    out.fill(Qt::white);
    QPainter p(&out);
    p.setRenderHint(QPainter::TextAntialiasing);
    p.setFont(pixelFont(int(17 * scale), true));
    p.setPen(QColor(0x22, 0x22, 0x22));
    p.drawText(QRect(int(8 * scale), 0, image.width() - int(16 * scale), band),
               Qt::AlignLeft | Qt::AlignVCenter, title);
    p.drawImage(0, band, image);
    return out;
}

} // namespace moe::ui::reports
