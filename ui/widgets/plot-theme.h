// Plot colors from the widget palette, so QCustomPlot charts follow the studio's light or dark
// theme: background, axes, grid, tick and label text, legend. Plot widgets call applyPlotTheme
// when built and again on QEvent::PaletteChange.
#pragma once

#include <QColor>
#include <QList>

class QCustomPlot;
class QPalette;

namespace moe::ui {

void applyPlotTheme(QCustomPlot* plot, const QPalette& palette);
// A series color that reads on both themes (index wraps around a fixed, colorblind-safe set).
QColor seriesColor(int index);

} // namespace moe::ui
