// moestudio: the GUI entry point. Parses the command line, opens (or creates) the project store,
// builds the MainWindow over it and runs the event loop. Wiring only.
//
//   moestudio [--project DIR] [--screenshot FILE [--screenshot-delay MS]]
//
// --screenshot grabs the window into FILE after the delay and quits (docs and visual checks).
#include "moe-projects/project-store.h"
#include "moe/version.h"
#include "shell/main-window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QIcon>
#include <QStandardPaths>
#include <QTimer>

#include <cstdio>

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("MoE Studio"));
    QApplication::setOrganizationName(QStringLiteral("moestudio"));
    QApplication::setApplicationVersion(QString::fromLatin1(moe::versionString()));
    QApplication::setDesktopFileName(QStringLiteral("moestudio"));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Desktop studio for Mixture-of-Experts language models"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption projectOption(
        QStringLiteral("project"),
        QStringLiteral("Project folder to open (created when it holds no project)."),
        QStringLiteral("DIR"));
    QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"), QStringLiteral("Save a screenshot of the window and quit."),
        QStringLiteral("FILE"));
    screenshotOption.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption delayOption(QStringLiteral("screenshot-delay"),
                                   QStringLiteral("Milliseconds to wait before the screenshot."),
                                   QStringLiteral("MS"), QStringLiteral("3000"));
    delayOption.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions({projectOption, screenshotOption, delayOption});
    parser.process(app);

    QString projectDir = parser.value(projectOption);
    if (projectDir.isEmpty()) {
        const QString docs = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
        projectDir = QDir(docs.isEmpty() ? QDir::homePath() : docs)
                         .filePath(QStringLiteral("MoE Studio/Default Project"));
    }
    auto store = moe::ui::MainWindow::openOrCreateProject(projectDir);
    if (!store) {
        std::fprintf(stderr, "moestudio: cannot open project %s: %s\n",
                     qPrintable(projectDir), store.status().toString().c_str());
        return 1;
    }

    moe::ui::MainWindow window(std::move(store).value());
    QApplication::setWindowIcon(window.windowIcon());
    window.show();

    if (parser.isSet(screenshotOption)) {
        const QString file = parser.value(screenshotOption);
        const int delayMs = parser.value(delayOption).toInt();
        QTimer::singleShot(delayMs, &window, [&window, file] {
            if (!window.grab().save(file)) {
                std::fprintf(stderr, "moestudio: could not write %s\n", qPrintable(file));
                QApplication::exit(1);
                return;
            }
            QApplication::quit();
        });
    }
    return QApplication::exec();
}
