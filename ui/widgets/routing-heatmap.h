// RoutingHeatmap: a layer x expert color map (QCustomPlot QCPColorMap) with a color scale, for
// routing statistics: one row per layer (layer 0 on top), one column per expert, the cell color a
// value such as the expert's share of the layer's token assignments. Rows of dense layers are
// NaN (drawn empty). Markers (rings) can outline cells, e.g. the experts one token used. Clicking
// a cell emits cellClicked. Reusable: no engine types, only numbers.
#pragma once

#include <QList>
#include <QPair>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPColorMap;
class QCPColorScale;
class QCPGraph;
class QCPItemText;
class QMouseEvent;

namespace moe::ui {

class RoutingHeatmap : public QWidget {
    Q_OBJECT
public:
    explicit RoutingHeatmap(QWidget* parent = nullptr);

    // values: [nLayer * nExpert], index layer * nExpert + expert; NaN for "no data" (dense layer).
    // The color range is [0, max] (or [0, maxValue] when maxValue > 0).
    void setData(int nLayer, int nExpert, const QVector<double>& values, const QString& valueLabel,
                 double maxValue = 0);
    void clear();
    // Outlines these (layer, expert) cells; empty clears.
    void setMarkers(const QList<QPair<int, int>>& cells);

    int layerCount() const { return m_nLayer; }
    int expertCount() const { return m_nExpert; }
    double value(int layer, int expert) const;
    int markerCount() const { return static_cast<int>(m_markers.size()); }
    QCustomPlot* plot() const { return m_plot; }

signals:
    void cellClicked(int layer, int expert);

protected:
    void changeEvent(QEvent* event) override;

private:
    void onMousePress(QMouseEvent* event);
    void applyTheme();

    QCustomPlot* m_plot = nullptr;
    QCPColorMap* m_map = nullptr;
    QCPColorScale* m_scale = nullptr;
    QCPGraph* m_markerGraph = nullptr;
    int m_nLayer = 0;
    int m_nExpert = 0;
    QVector<double> m_values;
    QList<QPair<int, int>> m_markers;
    QList<QCPItemText*> m_rowLabels; // "dense" labels over rows without data
};

} // namespace moe::ui
