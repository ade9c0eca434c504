// ThroughputPlot: a small QCustomPlot bar chart of decode speed (tok/s) per reply of one chat, so
// a slowdown over a long conversation (a growing KV cache) is visible at a glance.
#pragma once

#include <QList>
#include <QWidget>

class QCustomPlot;
class QCPBars;

namespace moe::ui {

class ThroughputPlot : public QWidget {
    Q_OBJECT
public:
    explicit ThroughputPlot(QWidget* parent = nullptr);

    // One bar per reply, oldest first.
    void setValues(const QList<double>& tokPerSec);

protected:
    void changeEvent(QEvent* event) override; // follows the light/dark palette

private:
    QCustomPlot* m_plot = nullptr;
    QCPBars* m_bars = nullptr;
};

} // namespace moe::ui
