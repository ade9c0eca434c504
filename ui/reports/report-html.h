// The report as HTML. One builder serves two readers: a browser (a self-contained file: inline
// CSS, charts as data: URIs, no external URL) and QTextDocument for the PDF (charts referenced
// as "chart:<id>" resources the PDF writer registers, page breaks before the big sections, the
// CSS subset QTextDocument understands).
#pragma once

#include "reports/report-charts.h"
#include "reports/report-model.h"

#include <QString>

#include <vector>

namespace moe::ui::reports {

struct ReportCharts {
    std::vector<Chart> speed;
    std::vector<Chart> quality;
    std::vector<Chart> routing;
};
// Draws every chart of the report (GUI thread, QApplication needed).
ReportCharts renderCharts(const ReportData& data);

enum class HtmlTarget { Browser, TextDocument };

QString reportHtml(const ReportData& data, const ReportCharts& charts, HtmlTarget target);

// Numbers as the tables print them: about four significant digits, no exponent below 1e6.
QString formatValue(double value);

} // namespace moe::ui::reports
