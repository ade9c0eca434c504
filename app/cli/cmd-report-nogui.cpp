// `moestudio-cli report` in a build without the GUI (MOE_GUI=OFF): reports draw their charts
// with QCustomPlot, which that build does not link, so the command says so.
#include "cli-output.h"
#include "commands.h"

int cmdReport(int, char**) {
    return cliFail("report: reports need the GUI build (configure with -DMOE_GUI=ON: Qt 6 and "
                   "QCustomPlot draw the charts)");
}
