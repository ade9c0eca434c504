// The report as CSV (RFC 4180: comma separated, CRLF line ends, fields with a comma, quote or line
// break quoted, quotes doubled): one long table, a row per value, so spreadsheets and pandas
// filter it by column. Columns (kCsvColumns): section (environment, speed, quality, routing),
// version, version_id, run_id, eval, metric, dataset (or routing domain), unit, count, value,
// mean, median, p5, p95, stddev, delta_pct (against the first version: speed median or quality
// value), layer, expert, text (environment values). Empty fields are empty, never "-".
#pragma once

#include "reports/report-model.h"

#include <QString>
#include <QStringList>

namespace moe::ui::reports {

extern const QStringList kCsvColumns;

QString reportCsv(const ReportData& data);

} // namespace moe::ui::reports
