// The report as CSV (see report-csv.h). Numbers keep 10 significant digits.
#include "reports/report-csv.h"

#include <cmath>
#include <map>

namespace moe::ui::reports {

const QStringList kCsvColumns = {
    QStringLiteral("section"),   QStringLiteral("version"), QStringLiteral("version_id"),
    QStringLiteral("run_id"),    QStringLiteral("eval"),    QStringLiteral("metric"),
    QStringLiteral("dataset"),   QStringLiteral("unit"),    QStringLiteral("count"),
    QStringLiteral("value"),     QStringLiteral("mean"),    QStringLiteral("median"),
    QStringLiteral("p5"),        QStringLiteral("p95"),     QStringLiteral("stddev"),
    QStringLiteral("delta_pct"), QStringLiteral("layer"),   QStringLiteral("expert"),
    QStringLiteral("text")};

namespace {

QString field(const QString& s) {
    if (!s.contains(QLatin1Char(',')) && !s.contains(QLatin1Char('"')) &&
        !s.contains(QLatin1Char('\n')) && !s.contains(QLatin1Char('\r')))
        return s;
    QString q = s;
    q.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + q + QLatin1Char('"');
}

QString number(double v) {
    return std::isfinite(v) ? QString::number(v, 'g', 10) : QString();
}

class Writer {
public:
    // One row; cells names columns of kCsvColumns, the others stay empty.
    void row(const std::map<QString, QString>& cells) {
        QStringList out;
        for (const QString& c : kCsvColumns) {
            auto it = cells.find(c);
            out << (it == cells.end() ? QString() : field(it->second));
        }
        m_text += out.join(QLatin1Char(',')) + QStringLiteral("\r\n");
    }
    QString m_text;
};

QString pct(double value, double reference) {
    if (reference == 0 || !std::isfinite(value) || !std::isfinite(reference)) return {};
    return QString::number((value - reference) / std::abs(reference) * 100.0, 'f', 3);
}

} // namespace

QString reportCsv(const ReportData& data) {
    Writer w;
    w.m_text = kCsvColumns.join(QLatin1Char(',')) + QStringLiteral("\r\n");
    for (const RunEnvironment& e : data.environments) {
        const std::pair<const char*, QString> items[] = {
            {"suite", e.suite},          {"status", e.status},
            {"started_at", e.startedAt}, {"gpu", e.gpu},
            {"driver", e.driver},        {"cpu", e.cpu},
            {"backend", e.backend},      {"build_commit", e.buildCommit},
            {"other", e.other}};
        for (const auto& [metric, text] : items)
            w.row({{"section", "environment"},
                   {"version", e.version},
                   {"version_id", e.versionId ? QString::number(e.versionId) : QString()},
                   {"run_id", QString::number(e.runId)},
                   {"metric", QString::fromLatin1(metric)},
                   {"text", text}});
    }
    const VersionSection* ref = data.versions.size() > 1 ? &data.versions.front() : nullptr;
    for (const VersionSection& v : data.versions) {
        const QString vid = v.versionId ? QString::number(v.versionId) : QString();
        const bool compare = ref && &v != ref;
        for (const QString& metric : data.speedMetrics()) {
            const SpeedRow* r = v.speedMetric(metric);
            if (!r) continue;
            const SpeedRow* base = compare ? ref->speedMetric(metric) : nullptr;
            w.row({{"section", "speed"},
                   {"version", v.name},
                   {"version_id", vid},
                   {"run_id", QString::number(r->runId)},
                   {"metric", r->metric},
                   {"unit", r->unit},
                   {"count", QString::number(r->count)},
                   {"value", number(r->median)},
                   {"mean", number(r->mean)},
                   {"median", number(r->median)},
                   {"p5", number(r->p5)},
                   {"p95", number(r->p95)},
                   {"stddev", number(r->stddev)},
                   {"delta_pct", base ? pct(r->median, base->median) : QString()}});
        }
        for (const QString& key : data.qualityKeys()) {
            const QualityRow* q = v.qualityKey(key);
            if (!q) continue;
            const QualityRow* base = compare ? ref->qualityKey(key) : nullptr;
            w.row({{"section", "quality"},
                   {"version", v.name},
                   {"version_id", vid},
                   {"run_id", QString::number(q->runId)},
                   {"eval", q->eval},
                   {"metric", q->metric},
                   {"dataset", q->dataset},
                   {"count", QString::number(q->sampleCount)},
                   {"value", number(q->value)},
                   {"delta_pct", base ? pct(q->value, base->value) : QString()}});
        }
        if (!v.routing) continue;
        const RoutingMap& m = *v.routing;
        auto matrix = [&](const std::vector<std::vector<double>>& share, const QString& domain) {
            for (size_t il = 0; il < share.size(); ++il)
                for (size_t e = 0; e < share[il].size(); ++e)
                    w.row({{"section", "routing"},
                           {"version", v.name},
                           {"version_id", vid},
                           {"eval", "routing"},
                           {"metric", "share"},
                           {"dataset", domain},
                           {"value", number(share[il][e])},
                           {"layer", QString::number(il)},
                           {"expert", QString::number(e)}});
        };
        matrix(m.share, QString());
        for (auto it = m.domains.constBegin(); it != m.domains.constEnd(); ++it)
            matrix(it.value(), it.key());
    }
    return w.m_text;
}

} // namespace moe::ui::reports
