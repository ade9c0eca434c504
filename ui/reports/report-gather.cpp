// gatherReport (see report-model.h): reads bench runs, their summaries, latency samples, eval and
// routing results from the project store into a ReportData. Read-only; one query per table and
// run, so a report of a few runs costs a few dozen small queries.
#include "moe-projects/project-store.h"
#include "reports/report-model.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <map>

namespace moe::ui::reports {

namespace {

QString qs(const std::string& s) {
    return QString::fromStdString(s);
}

QJsonObject parseObject(const std::string& json) {
    return QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
}

// A JSON value as a table cell: strings bare, numbers shortest, containers compact JSON.
QString jsonText(const QJsonValue& v) {
    if (v.isString()) return v.toString();
    if (v.isDouble()) return QString::number(v.toDouble(), 'g', 10);
    if (v.isBool()) return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.isArray())
        return QString::fromUtf8(QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact));
    if (v.isObject())
        return QString::fromUtf8(QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact));
    return {};
}

// A layers x experts matrix of numbers from a JSON array of arrays; "" on success, else what is
// wrong with it.
QString readMatrix(const QJsonValue& value, int layers, int experts,
                   std::vector<std::vector<double>>& out) {
    const QJsonArray rows = value.toArray();
    if (!value.isArray() || rows.size() != layers)
        return QStringLiteral("is not an array of %1 layers").arg(layers);
    out.assign(size_t(layers), std::vector<double>(size_t(experts), 0.0));
    for (int il = 0; il < layers; ++il) {
        const QJsonArray row = rows[il].toArray();
        if (!rows[il].isArray() || row.size() != experts)
            return QStringLiteral("layer %1 does not hold %2 expert shares").arg(il).arg(experts);
        for (int e = 0; e < experts; ++e) {
            if (!row[e].isDouble())
                return QStringLiteral("layer %1 expert %2 is not a number").arg(il).arg(e);
            out[size_t(il)][size_t(e)] = row[e].toDouble();
        }
    }
    return {};
}

Result<RoutingMap> readRouting(const projects::EvalResultRecord& e) {
    const QJsonObject d = parseObject(e.detailsJson);
    RoutingMap map;
    map.layers = d.value(QStringLiteral("layers")).toInt();
    map.experts = d.value(QStringLiteral("experts")).toInt();
    const QString where = QStringLiteral("eval result %1 (routing) details_json").arg(e.id);
    auto fail = [&](const QString& what) {
        return errorStatus(StatusCode::CorruptFile,
                           (where + QLatin1Char(' ') + what).toStdString());
    };
    if (map.layers <= 0 || map.experts <= 0)
        return fail(QStringLiteral("needs positive \"layers\" and \"experts\""));
    QString problem =
        readMatrix(d.value(QStringLiteral("share")), map.layers, map.experts, map.share);
    if (!problem.isEmpty()) return fail(QStringLiteral("\"share\" ") + problem);
    const QJsonObject domains = d.value(QStringLiteral("domains")).toObject();
    for (auto it = domains.begin(); it != domains.end(); ++it) {
        // {"name": [[...]]} or, as the suite runner writes it, {"name": {"share": [[...]], ...}}.
        const QJsonValue share = it.value().isObject()
                                     ? it.value().toObject().value(QStringLiteral("share"))
                                     : it.value();
        std::vector<std::vector<double>> m;
        problem = readMatrix(share, map.layers, map.experts, m);
        if (!problem.isEmpty())
            return fail(QStringLiteral("domain \"%1\" ").arg(it.key()) + problem);
        map.domains.insert(it.key(), std::move(m));
    }
    return map;
}

class Gatherer {
public:
    explicit Gatherer(projects::ProjectStore& store) : m_store(store) {}

    Status addRun(int64_t runId, ReportData& data);

private:
    Result<size_t> section(std::optional<int64_t> versionId, int64_t runId, ReportData& data);
    Result<QString> datasetName(std::optional<int64_t> id);
    Result<std::optional<int64_t>> runVersion(const projects::RunSummary& run,
                                              const std::vector<projects::EvalResultRecord>& evals);

    projects::ProjectStore& m_store;
    std::map<int64_t, size_t> m_byVersion; // version id (or -run id) -> index in data.versions
    std::map<int64_t, QString> m_datasets;
};

Result<std::optional<int64_t>>
Gatherer::runVersion(const projects::RunSummary& run,
                     const std::vector<projects::EvalResultRecord>& evals) {
    const QJsonObject config = parseObject(run.configJson);
    if (config.value(QStringLiteral("version_id")).isDouble())
        return std::optional<int64_t>(config.value(QStringLiteral("version_id")).toInteger());
    std::optional<int64_t> only;
    bool several = false;
    for (const auto& e : evals) {
        if (!e.versionId) continue;
        if (only && *only != *e.versionId) several = true;
        only = e.versionId;
    }
    if (only && !several) return only;
    if (run.modelId) {
        MOE_ASSIGN_OR_RETURN(const auto base, m_store.modelVersions().baseVersion(*run.modelId));
        return std::optional<int64_t>(base.id);
    }
    return std::optional<int64_t>();
}

Result<size_t> Gatherer::section(std::optional<int64_t> versionId, int64_t runId,
                                 ReportData& data) {
    const int64_t key = versionId ? *versionId : -runId;
    if (auto it = m_byVersion.find(key); it != m_byVersion.end()) return it->second;
    VersionSection v;
    if (versionId) {
        MOE_ASSIGN_OR_RETURN(const auto lineage, m_store.modelVersions().lineage(*versionId));
        const auto& self = lineage.back();
        v.versionId = self.id;
        v.kind = qs(self.kind);
        v.name =
            self.name.empty() ? QStringLiteral("%1 %2").arg(v.kind).arg(self.id) : qs(self.name);
        QStringList chain;
        for (const auto& step : lineage)
            chain << (step.name.empty() ? qs(step.kind) : qs(step.name));
        v.lineage = chain.join(QStringLiteral(" -> "));
    } else {
        v.name = QStringLiteral("run %1").arg(runId);
        v.lineage = v.name;
    }
    data.versions.push_back(std::move(v));
    m_byVersion[key] = data.versions.size() - 1;
    return data.versions.size() - 1;
}

Result<QString> Gatherer::datasetName(std::optional<int64_t> id) {
    if (!id) return QString();
    if (auto it = m_datasets.find(*id); it != m_datasets.end()) return it->second;
    MOE_ASSIGN_OR_RETURN(const auto ds, m_store.datasets().dataset(*id));
    QString name = qs(ds.name.empty() ? ds.path : ds.name);
    m_datasets[*id] = name;
    return name;
}

Status Gatherer::addRun(int64_t runId, ReportData& data) {
    MOE_ASSIGN_OR_RETURN(const auto bench, m_store.bench().run(runId));
    MOE_ASSIGN_OR_RETURN(const auto run, m_store.trainingRuns().run(runId));
    MOE_ASSIGN_OR_RETURN(const auto evals, m_store.evals().byRun(runId));
    MOE_ASSIGN_OR_RETURN(const auto summaries, m_store.bench().summaries(runId));
    MOE_ASSIGN_OR_RETURN(const auto versionId, runVersion(run, evals));
    MOE_ASSIGN_OR_RETURN(const size_t own, section(versionId, runId, data));

    RunEnvironment env;
    env.runId = runId;
    env.version = data.versions[own].name;
    env.versionId = data.versions[own].versionId;
    env.suite = qs(bench.environment.suite);
    env.status = qs(bench.status);
    env.startedAt = qs(bench.startedAt);
    env.gpu = qs(bench.environment.gpu);
    env.driver = qs(bench.environment.driver);
    env.backend = qs(bench.environment.backend);
    env.buildCommit = qs(bench.environment.buildCommit);
    QStringList other;
    const QJsonObject extra = parseObject(bench.environment.environmentJson);
    for (auto it = extra.begin(); it != extra.end(); ++it) {
        const QString value = jsonText(it.value());
        if (it.key() == QLatin1String("cpu") || it.key() == QLatin1String("cpu_model"))
            env.cpu = value;
        else
            other << it.key() + QLatin1Char('=') + value;
    }
    env.other = other.join(QStringLiteral(", "));
    data.environments.push_back(env);

    // Indices, not references, into data.versions: section() may grow it below.
    data.versions[own].runIds.push_back(runId);
    for (const auto& s : summaries) {
        std::vector<SpeedRow>& speed = data.versions[own].speed;
        SpeedRow row{.metric = qs(s.metric),
                     .unit = qs(s.unit),
                     .count = s.count,
                     .mean = s.mean,
                     .median = s.median,
                     .p5 = s.p5,
                     .p95 = s.p95,
                     .stddev = s.stddev,
                     .runId = runId,
                     .samples = {}};
        if (parseSpeedMetric(row.metric, row.unit).kind == SpeedPoint::Kind::Latency) {
            MOE_ASSIGN_OR_RETURN(row.samples, m_store.bench().samples(runId, s.metric));
        }
        auto same = std::find_if(speed.begin(), speed.end(),
                                 [&](const SpeedRow& r) { return r.metric == row.metric; });
        if (same != speed.end())
            *same = std::move(row);
        else
            speed.push_back(std::move(row));
    }
    for (const auto& e : evals) {
        size_t target = own;
        if (e.versionId) {
            MOE_ASSIGN_OR_RETURN(target, section(e.versionId, runId, data));
        }
        VersionSection& tv = data.versions[target];
        if (e.eval == "routing" && !e.detailsJson.empty()) {
            MOE_ASSIGN_OR_RETURN(RoutingMap map, readRouting(e));
            if (e.metric == "entropy_mean")
                map.entropyMean = e.value;
            else if (tv.routing)
                map.entropyMean = tv.routing->entropyMean;
            tv.routing = std::move(map);
        } else if (e.eval == "routing" && e.metric == "entropy_mean" && tv.routing) {
            tv.routing->entropyMean = e.value;
        }
        QualityRow row{.eval = qs(e.eval),
                       .metric = qs(e.metric),
                       .dataset = {},
                       .value = e.value,
                       .sampleCount = e.sampleCount,
                       .runId = runId};
        MOE_ASSIGN_OR_RETURN(row.dataset, datasetName(e.datasetId));
        if (row.dataset.isEmpty())
            row.dataset = parseObject(e.detailsJson).value(QStringLiteral("task")).toString();
        auto same = std::find_if(tv.quality.begin(), tv.quality.end(),
                                 [&](const QualityRow& r) { return r.key() == row.key(); });
        if (same != tv.quality.end())
            *same = row;
        else
            tv.quality.push_back(row);
    }
    return Status::ok();
}

} // namespace

Result<ReportData> gatherReport(projects::ProjectStore& store, std::span<const int64_t> runIds,
                                const QString& title) {
    if (runIds.empty()) {
        return errorStatus(StatusCode::InvalidArgument, "report: no bench runs were given");
    }
    ReportData data;
    data.title = title.isEmpty() ? QStringLiteral("Benchmark report") : title;
    data.createdAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
    data.projectName = qs(store.name());
    data.runIds.assign(runIds.begin(), runIds.end());
    Gatherer gatherer(store);
    for (const int64_t runId : runIds) {
        const Status st = gatherer.addRun(runId, data);
        if (!st.isOk()) {
            return errorStatus(st.code(),
                               "report: run " + std::to_string(runId) + ": " + st.message());
        }
    }
    return data;
}

} // namespace moe::ui::reports
