// Report charts: QCustomPlot plots drawn offscreen (never shown) into images, so the CLI and the
// studio embed the same pictures in HTML and PDF. Needs a QApplication (QCustomPlot is a widget);
// with QT_QPA_PLATFORM=offscreen no display is used. GUI thread only.
// Charts: prefill and decode throughput per version (bars, p5-p95 whiskers), prefill speed by
// prompt length and decode speed by batch and context depth (lines, when a run measured several),
// latency distributions (boxes from the raw samples), quality bars (perplexity, KL, accuracy)
// and a layer x expert routing heatmap per version.
#pragma once

#include "reports/report-model.h"

#include <QImage>
#include <QString>

#include <vector>

namespace moe::ui::reports {

struct Chart {
    QString id;      // stable: "throughput-prefill", "quality-ppl", "routing-2", ...
    QString title;   // shown above the picture
    QString caption; // one line below it (what the whiskers mean, ...)
    QImage image;
};

// Logical size of a chart in pixels; images are drawn at kChartScale times this for print.
constexpr int kChartWidth = 900;
constexpr int kChartHeight = 400;
constexpr double kChartScale = 2.0;

std::vector<Chart> speedCharts(const ReportData& data);
std::vector<Chart> qualityCharts(const ReportData& data);
// One heatmap per version with routing statistics.
std::vector<Chart> routingCharts(const ReportData& data);

} // namespace moe::ui::reports
