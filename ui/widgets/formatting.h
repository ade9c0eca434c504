// Display formatting shared by the panels: sizes, counts and generation stats as short strings.
#pragma once

#include <QString>

namespace moe::ui {

// 1536 -> "1.5 KiB", 3.2e9 -> "3.0 GiB".
QString formatBytes(qint64 bytes);
// 1234 -> "1.2 K", 7.1e9 -> "7.1 B" (parameter counts).
QString formatCount(qint64 count);
// "42.1 tok/s · TTFT 12 ms · 64 tokens · max_tokens".
QString formatGenerationStats(double tokPerSec, double ttftMs, int tokens,
                              const QString& stopReason);

} // namespace moe::ui
