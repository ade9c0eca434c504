// `moestudio-cli report --project DIR --runs ID[,ID...] --out FILE.html|.pdf|.csv [--title T]`:
// a report of bench runs (one version, or several compared) written and recorded in the project
// by ui/reports (the same charts the studio draws). Charts are QCustomPlot widgets drawn
// offscreen, so the command runs a QApplication on the offscreen platform unless
// QT_QPA_PLATFORM says otherwise; no display is needed.
#include "cli-args.h"
#include "cli-output.h"
#include "commands.h"

#include "moe-projects/project-store.h"
#include "reports/report-writer.h"

#include <QApplication>

#include <cstdio>
#include <sstream>

namespace {

constexpr const char* kUsage =
    "usage: moestudio-cli report --project DIR --runs ID[,ID...] --out "
    "FILE.html|FILE.pdf|FILE.csv\n"
    "                            [--title TITLE]\n"
    "  a relative FILE goes under DIR/reports/; the first run's version is the comparison base\n";

bool parseIds(const std::string& text, std::vector<int64_t>& out) {
    std::stringstream ss(text);
    std::string item;
    while (std::getline(ss, item, ',')) {
        char* end = nullptr;
        const long long v = std::strtoll(item.c_str(), &end, 10);
        if (item.empty() || *end || v <= 0) return false;
        out.push_back(v);
    }
    return !out.empty();
}

} // namespace

int cmdReport(int argc, char** argv) {
    CliArgs args;
    if (!args.parse(argc, argv, {"project", "runs", "out", "title"}, {"help"}))
        return cliUsage("report: " + args.error() + "\n" + kUsage);
    if (args.has("help")) {
        std::fputs(kUsage, stdout);
        return 0;
    }
    const auto dir = args.value("project");
    const auto runs = args.value("runs");
    const auto out = args.value("out");
    if (!dir || !runs || !out || !args.positional().empty()) return cliUsage(kUsage);
    moe::ui::reports::ReportRequest request;
    if (!parseIds(*runs, request.runIds))
        return cliUsage("report: --runs takes comma-separated run ids (positive integers)\n" +
                        std::string(kUsage));
    request.out = QString::fromStdString(*out);
    request.title = QString::fromStdString(args.value("title", ""));
    if (moe::ui::reports::reportFormat(request.out).isEmpty())
        return cliUsage("report: --out must end in .html, .pdf or .csv\n" + std::string(kUsage));

    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    int qtArgc = 1;
    char* qtArgv[] = {argv[0], nullptr};
    QApplication app(qtArgc, qtArgv);

    auto store = moe::projects::ProjectStore::open(*dir);
    if (!store.isOk()) return cliFail(store.status().message());
    auto written = moe::ui::reports::writeReport(**store, request);
    if (!written.isOk()) return cliFail(written.status().message());
    std::printf("report %lld (%s): %s\n", static_cast<long long>(written->reportId),
                written->format.toStdString().c_str(), written->absolutePath.toStdString().c_str());
    return 0;
}
