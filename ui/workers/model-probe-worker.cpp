// ModelProbeWorker: load, fingerprint and describe a model file on a worker thread.
#include "workers/model-probe-worker.h"

#include "moe-projects/project-store.h"
#include "moe/chat-template.h"
#include "moe/devices.h"
#include "moe/model.h"

#include <QFileInfo>

#include <algorithm>
#include <set>

namespace moe::ui {

namespace {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

bool isRoutedExpertTensor(const std::string& name) {
    return name.find("_exps") != std::string::npos || name.find(".experts.") != std::string::npos;
}

QString metadataValue(const moe::ModelInfo& info, const char* key) {
    for (const auto& [k, v] : info.metadata)
        if (k == key) return fromStd(v);
    return {};
}

// Control tokens print as their names, others as their bytes with newlines made visible.
QString pieceText(const moe::Tokenizer& tokenizer, int32_t id) {
    if (tokenizer.isControl(id)) return fromStd(tokenizer.tokenName(id));
    QString text = QString::fromUtf8(tokenizer.tokenBytes(id));
    text.replace(QLatin1Char('\n'), QStringLiteral("\\n"));
    return text;
}

QString tokenLabel(const moe::Tokenizer& tokenizer, int32_t id) {
    if (id < 0) return {};
    return QStringLiteral("%1 (%2)").arg(fromStd(tokenizer.tokenName(id))).arg(id);
}

} // namespace

qint64 activeParameterCount(const moe::ModelInfo& info) {
    const moe::ModelSpec& spec = info.spec;
    if (spec.nExpert <= 0 || spec.nExpertUsed <= 0) return 0;
    uint64_t routed = 0;
    for (const moe::TensorInfo& tensor : info.tensors)
        if (isRoutedExpertTensor(tensor.name)) routed += tensor.elements();
    const uint64_t dense = info.parameterCount - std::min(routed, info.parameterCount);
    const double active = static_cast<double>(routed) * spec.nExpertUsed / spec.nExpert;
    return static_cast<qint64>(dense) + static_cast<qint64>(active);
}

QString tensorTypeSet(const moe::ModelInfo& info) {
    std::set<std::string> types;
    for (const moe::TensorInfo& tensor : info.tensors) types.insert(tensor.type);
    QStringList out;
    for (const std::string& type : types) out << fromStd(type);
    return out.join(QLatin1Char(','));
}

ModelProbeWorker::ModelProbeWorker(QObject* parent) : QObject(parent) {
    qRegisterMetaType<moe::ui::ProbedModel>();
    qRegisterMetaType<moe::ui::ModelInspection>();
}

void ModelProbeWorker::probe(const QString& path) {
    const QString absolute = QFileInfo(path).absoluteFilePath();
    auto model = moe::Model::load(absolute.toStdString());
    if (!model) {
        emit probeFailed(absolute, fromStd(model.status().toString()));
        return;
    }
    auto hash = moe::projects::fileFingerprint(absolute.toStdString());
    if (!hash) {
        emit probeFailed(absolute, fromStd(hash.status().toString()));
        return;
    }
    const moe::ModelInfo& info = (*model)->info();
    ProbedModel out;
    out.path = absolute;
    out.name = fromStd(info.spec.name);
    if (out.name.isEmpty()) out.name = QFileInfo(absolute).completeBaseName();
    out.contentHash = fromStd(*hash);
    out.format = fromStd(info.format);
    out.architecture = fromStd(info.spec.architecture);
    out.family = fromStd(info.spec.family);
    out.fileBytes = static_cast<qint64>(info.fileBytes);
    out.parameterCount = static_cast<qint64>(info.parameterCount);
    out.activeParameterCount = activeParameterCount(info);
    out.quantTypes = tensorTypeSet(info);
    out.nLayer = info.spec.nLayer;
    out.nExpert = info.spec.nExpert;
    out.nExpertUsed = info.spec.nExpertUsed;
    emit probed(out);
}

void ModelProbeWorker::inspect(qint64 versionId, const QString& path) {
    auto model = moe::Model::load(path.toStdString());
    if (!model) {
        emit inspectFailed(versionId, path, fromStd(model.status().toString()));
        return;
    }
    const moe::Model& m = **model;
    ModelInspection out;
    out.versionId = versionId;
    out.path = path;
    out.info = m.info();
    out.activeParameters = activeParameterCount(out.info);
    out.quantTypes = tensorTypeSet(out.info);
    out.defaultContext = std::min(out.info.spec.nCtxTrain > 0 ? out.info.spec.nCtxTrain : 4096, 4096);

    out.hasTokenizer = m.hasTokenizer();
    if (out.hasTokenizer) {
        const moe::Tokenizer& tokenizer = m.tokenizer();
        out.tokenizerKind = metadataValue(out.info, "tokenizer.ggml.model");
        if (out.tokenizerKind.isEmpty()) out.tokenizerKind = QStringLiteral("tokenizer.json");
        out.vocabSize = tokenizer.vocabSize();
        out.bos = tokenLabel(tokenizer, tokenizer.bosId());
        out.eos = tokenLabel(tokenizer, tokenizer.eosId());
        out.eot = tokenLabel(tokenizer, tokenizer.eotId());
        out.sampleText = QStringLiteral("Hello, experts! 1234");
        for (int32_t id : tokenizer.encode(out.sampleText.toStdString(), true))
            out.samplePieces << QStringLiteral("%1 '%2'").arg(id).arg(pieceText(tokenizer, id));
    }
    out.chatTemplate = fromStd(out.info.chatTemplate);
    if (out.chatTemplate.isEmpty()) {
        out.builtinTemplate = true;
        out.chatTemplate = fromStd(moe::ChatTemplate::builtinSource("chatml"));
    }
    for (const moe::DeviceInfo& device : moe::listDevices().devices) {
        QString label = fromStd(device.backend);
        if (device.backend != "cpu") label += QStringLiteral(":%1").arg(device.index);
        if (!device.name.empty()) label += QStringLiteral(" (%1)").arg(fromStd(device.name));
        out.devices.append({label, static_cast<qint64>(device.memoryBytes)});
    }
    emit inspected(out);
}

} // namespace moe::ui
