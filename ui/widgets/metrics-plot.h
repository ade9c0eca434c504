// MetricsPlot: line curves of a run's metrics over steps (loss, eval loss, learning rate, grad
// norm; tok/s per reply; bench samples), with a legend. Series flagged secondary go on the right
// axis so a learning rate of 1e-4 and a loss of 2.3 share one chart. Reusable: numbers in.
#pragma once

#include <QList>
#include <QString>
#include <QVector>
#include <QWidget>

class QCustomPlot;

namespace moe::ui {

struct MetricSeries {
    QString name;
    QVector<double> x;
    QVector<double> y;
    bool secondary = false; // right axis
    bool points = false;    // scatter points instead of a line (sparse series: eval loss)
};

class MetricsPlot : public QWidget {
    Q_OBJECT
public:
    explicit MetricsPlot(QWidget* parent = nullptr);

    void setSeries(const QList<MetricSeries>& series, const QString& xLabel,
                   const QString& yLabel = {}, const QString& y2Label = {});
    void clear() { setSeries({}, {}); }
    int seriesCount() const { return static_cast<int>(m_series.size()); }
    int pointCount() const; // all series together
    QCustomPlot* plot() const { return m_plot; }

protected:
    void changeEvent(QEvent* event) override;

private:
    void rebuild();

    QCustomPlot* m_plot = nullptr;
    QList<MetricSeries> m_series;
    QString m_xLabel, m_yLabel, m_y2Label;
};

} // namespace moe::ui
