// VersionRunner: a prompt queue over one version's GenerationWorker thread (see the header).
#include "workers/version-runner.h"

namespace moe::ui {

VersionRunner::VersionRunner(qint64 versionId, const QString& path, QObject* parent)
    : QObject(parent), m_versionId(versionId), m_path(path) {
    m_worker = new GenerationWorker;
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &VersionRunner::loadRequested, m_worker, &GenerationWorker::loadModel);
    connect(this, &VersionRunner::generateRequested, m_worker, &GenerationWorker::generate);
    connect(m_worker, &GenerationWorker::modelLoaded, this, &VersionRunner::onLoaded);
    connect(m_worker, &GenerationWorker::loadFailed, this, &VersionRunner::onLoadFailed);
    connect(m_worker, &GenerationWorker::tokenReceived, this,
            [this](const QString& text) { emit textReceived(m_current, text); });
    connect(m_worker, &GenerationWorker::generationFinished, this, &VersionRunner::onFinished);
    connect(m_worker, &GenerationWorker::generationFailed, this, &VersionRunner::onFailed);
    m_thread.setObjectName(QStringLiteral("version-%1").arg(versionId));
    m_thread.start();
}

VersionRunner::~VersionRunner() {
    m_worker->requestStop();
    m_thread.quit();
    m_thread.wait();
}

void VersionRunner::run(const QStringList& prompts, const SamplingSettings& sampling) {
    if (m_running) return;
    m_running = true;
    m_stopped = false;
    m_prompts = prompts;
    m_sampling = sampling;
    m_current = -1;
    if (m_loaded) startNext();
    else emit loadRequested(m_path);
}

void VersionRunner::stop() {
    if (!m_running) return;
    m_stopped = true;
    m_worker->requestStop();
}

void VersionRunner::startNext() {
    ++m_current;
    if (m_stopped || m_current >= m_prompts.size()) {
        end();
        return;
    }
    GenerationRequest request;
    request.messages.append({QStringLiteral("user"), m_prompts[m_current]});
    request.sampling = m_sampling;
    emit promptStarted(m_current);
    emit generateRequested(request);
}

void VersionRunner::onLoaded(const LoadedModel& model) {
    m_loaded = true;
    m_device = model.device;
    emit loaded(model.device);
    if (m_running) startNext();
}

void VersionRunner::onLoadFailed(const QString& path, const QString& error) {
    Q_UNUSED(path);
    emit failed(-1, error);
    end();
}

void VersionRunner::onFinished(const GenerationResult& result) {
    emit promptFinished(m_current, result);
    startNext();
}

void VersionRunner::onFailed(const QString& error) {
    emit failed(m_current, error);
    end();
}

void VersionRunner::end() {
    m_running = false;
    emit finished();
}

} // namespace moe::ui
