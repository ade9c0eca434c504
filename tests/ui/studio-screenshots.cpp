// studio-screenshots: the documentation screenshots of every studio panel, light and dark, made
// reproducibly: a demo project in a temp dir with random-weight models (Mixtral-shaped "small" F32
// and its Q4_K_M quantization, a tiny DeepSeek-V2), driven through the panels' public slots (add
// models, inspect, compare two versions on a prompt set with a word diff and a winner, route a
// prompt and click a token, one chat turn, open a run), then each panel grabbed with QWidget::grab.
//
//   QT_QPA_PLATFORM=offscreen build-gui/tests/ui/studio-screenshots docs/screenshots
//
// Not a test (no CTest entry): it writes files; run it after a visible change to a panel.
#include "moe-projects/project-store.h"
#include "moe/model-factory.h"
#include "panels/chat-panel.h"
#include "panels/compare-panel.h"
#include "panels/experts-panel.h"
#include "panels/model-inspector.h"
#include "panels/models-panel.h"
#include "panels/runs-panel.h"
#include "shell/main-window.h"
#include "shell/theme.h"
#include "widgets/token-strip.h"

#include <QApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QUrl>

#include <cstdio>
#include <functional>

namespace {

// Runs the event loop until done() or the timeout; false on timeout.
bool waitFor(const std::function<bool()>& done, int timeoutMs = 120000) {
    QElapsedTimer timer;
    timer.start();
    while (!done()) {
        if (timer.elapsed() > timeoutMs) return false;
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    }
    return true;
}

void settle(int ms = 300) {
    QElapsedTimer timer;
    timer.start();
    while (timer.elapsed() < ms) QCoreApplication::processEvents(QEventLoop::AllEvents, 20);
}

int fail(const char* what) {
    std::fprintf(stderr, "studio-screenshots: %s\n", what);
    return 1;
}

bool writeModel(const char* arch, const char* preset, const char* type, const QString& path) {
    moe::RandomModelOptions options;
    options.arch = arch;
    options.preset = preset;
    options.type = type;
    options.seed = 7;
    const moe::Status st = moe::writeRandomModel(options, path.toStdString());
    if (!st.isOk()) std::fprintf(stderr, "%s\n", st.toString().c_str());
    return st.isOk();
}

} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("MoE Studio"));
    QStandardPaths::setTestModeEnabled(true); // leave the user's settings alone
    const QString outDir = argc > 1 ? QString::fromLocal8Bit(argv[1]) : QStringLiteral("docs/screenshots");
    QDir().mkpath(outDir);
    QTemporaryDir tmp;
    const QString small = tmp.filePath(QStringLiteral("mixtral-small-f32.gguf"));
    const QString smallQ4 = tmp.filePath(QStringLiteral("mixtral-small-q4_k_m.gguf"));
    const QString deepseek = tmp.filePath(QStringLiteral("deepseek2-tiny.gguf"));
    if (!writeModel("mixtral", "small", "f32", small) || !writeModel("mixtral", "small", "q4_k_m", smallQ4) ||
        !writeModel("deepseek2", "tiny", "f32", deepseek))
        return 1;

    auto store = moe::ui::MainWindow::openOrCreateProject(tmp.filePath(QStringLiteral("Demo Project")));
    if (!store) return 1;
    moe::ui::MainWindow window(std::move(store).value());
    window.resize(1440, 900);
    window.show();

    // Models: two models and a quantized version, the base inspected.
    moe::ui::ModelsPanel* models = window.modelsPanel();
    int added = 0;
    QObject::connect(models, &moe::ui::ModelsPanel::modelAdded, [&] { ++added; });
    QObject::connect(models, &moe::ui::ModelsPanel::versionAdded, [&] { ++added; });
    models->addModelFile(deepseek);
    if (!waitFor([&] { return added == 1; })) return fail("deepseek not added");
    models->addModelFile(small);
    if (!waitFor([&] { return added == 2; })) return fail("mixtral not added");
    const qint64 base = models->currentVersionId();
    models->addVersionFile(base, smallQ4, QStringLiteral("quantization"));
    if (!waitFor([&] { return added == 3; })) return fail("version not added");
    const qint64 quant = models->currentVersionId();

    // Chat: one turn on the selected model.
    moe::ui::ChatPanel* chat = window.chatPanel();
    if (!waitFor([&] { return chat->state() == moe::ui::ChatPanel::State::Ready; })) return fail("chat");
    int turns = 0;
    QObject::connect(chat, &moe::ui::ChatPanel::turnRecorded, [&] { ++turns; });
    chat->sendPrompt(QStringLiteral("What does a mixture-of-experts router do?"));
    if (!waitFor([&] { return turns == 1; })) return fail("chat turn");

    // Compare: F32 vs Q4_K_M on a prompt set, diffed, a winner picked.
    moe::ui::ComparePanel* compare = window.comparePanel();
    compare->setCheckedVersions({base, quant});
    compare->setPrompts(QStringLiteral("Explain expert routing in one sentence.\nWrite a haiku about GPUs."), true);
    bool compared = false;
    QObject::connect(compare, &moe::ui::ComparePanel::comparisonFinished, [&] { compared = true; });
    compare->run();
    if (!waitFor([&] { return compared; })) return fail("compare");
    compare->showPrompt(0);
    compare->setDiffEnabled(true);
    compare->pickWinner(base);

    // Experts: the DeepSeek model (a dense first layer, shared experts) on a prompt + 24 tokens.
    moe::ui::ExpertsPanel* experts = window.expertsPanel();
    if (auto v = window.store().modelVersions().baseVersion(1)) experts->setVersion(v->id);
    experts->setPrompt(QStringLiteral("Mixture-of-experts models send each token to a few experts."));
    experts->setGenerateTokens(24);
    bool routed = false;
    QObject::connect(experts, &moe::ui::ExpertsPanel::analysisFinished, [&] { routed = true; });
    experts->run();
    if (!waitFor([&] { return routed; })) return fail("experts");
    emit experts->tokenStrip()->anchorClicked(QUrl(QStringLiteral("#t6")));
    experts->showLayer(1);

    // Runs: the comparison opened.
    moe::ui::RunsPanel* runs = window.runsPanel();
    runs->reload();
    if (auto list = window.store().trainingRuns().history({.kind = std::string("compare"), .status = {}, .limit = 1, .offset = 0});
        list && !list->empty())
        runs->openRun(list->front().id);

    models->selectVersion(base);
    waitFor([&] { return models->inspectedVersionId() == base; }, 30000);

    for (moe::ui::ThemeMode mode : {moe::ui::ThemeMode::Light, moe::ui::ThemeMode::Dark}) {
        window.setThemeMode(mode);
        const QString theme = moe::ui::themeModeName(mode);
        for (const char* id : {"models", "chat", "compare", "experts", "runs"}) {
            window.showPanel(QString::fromLatin1(id));
            settle();
            const QString file = QDir(outDir).filePath(QStringLiteral("studio-%1-%2.png").arg(QString::fromLatin1(id), theme));
            if (!window.grab().save(file)) return fail("cannot write a screenshot");
            std::printf("wrote %s\n", qPrintable(file));
        }
        // The inspector's memory estimate per device.
        window.showPanel(QStringLiteral("models"));
        models->inspector()->tabs()->setCurrentIndex(4);
        settle();
        const QString memory = QDir(outDir).filePath(QStringLiteral("studio-models-memory-%1.png").arg(theme));
        if (!models->grab().save(memory)) return fail("cannot write a screenshot");
        models->inspector()->tabs()->setCurrentIndex(0);
    }
    window.setThemeMode(moe::ui::ThemeMode::System);
    return 0;
}
