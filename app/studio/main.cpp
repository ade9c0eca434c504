// moestudio: the GUI entry point. Parses the command line, opens (or creates) the project store,
// builds the MainWindow over it and runs the event loop. Wiring only.
//
//   moestudio [--project DIR] [--add-model FILE] [--prompt TEXT]
//             [--screenshot FILE [--screenshot-delay MS]]
//
// Hidden options for docs and visual checks: --add-model adds a model file to the project,
// --prompt (repeatable) sends prompts in turn once a model is ready, --screenshot grabs the window into FILE after
// the delay and quits.
#include "moe-projects/project-store.h"
#include "moe/version.h"
#include "panels/chat-panel.h"
#include "panels/models-panel.h"
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
    QCommandLineOption addModelOption(QStringLiteral("add-model"),
                                      QStringLiteral("Add a model file to the project."),
                                      QStringLiteral("FILE"));
    addModelOption.setFlags(QCommandLineOption::HiddenFromHelp);
    QCommandLineOption promptOption(QStringLiteral("prompt"),
                                    QStringLiteral("Send a prompt once a model is ready."),
                                    QStringLiteral("TEXT"));
    promptOption.setFlags(QCommandLineOption::HiddenFromHelp);
    parser.addOptions({projectOption, screenshotOption, delayOption, addModelOption, promptOption});
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

    if (parser.isSet(promptOption)) {
        // Each prompt goes out when the chat is ready again (the model loaded, the last reply done).
        moe::ui::ChatPanel* chat = window.chatPanel();
        auto sendNext = [chat, prompts = parser.values(promptOption)]() mutable {
            if (prompts.isEmpty() || chat->state() != moe::ui::ChatPanel::State::Ready) return;
            chat->sendPrompt(prompts.takeFirst());
        };
        QObject::connect(chat, &moe::ui::ChatPanel::stateChanged, chat, sendNext,
                         Qt::QueuedConnection);
        QTimer::singleShot(0, chat, sendNext);
    }
    if (parser.isSet(addModelOption))
        window.modelsPanel()->addModelFile(parser.value(addModelOption));

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
