// Shared look of the report charts: a QCustomPlot set up for offscreen drawing (white
// background, fixed pixel fonts so pictures do not depend on the screen's DPI), the colour of each
// version, and drawing a plot into an image.
#pragma once

#include <QColor>
#include <QImage>
#include <QString>
#include <QStringList>

#include <memory>

class QCustomPlot;
class QCPAxis;

namespace moe::ui::reports {

// A plot ready for offscreen drawing at width x height logical pixels.
std::unique_ptr<QCustomPlot> newPlot(int width, int height);
// Distinct, print-safe colours; version i of a report always gets versionColor(i).
QColor versionColor(size_t index);
// Category labels at 1..n on axis (text ticker), with room for them.
void setCategoryAxis(QCPAxis* axis, const QStringList& labels);
// Shows the legend above the plot area, in one row.
void legendOnTop(QCustomPlot& plot);
// Replots and draws into an image of width x height logical pixels at scale.
QImage renderPlot(QCustomPlot& plot, int width, int height, double scale);
// image with a band above it holding title in bold (scale: the image's pixels per logical
// pixel). The title travels with its chart, so a PDF page never ends on a lone heading.
QImage withTitle(const QImage& image, const QString& title, double scale);

} // namespace moe::ui::reports
