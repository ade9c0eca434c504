// Plot colors from the widget palette (see the header).
#include "widgets/plot-theme.h"

#include <qcustomplot.h>

#include <QPalette>

#include <array>

namespace moe::ui {

void applyPlotTheme(QCustomPlot* plot, const QPalette& palette) {
    const QColor base = palette.color(QPalette::Base);
    const QColor text = palette.color(QPalette::WindowText);
    QColor grid = text;
    grid.setAlpha(40);
    QColor subGrid = text;
    subGrid.setAlpha(18);
    plot->setBackground(palette.color(QPalette::Window));
    plot->axisRect()->setBackground(base);
    for (QCPAxis* axis : plot->axisRect()->axes()) {
        axis->setBasePen(QPen(text));
        axis->setTickPen(QPen(text));
        axis->setSubTickPen(QPen(text));
        axis->setTickLabelColor(text);
        axis->setLabelColor(text);
        axis->grid()->setPen(QPen(grid, 0, Qt::DotLine));
        axis->grid()->setSubGridPen(QPen(subGrid, 0, Qt::DotLine));
    }
    plot->legend->setBrush(base);
    plot->legend->setBorderPen(QPen(grid));
    plot->legend->setTextColor(text);
}

QColor seriesColor(int index) {
    // Okabe-Ito: distinguishable with common color-vision deficiencies, on light and dark.
    static constexpr std::array<QRgb, 7> kColors = {0x0072b2, 0xe69f00, 0x009e73, 0xcc79a7,
                                                    0x56b4e9, 0xd55e00, 0xf0e442};
    return QColor::fromRgb(kColors[static_cast<size_t>(index) % kColors.size()]);
}

} // namespace moe::ui
