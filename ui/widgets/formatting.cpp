// Display formatting shared by the panels.
#include "widgets/formatting.h"

#include <array>

namespace moe::ui {

QString formatBytes(qint64 bytes) {
    static constexpr std::array<const char*, 5> kUnits = {"B", "KiB", "MiB", "GiB", "TiB"};
    double value = static_cast<double>(bytes);
    size_t unit = 0;
    while (value >= 1024.0 && unit + 1 < kUnits.size()) {
        value /= 1024.0;
        ++unit;
    }
    if (unit == 0) return QStringLiteral("%1 B").arg(bytes);
    return QStringLiteral("%1 %2").arg(value, 0, 'f', 1).arg(QLatin1String(kUnits[unit]));
}

QString formatCount(qint64 count) {
    static constexpr std::array<const char*, 5> kUnits = {"", "K", "M", "B", "T"};
    double value = static_cast<double>(count);
    size_t unit = 0;
    while (value >= 1000.0 && unit + 1 < kUnits.size()) {
        value /= 1000.0;
        ++unit;
    }
    if (unit == 0) return QString::number(count);
    return QStringLiteral("%1 %2").arg(value, 0, 'f', 1).arg(QLatin1String(kUnits[unit]));
}

QString formatGenerationStats(double tokPerSec, double ttftMs, int tokens,
                              const QString& stopReason) {
    QString text = QStringLiteral("%1 tok/s \u00b7 TTFT %2 ms \u00b7 %3 tokens")
                       .arg(tokPerSec, 0, 'f', 1)
                       .arg(ttftMs, 0, 'f', 0)
                       .arg(tokens);
    if (!stopReason.isEmpty()) text += QStringLiteral(" \u00b7 ") + stopReason;
    return text;
}

} // namespace moe::ui
