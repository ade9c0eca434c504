// ModelProbeWorker: load, fingerprint and describe a model file on a worker thread.
#include "workers/model-probe-worker.h"

#include "moe-projects/project-store.h"
#include "moe/model.h"

#include <QFileInfo>

namespace moe::ui {

ModelProbeWorker::ModelProbeWorker(QObject* parent) : QObject(parent) {
    qRegisterMetaType<moe::ui::ProbedModel>();
}

void ModelProbeWorker::probe(const QString& path) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    auto model = moe::Model::load(absolute.toStdString());
    if (!model) {
        emit probeFailed(absolute, QString::fromStdString(model.status().toString()));
        return;
    }
    auto hash = moe::projects::fileFingerprint(absolute.toStdString());
    if (!hash) {
        emit probeFailed(absolute, QString::fromStdString(hash.status().toString()));
        return;
    }
    const moe::ModelInfo& info = (*model)->info();
    ProbedModel out;
    out.path = absolute;
    out.name = QString::fromStdString(info.spec.name);
    if (out.name.isEmpty()) out.name = QFileInfo(absolute).completeBaseName();
    out.contentHash = QString::fromStdString(*hash);
    out.format = QString::fromStdString(info.format);
    out.architecture = QString::fromStdString(info.spec.architecture);
    out.family = QString::fromStdString(info.spec.family);
    out.fileBytes = static_cast<qint64>(info.fileBytes);
    out.parameterCount = static_cast<qint64>(info.parameterCount);
    out.nLayer = info.spec.nLayer;
    out.nExpert = info.spec.nExpert;
    out.nExpertUsed = info.spec.nExpertUsed;
    emit probed(out);
}

} // namespace moe::ui
