// writeReport: gathers bench runs from a project, renders the report in the format its file
// name asks for (.html, .pdf, .csv), writes it atomically (QSaveFile: a temp file renamed into
// place) and records it in the project's reports table with the run ids as source_json.
// Paths follow the artifacts rule: a relative output goes under <project>/reports/ and is
// recorded relative to the project folder ("reports/cmp.html"); an absolute one is written
// where it says and recorded relative when it lies inside the project, absolute otherwise.
// GUI thread (charts are QWidgets drawn offscreen); the store must be open read-write.
#pragma once

#include "moe/status.h"

#include <QString>

#include <cstdint>
#include <vector>

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui::reports {

struct ReportRequest {
    std::vector<int64_t> runIds;
    QString out;   // FILE.html | FILE.pdf | FILE.csv
    QString title; // "" -> "Benchmark report"
};

struct WrittenReport {
    int64_t reportId = 0;
    QString format;       // "html", "pdf", "csv"
    QString absolutePath; // where the file is
    QString recordedPath; // reports.path
};

// "html", "pdf" or "csv" from a file name's extension (case-insensitive); "" when none fits.
QString reportFormat(const QString& fileName);

Result<WrittenReport> writeReport(projects::ProjectStore& store, const ReportRequest& request);

} // namespace moe::ui::reports
