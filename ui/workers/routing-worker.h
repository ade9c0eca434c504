// RoutingWorker: runs a prompt through a model with routing collection on, for the Experts panel.
// Lives on its own QThread; analyze() loads the model (kept while the path stays the same),
// creates a session with SessionOptions.collectRouting and collectTokenRouting, runs the prompt
// (rendered with the model's chat template when asked) and optionally generates a few tokens,
// then hands back the routing statistics and each evaluated token's experts as plain data.
// requestStop() is safe from any thread; the token callback polls it.
#pragma once

#include <QList>
#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>
#include <QVector>

#include <atomic>
#include <memory>

namespace moe {
class Model;
}

namespace moe::ui {

struct RoutingRequest {
    qint64 versionId = 0;
    QString path;
    QString prompt;
    bool chatTemplate = true; // render as a one-turn chat (else the raw text with BOS)
    int generateTokens = 0;   // tokens to sample after the prompt (greedy); their routing too
    int maxExperts = 0;       // experts per token override (0: the model's)
};

struct RoutingResult {
    qint64 versionId = 0;
    QString modelName;
    int nLayer = 0;
    int nExpert = 0;
    int k = 0; // expert slots per token and layer
    QVector<bool> moeLayer;            // [nLayer]
    QVector<qint64> tokens;            // [nLayer * nExpert]: assignments per expert
    QVector<double> weightSums;        // [nLayer * nExpert]
    QVector<double> entropyNormalized; // [nLayer]: load balance in [0, 1]
    qint64 tokensSeen = 0;
    int promptTokens = 0;
    QString generatedText;
    // Per evaluated token, in order (the prompt's, then the generated ones that were fed back).
    QStringList tokenTexts;
    QVector<int> tokenIds;
    QVector<QVector<int>> tokenExperts;    // [token][nLayer * k], -1: none
    QVector<QVector<float>> tokenWeights;  // [token][nLayer * k]
    double totalMs = 0;
    QString device;
};

class RoutingWorker : public QObject {
    Q_OBJECT
public:
    explicit RoutingWorker(QObject* parent = nullptr);
    ~RoutingWorker() override;
    void requestStop();

public slots:
    // Worker thread. Emits analyzed or failed.
    void analyze(const moe::ui::RoutingRequest& request);

signals:
    void analyzed(const moe::ui::RoutingResult& result);
    void failed(const QString& error);

private:
    std::shared_ptr<const moe::Model> m_model;
    QString m_modelPath;
    std::atomic<bool> m_stop{false};
};

} // namespace moe::ui

Q_DECLARE_METATYPE(moe::ui::RoutingRequest)
Q_DECLARE_METATYPE(moe::ui::RoutingResult)
