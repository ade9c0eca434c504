// ModelProbeWorker: opens a model file off the GUI thread to check it and describe it for the
// project's model library. It lives on a QThread; probe(path) loads the file with moe::Model::load
// (which validates the header and every tensor's extent), computes the content fingerprint, drops
// the model again and reports a ready-to-store record; inspect(versionId, path) gathers what the
// inspector shows (moe::ModelInfo, tokenizer, chat template, devices). Workload: one call per
// "Add model" and one per version shown in the inspector (the panel caches the answers).
#pragma once

#include "workers/model-inspection.h"

#include <QObject>
#include <QString>

namespace moe::ui {

struct ProbedModel {
    QString path; // absolute
    QString name;
    QString contentHash;
    QString format;
    QString architecture;
    QString family;
    qint64 fileBytes = 0;
    qint64 parameterCount = 0;
    qint64 activeParameterCount = 0;
    QString quantTypes;
    int nLayer = 0;
    int nExpert = 0;
    int nExpertUsed = 0;
};

class ModelProbeWorker : public QObject {
    Q_OBJECT
public:
    explicit ModelProbeWorker(QObject* parent = nullptr);

public slots:
    // Worker thread. Emits probed or probeFailed (the error names the file and what was wrong).
    void probe(const QString& path);
    // Worker thread. Emits inspected or inspectFailed.
    void inspect(qint64 versionId, const QString& path);

signals:
    void probed(const moe::ui::ProbedModel& model);
    void probeFailed(const QString& path, const QString& error);
    void inspected(const moe::ui::ModelInspection& inspection);
    void inspectFailed(qint64 versionId, const QString& path, const QString& error);
};

} // namespace moe::ui

Q_DECLARE_METATYPE(moe::ui::ProbedModel)
