// ReportData: everything a benchmark report shows, gathered from the project store into plain
// values so the HTML, PDF and CSV writers and the charts never touch the database.
// A report is made from bench runs. Each run belongs to one model version, found in this order:
// the run's config_json "version_id", else the one version its eval results name, else the base
// version of the run's model; a run with none of these is its own pseudo-version "run N".
// Runs of the same version are merged (speed metrics of a later run replace an earlier one's).
// Versions keep the order in which the given runs first name them; the first is the reference
// ("base") that the comparison section measures deltas against.
#pragma once

#include "moe/status.h"

#include <QMap>
#include <QString>
#include <QStringList>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace moe::projects {
class ProjectStore;
}

namespace moe::ui::reports {

struct SpeedRow {
    QString metric; // "pp512_tok_s", "tg128_tok_s", "ttft_ms", ...
    QString unit;   // "tok/s", "ms"
    int64_t count = 0;
    double mean = 0, median = 0, p5 = 0, p95 = 0, stddev = 0;
    int64_t runId = 0;
    std::vector<double> samples; // raw samples (latency metrics only; empty otherwise)
};

// What a speed metric's name says: "pp512" -> prefill, 512 tokens; "tg128_b4_d4096_tok_s" ->
// decode of 128 tokens at batch 4 after a 4096-token context.
struct SpeedPoint {
    enum class Kind { Prefill, Decode, Latency, Other };
    Kind kind = Kind::Other;
    int tokens = 0; // pp/tg length
    int batch = 1;
    int depth = 0;
};
SpeedPoint parseSpeedMetric(const QString& metric, const QString& unit);
// "pp512", "tg128 b4", "tg128 @4096", "ttft" ...: a short label for tables and axes.
QString speedLabel(const QString& metric);

// +1 when a larger value is better (tok/s, accuracy), -1 when smaller is (ms, perplexity, KL),
// 0 when neither (entropy, counts).
int metricDirection(const QString& metric, const QString& unit);

struct QualityRow {
    QString eval;    // "perplexity", "kl", "choice", "generation", "routing"
    QString metric;  // "ppl", "kl_mean", "acc", "exact_match", ...
    QString dataset; // data set name (or details_json "task"), "" when none
    double value = 0;
    int64_t sampleCount = 0;
    int64_t runId = 0;
    // The column this row fills: metric, with " · dataset" when it has one.
    QString key() const;
};

// Routing statistics of one version: share[layer][expert] of the routed tokens, and the same per
// domain text set. details_json: {"layers": L, "experts": E, "share": [[...] x E] x L,
// "domains": {"name": [[...]] or {"share": [[...]], ...}}}.
struct RoutingMap {
    int layers = 0;
    int experts = 0;
    std::vector<std::vector<double>> share;
    QMap<QString, std::vector<std::vector<double>>> domains;
    std::optional<double> entropyMean;
};

struct VersionSection {
    int64_t versionId = 0; // 0: a run without a version
    QString name;          // "base", "lora-legal", ...
    QString kind;          // model_versions.kind
    QString lineage;       // "base -> lora-legal"
    std::vector<int64_t> runIds;
    std::vector<SpeedRow> speed;
    std::vector<QualityRow> quality;
    std::optional<RoutingMap> routing;

    const SpeedRow* speedMetric(const QString& metric) const;
    const QualityRow* qualityKey(const QString& key) const;
};

struct RunEnvironment {
    int64_t runId = 0;
    QString version; // the VersionSection name the run feeds
    int64_t versionId = 0;
    QString suite, status, startedAt;
    QString gpu, driver, cpu, backend, buildCommit;
    QString other; // the remaining environment_json keys as "key=value, ..."
};

struct ReportData {
    QString title;
    QString createdAt; // ISO-8601 UTC
    QString projectName;
    std::vector<int64_t> runIds;
    std::vector<RunEnvironment> environments;
    std::vector<VersionSection> versions;

    // Speed metric names present in any version, in display order (prefill by length, decode,
    // latency, others), and quality keys likewise (perplexity, KL, accuracy, generation).
    QStringList speedMetrics() const;
    QStringList qualityKeys() const;
};

// Reads the given bench runs (and their summaries, latency samples, eval and routing results) from
// the store. Fails naming the run when one is missing or not a bench run, or when a routing
// result's details_json does not hold the layers x experts share matrix it declares.
Result<ReportData> gatherReport(projects::ProjectStore& store, std::span<const int64_t> runIds,
                                const QString& title);

} // namespace moe::ui::reports
