// The report as PDF (see report-pdf.h).
#include "reports/report-pdf.h"

#include <QPageSize>
#include <QPdfWriter>
#include <QTextDocument>
#include <QUrl>

namespace moe::ui::reports {

Status writePdf(const ReportData& data, const ReportCharts& charts, QIODevice& device) {
    QTextDocument doc;
    QFont font(QStringLiteral("DejaVu Sans"));
    font.setPointSizeF(9.5);
    doc.setDefaultFont(font);
    for (const auto* list : {&charts.speed, &charts.quality, &charts.routing})
        for (const Chart& c : *list)
            doc.addResource(QTextDocument::ImageResource, QUrl(QStringLiteral("chart:") + c.id),
                            c.image);
    doc.setHtml(reportHtml(data, charts, HtmlTarget::TextDocument));

    const qint64 before = device.pos();
    QPdfWriter writer(&device);
    writer.setPageSize(QPageSize(QPageSize::A4));
    writer.setResolution(300);
    writer.setTitle(data.title);
    writer.setCreator(QStringLiteral("MoE Studio"));
    doc.print(&writer);
    if (device.pos() <= before) {
        return errorStatus(StatusCode::IoError, "report PDF: nothing was written (" +
                                                    device.errorString().toStdString() + ")");
    }
    return Status::ok();
}

} // namespace moe::ui::reports
