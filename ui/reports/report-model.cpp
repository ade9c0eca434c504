// ReportData helpers (see report-model.h): what speed metric names mean, how they and the
// quality keys are ordered for display, and lookups the writers use.
#include "reports/report-model.h"

#include <QRegularExpression>

#include <algorithm>
#include <set>
#include <tuple>

namespace moe::ui::reports {

namespace {

// Lower ranks come first in quality tables: perplexity, KL, agreement, accuracy, generation.
int qualityRank(const QString& metric) {
    static const QStringList order = {
        "ppl",      "nll_mean",    "kl_mean",  "kl_p95", "top1_agreement", "acc",
        "acc_norm", "exact_match", "contains", "regex",  "entropy_mean"};
    const qsizetype i = order.indexOf(metric);
    return i < 0 ? int(order.size()) : int(i);
}

} // namespace

SpeedPoint parseSpeedMetric(const QString& metric, const QString& unit) {
    SpeedPoint p;
    const QString lower = metric.toLower();
    if (lower.startsWith(QLatin1String("ttft")) || lower.startsWith(QLatin1String("itl")) ||
        (unit == QLatin1String("ms") && lower.contains(QLatin1String("latency")))) {
        p.kind = SpeedPoint::Kind::Latency;
        return p;
    }
    // pp512, tg128, then optional _bN / _dN parts in any order, then an optional unit suffix.
    static const QRegularExpression head(QStringLiteral("^(pp|tg)(\\d+)((?:_[bd]\\d+)*)(?:_.*)?$"));
    const QRegularExpressionMatch m = head.match(lower);
    if (!m.hasMatch()) return p;
    p.kind =
        m.captured(1) == QLatin1String("pp") ? SpeedPoint::Kind::Prefill : SpeedPoint::Kind::Decode;
    p.tokens = m.captured(2).toInt();
    static const QRegularExpression part(QStringLiteral("_([bd])(\\d+)"));
    auto it = part.globalMatch(m.captured(3));
    while (it.hasNext()) {
        const QRegularExpressionMatch pm = it.next();
        (pm.captured(1) == QLatin1String("b") ? p.batch : p.depth) = pm.captured(2).toInt();
    }
    return p;
}

QString speedLabel(const QString& metric) {
    const SpeedPoint p = parseSpeedMetric(metric, {});
    if (p.kind == SpeedPoint::Kind::Prefill || p.kind == SpeedPoint::Kind::Decode) {
        QString s =
            (p.kind == SpeedPoint::Kind::Prefill ? QStringLiteral("pp") : QStringLiteral("tg")) +
            QString::number(p.tokens);
        if (p.batch != 1) s += QStringLiteral(" b%1").arg(p.batch);
        if (p.depth != 0) s += QStringLiteral(" @%1").arg(p.depth);
        return s;
    }
    QString s = metric;
    for (const char* suffix : {"_tok_s", "_ms", "_s", "_bytes"}) {
        if (s.endsWith(QLatin1String(suffix))) {
            s.chop(qsizetype(qstrlen(suffix)));
            break;
        }
    }
    return s;
}

int metricDirection(const QString& metric, const QString& unit) {
    const QString m = metric.section(QStringLiteral(" · "), 0, 0);
    if (unit == QLatin1String("tok/s") || m.endsWith(QLatin1String("tok_s"))) return 1;
    if (unit == QLatin1String("ms") || unit == QLatin1String("s") ||
        m.endsWith(QLatin1String("_ms")))
        return -1;
    static const QStringList lower = {"ppl", "nll_mean", "kl_mean", "kl_p95"};
    static const QStringList higher = {"top1_agreement", "acc",      "acc_norm",
                                       "exact_match",    "contains", "regex"};
    if (lower.contains(m)) return -1;
    if (higher.contains(m)) return 1;
    return 0;
}

QString QualityRow::key() const {
    return dataset.isEmpty() ? metric : metric + QStringLiteral(" · ") + dataset;
}

const SpeedRow* VersionSection::speedMetric(const QString& metric) const {
    for (const SpeedRow& r : speed)
        if (r.metric == metric) return &r;
    return nullptr;
}

const QualityRow* VersionSection::qualityKey(const QString& key) const {
    for (const QualityRow& r : quality)
        if (r.key() == key) return &r;
    return nullptr;
}

QStringList ReportData::speedMetrics() const {
    struct Entry {
        int group;
        SpeedPoint point;
        QString metric;
    };
    std::vector<Entry> entries;
    std::set<QString> seen;
    for (const VersionSection& v : versions) {
        for (const SpeedRow& r : v.speed) {
            if (!seen.insert(r.metric).second) continue;
            const SpeedPoint p = parseSpeedMetric(r.metric, r.unit);
            const int group = p.kind == SpeedPoint::Kind::Prefill   ? 0
                              : p.kind == SpeedPoint::Kind::Decode  ? 1
                              : p.kind == SpeedPoint::Kind::Latency ? 2
                                                                    : 3;
            entries.push_back({group, p, r.metric});
        }
    }
    std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
        return std::tie(a.group, a.point.depth, a.point.batch, a.point.tokens, a.metric) <
               std::tie(b.group, b.point.depth, b.point.batch, b.point.tokens, b.metric);
    });
    QStringList out;
    for (const Entry& e : entries)
        out << e.metric;
    return out;
}

QStringList ReportData::qualityKeys() const {
    std::vector<std::tuple<int, QString, QString>> keys; // rank, dataset, key
    std::set<QString> seen;
    for (const VersionSection& v : versions) {
        for (const QualityRow& r : v.quality) {
            if (!seen.insert(r.key()).second) continue;
            keys.emplace_back(qualityRank(r.metric), r.dataset, r.key());
        }
    }
    std::sort(keys.begin(), keys.end());
    QStringList out;
    for (const auto& k : keys)
        out << std::get<2>(k);
    return out;
}

} // namespace moe::ui::reports
