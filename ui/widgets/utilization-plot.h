// UtilizationPlot: one layer's expert utilization as bars (each expert's share of the layer's
// token assignments, in %) with a dashed line at the uniform share 100 / nExpert, so
// over- and under-used experts stand out. Reusable: numbers in, no engine types.
#pragma once

#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPBars;
class QCPItemStraightLine;
class QCPTextElement;

namespace moe::ui {

class UtilizationPlot : public QWidget {
    Q_OBJECT
public:
    explicit UtilizationPlot(QWidget* parent = nullptr);

    // sharesPercent: one value per expert; title names the layer and its balance.
    void setShares(const QVector<double>& sharesPercent, const QString& title);
    int barCount() const;

protected:
    void changeEvent(QEvent* event) override;

private:
    void applyTheme();

    QCustomPlot* m_plot = nullptr;
    QCPBars* m_bars = nullptr;
    QCPItemStraightLine* m_uniform = nullptr;
    QCPTextElement* m_title = nullptr;
};

} // namespace moe::ui
