// VersionRunner: one model version's own GenerationWorker on its own QThread, for panels that run
// several versions at once (Compare: one runner per column, all streaming together). run() loads
// the version (once; a later run of the same path reuses the loaded session) and generates a reply
// to each prompt in turn, each as a fresh one-turn chat with the model's chat template; signals
// carry the prompt index. The runner itself lives on the GUI thread and only forwards queued
// requests, so the GUI thread never waits on the engine except in the destructor, which asks the
// worker to stop and joins its thread (at most one token's wait).
//
//   Idle --run--> Loading --loaded--> Generating(i) --finished(i)--> Generating(i+1) ... --> Idle
//     ^              |                     |
//     +--loadFailed--+-----failed/stop-----+
#pragma once

#include "workers/generation-worker.h"

#include <QStringList>
#include <QThread>

namespace moe::ui {

class VersionRunner : public QObject {
    Q_OBJECT
public:
    VersionRunner(qint64 versionId, const QString& path, QObject* parent = nullptr);
    ~VersionRunner() override;

    qint64 versionId() const { return m_versionId; }
    const QString& path() const { return m_path; }
    bool isRunning() const { return m_running; }
    const QString& device() const { return m_device; }

    // Starts the prompts (no-op while running).
    void run(const QStringList& prompts, const SamplingSettings& sampling);
    // Stops after the current token; the reply so far finishes as "cancelled", later prompts
    // are skipped.
    void stop();

signals:
    void loaded(const QString& device);
    void promptStarted(int index);
    void textReceived(int index, const QString& text);
    void promptFinished(int index, const moe::ui::GenerationResult& result);
    // index -1: the model did not load.
    void failed(int index, const QString& error);
    void finished();

    // To the worker (queued).
    void loadRequested(const QString& path);
    void generateRequested(const moe::ui::GenerationRequest& request);

private:
    void startNext();
    void onLoaded(const moe::ui::LoadedModel& model);
    void onLoadFailed(const QString& path, const QString& error);
    void onFinished(const moe::ui::GenerationResult& result);
    void onFailed(const QString& error);
    void end();

    qint64 m_versionId = 0;
    QString m_path;
    QThread m_thread;
    GenerationWorker* m_worker = nullptr; // lives on m_thread
    bool m_loaded = false;
    bool m_running = false;
    bool m_stopped = false;
    QString m_device;
    QStringList m_prompts;
    SamplingSettings m_sampling;
    int m_current = -1;
};

} // namespace moe::ui
