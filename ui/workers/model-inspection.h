// ModelInspection: everything the Models panel's inspector shows about one model file, gathered on
// the probe worker thread (moe::Model::load, its tokenizer and chat template, moe::listDevices)
// and handed to the GUI thread as plain data, so the inspector never calls the engine.
// Also the two figures the project records with a model: active parameters and tensor types.
#pragma once

#include "moe/model.h"

#include <QList>
#include <QMetaType>
#include <QString>
#include <QStringList>

namespace moe::ui {

struct DeviceMemory {
    QString label;      // "cpu: AMD EPYC ...", "cuda:0: NVIDIA H100"
    qint64 memoryBytes = 0; // 0: unknown
};

struct ModelInspection {
    qint64 versionId = 0; // the version the inspection was asked for (0: none)
    QString path;
    moe::ModelInfo info;
    qint64 activeParameters = 0; // per token: all but the routed experts, plus k of them
    QString quantTypes;          // tensor types present, sorted: "F32,Q4_K"

    bool hasTokenizer = false;
    QString tokenizerKind; // tokenizer.ggml.model ("gpt2", "llama"), or "tokenizer.json"
    int vocabSize = 0;
    QString bos, eos, eot; // printable names; empty: none
    QString sampleText;
    QStringList samplePieces; // sampleText tokenized: "id 'piece'" per token

    QString chatTemplate;         // the model's own template, or the built-in fallback's source
    bool builtinTemplate = false; // chatTemplate is the fallback (the model has none)

    int defaultContext = 0; // a session's default context: min(trained context, 4096)
    QList<DeviceMemory> devices;
};

// Parameters a token uses: routed-expert tensors ("_exps" in GGUF, ".experts." in HF names)
// count k / nExpert of their size, every other tensor fully. 0 when the model has no experts.
qint64 activeParameterCount(const moe::ModelInfo& info);
// The sorted, comma-joined set of tensor types.
QString tensorTypeSet(const moe::ModelInfo& info);

} // namespace moe::ui

Q_DECLARE_METATYPE(moe::ui::ModelInspection)
