// The report as PDF: the TextDocument flavour of the HTML laid out by QTextDocument on A4 pages
// (2 cm margins, page numbers) through QPdfWriter, with the charts as embedded images. Sections
// after the first page start on a new page.
#pragma once

#include "reports/report-html.h"

#include "moe/status.h"

#include <QIODevice>

namespace moe::ui::reports {

// Writes the PDF to device (open for writing). GUI thread.
Status writePdf(const ReportData& data, const ReportCharts& charts, QIODevice& device);

} // namespace moe::ui::reports
