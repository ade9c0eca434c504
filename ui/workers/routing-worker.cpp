// RoutingWorker: routing statistics of a prompt on the worker thread (see the header).
#include "workers/routing-worker.h"

#include "moe/model.h"
#include "moe/session.h"

#include <QElapsedTimer>
#include <QFileInfo>

#include <algorithm>

namespace moe::ui {

namespace {

QString fromStd(const std::string& s) { return QString::fromStdString(s); }

QString tokenText(const moe::Tokenizer& tokenizer, int32_t id) {
    if (tokenizer.isControl(id)) return fromStd(tokenizer.tokenName(id));
    QString text = QString::fromUtf8(tokenizer.tokenBytes(id));
    text.replace(QLatin1Char('\n'), QStringLiteral("\u21b5"));
    return text;
}

} // namespace

RoutingWorker::RoutingWorker(QObject* parent) : QObject(parent) {
    qRegisterMetaType<moe::ui::RoutingRequest>();
    qRegisterMetaType<moe::ui::RoutingResult>();
}

RoutingWorker::~RoutingWorker() = default;

void RoutingWorker::requestStop() { m_stop.store(true); }

void RoutingWorker::analyze(const RoutingRequest& request) {
    m_stop.store(false);
    QElapsedTimer timer;
    timer.start();
    if (!m_model || m_modelPath != request.path) {
        m_model.reset();
        auto model = moe::Model::load(request.path.toStdString());
        if (!model) {
            emit failed(fromStd(model.status().toString()));
            return;
        }
        m_model = std::move(model).value();
        m_modelPath = request.path;
    }
    const moe::Model& model = *m_model;
    if (model.spec().nExpert <= 0) {
        emit failed(tr("%1 is a dense model: it has no routing to show.").arg(request.path));
        return;
    }
    if (!model.hasTokenizer()) {
        emit failed(tr("%1 has no tokenizer, so a prompt cannot be encoded.").arg(request.path));
        return;
    }
    std::vector<int32_t> prompt;
    if (request.chatTemplate) {
        auto encoded = model.encodeChat({{"user", request.prompt.toStdString()}}, true);
        if (!encoded) {
            emit failed(fromStd(encoded.status().toString()));
            return;
        }
        prompt = std::move(encoded).value();
    } else {
        prompt = model.tokenizer().encode(request.prompt.toStdString(), true);
    }
    if (prompt.empty()) {
        emit failed(tr("The prompt encodes to no tokens."));
        return;
    }

    moe::SessionOptions options;
    options.nCtx = static_cast<int>(prompt.size()) + std::max(request.generateTokens, 0) + 1;
    options.collectRouting = true;
    options.collectTokenRouting = true;
    options.expertPolicy.maxExperts = request.maxExperts;
    auto session = moe::Session::create(m_model, options);
    if (!session) {
        emit failed(fromStd(session.status().toString()));
        return;
    }
    RoutingResult result;
    if (request.generateTokens > 0) {
        moe::SamplingParams params;
        params.temperature = 0; // greedy: the same prompt shows the same routing
        params.maxTokens = request.generateTokens;
        auto stats = (*session)->generate(prompt, params, [this](const moe::TokenEvent&) {
            return !m_stop.load();
        });
        if (!stats) {
            emit failed(fromStd(stats.status().toString()));
            return;
        }
        result.generatedText = fromStd(stats->text);
    } else {
        auto logits = (*session)->evaluate(prompt, true);
        if (!logits) {
            emit failed(fromStd(logits.status().toString()));
            return;
        }
    }
    const moe::RoutingStats stats = (*session)->routingStats();
    result.versionId = request.versionId;
    result.modelName = fromStd(model.spec().name);
    if (result.modelName.isEmpty()) result.modelName = QFileInfo(request.path).fileName();
    result.nLayer = stats.nLayer;
    result.nExpert = stats.nExpert;
    result.tokensSeen = stats.tokensSeen;
    result.promptTokens = static_cast<int>(prompt.size());
    result.device = fromStd((*session)->device());
    for (int il = 0; il < stats.nLayer; ++il) {
        result.moeLayer.append(stats.moeLayer[static_cast<size_t>(il)]);
        result.entropyNormalized.append(stats.normalizedLoadEntropy(il));
    }
    result.tokens = QVector<qint64>(stats.tokens.begin(), stats.tokens.end());
    result.weightSums = QVector<double>(stats.weightSums.begin(), stats.weightSums.end());
    const moe::Tokenizer& tokenizer = model.tokenizer();
    for (const moe::TokenRouting& token : stats.perToken) {
        result.k = token.k;
        result.tokenIds.append(token.token);
        result.tokenTexts.append(tokenText(tokenizer, token.token));
        result.tokenExperts.append(QVector<int>(token.experts.begin(), token.experts.end()));
        result.tokenWeights.append(QVector<float>(token.weights.begin(), token.weights.end()));
    }
    result.totalMs = static_cast<double>(timer.elapsed());
    emit analyzed(result);
}

} // namespace moe::ui
