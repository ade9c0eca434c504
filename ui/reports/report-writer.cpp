// writeReport (see report-writer.h).
#include "reports/report-writer.h"

#include "moe-projects/project-store.h"
#include "reports/report-csv.h"
#include "reports/report-html.h"
#include "reports/report-pdf.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>

namespace moe::ui::reports {

QString reportFormat(const QString& fileName) {
    const QString suffix = QFileInfo(fileName).suffix().toLower();
    if (suffix == QLatin1String("html") || suffix == QLatin1String("htm"))
        return QStringLiteral("html");
    if (suffix == QLatin1String("pdf") || suffix == QLatin1String("csv")) return suffix;
    return {};
}

Result<WrittenReport> writeReport(projects::ProjectStore& store, const ReportRequest& request) {
    WrittenReport written;
    written.format = reportFormat(request.out);
    if (written.format.isEmpty()) {
        return errorStatus(StatusCode::InvalidArgument,
                           "report: '" + request.out.toStdString() +
                               "' does not end in .html, .pdf or .csv");
    }
    if (store.readOnly()) {
        return errorStatus(StatusCode::InvalidArgument,
                           "report: the project " + store.dir() +
                               " is open read-only, so the report cannot be recorded");
    }
    const QDir project(QString::fromStdString(store.dir()));
    const QString reportsDir = project.filePath(QStringLiteral("reports"));
    written.absolutePath = QDir::cleanPath(
        QDir::isAbsolutePath(request.out) ? request.out : QDir(reportsDir).filePath(request.out));
    const QString relative = project.relativeFilePath(written.absolutePath);
    written.recordedPath =
        relative.startsWith(QLatin1String("..")) ? written.absolutePath : relative;
    if (!QDir().mkpath(QFileInfo(written.absolutePath).absolutePath())) {
        return errorStatus(StatusCode::IoError, "report: cannot create the folder of " +
                                                    written.absolutePath.toStdString());
    }

    MOE_ASSIGN_OR_RETURN(const ReportData data, gatherReport(store, request.runIds, request.title));
    QSaveFile file(written.absolutePath);
    if (!file.open(QIODevice::WriteOnly)) {
        return errorStatus(StatusCode::IoError, "report: cannot write " +
                                                    written.absolutePath.toStdString() + ": " +
                                                    file.errorString().toStdString());
    }
    if (written.format == QLatin1String("csv")) {
        file.write(reportCsv(data).toUtf8());
    } else {
        const ReportCharts charts = renderCharts(data);
        if (written.format == QLatin1String("html")) {
            file.write(reportHtml(data, charts, HtmlTarget::Browser).toUtf8());
        } else {
            MOE_TRY(writePdf(data, charts, file));
        }
    }
    if (!file.commit()) {
        return errorStatus(StatusCode::IoError, "report: cannot write " +
                                                    written.absolutePath.toStdString() + ": " +
                                                    file.errorString().toStdString());
    }

    QJsonArray runs;
    for (const int64_t id : data.runIds)
        runs.append(qint64(id));
    QJsonArray versions;
    for (const VersionSection& v : data.versions)
        if (v.versionId) versions.append(qint64(v.versionId));
    const QJsonObject source{{QStringLiteral("runs"), runs},
                             {QStringLiteral("versions"), versions}};
    projects::ReportRecord record;
    record.title = data.title.toStdString();
    record.format = written.format.toStdString();
    record.path = written.recordedPath.toStdString();
    record.sourceJson = QJsonDocument(source).toJson(QJsonDocument::Compact).toStdString();
    MOE_ASSIGN_OR_RETURN(written.reportId, store.reports().add(record));
    return written;
}

} // namespace moe::ui::reports
