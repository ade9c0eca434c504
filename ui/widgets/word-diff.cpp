// Word-level LCS diff (see the header).
#include "widgets/word-diff.h"

#include <algorithm>
#include <cstdint>
#include <vector>

namespace moe::ui {

namespace {

enum class Kind { Word, Space, Mark };

Kind kindOf(QChar c) {
    if (c.isLetterOrNumber() || c == QLatin1Char('_')) return Kind::Word;
    if (c.isSpace()) return Kind::Space;
    return Kind::Mark;
}

bool isWord(const QString& piece) { return !piece.isEmpty() && !piece.front().isSpace(); }

} // namespace

QList<QString> diffPieces(const QString& text) {
    QList<QString> out;
    qsizetype i = 0;
    while (i < text.size()) {
        const Kind kind = kindOf(text[i]);
        qsizetype j = i + 1;
        if (kind != Kind::Mark)
            while (j < text.size() && kindOf(text[j]) == kind) ++j;
        out.append(text.mid(i, j - i));
        i = j;
    }
    return out;
}

WordDiff wordDiff(const QString& a, const QString& b) {
    const QList<QString> pa = diffPieces(a);
    const QList<QString> pb = diffPieces(b);
    const qsizetype n = std::min<qsizetype>(pa.size(), kMaxDiffPieces);
    const qsizetype m = std::min<qsizetype>(pb.size(), kMaxDiffPieces);
    // lcs[i][j]: LCS length of pa[i..n) and pb[j..m), row-major with stride m + 1.
    std::vector<uint16_t> lcs(static_cast<size_t>((n + 1) * (m + 1)), 0);
    auto at = [m](qsizetype i, qsizetype j) { return static_cast<size_t>(i * (m + 1) + j); };
    for (qsizetype i = n - 1; i >= 0; --i)
        for (qsizetype j = m - 1; j >= 0; --j)
            lcs[at(i, j)] = pa[i] == pb[j]
                                ? static_cast<uint16_t>(lcs[at(i + 1, j + 1)] + 1)
                                : std::max(lcs[at(i + 1, j)], lcs[at(i, j + 1)]);
    WordDiff diff;
    auto removed = [&](qsizetype i) {
        diff.a.append({pa[i], DiffPiece::Op::Removed});
        diff.changedA += isWord(pa[i]) ? 1 : 0;
    };
    auto added = [&](qsizetype j) {
        diff.b.append({pb[j], DiffPiece::Op::Added});
        diff.changedB += isWord(pb[j]) ? 1 : 0;
    };
    qsizetype i = 0, j = 0;
    while (i < n && j < m) {
        if (pa[i] == pb[j]) {
            diff.a.append({pa[i++], DiffPiece::Op::Same});
            diff.b.append({pb[j++], DiffPiece::Op::Same});
        } else if (lcs[at(i + 1, j)] >= lcs[at(i, j + 1)]) {
            removed(i++);
        } else {
            added(j++);
        }
    }
    for (; i < pa.size(); ++i) removed(i);
    for (; j < pb.size(); ++j) added(j);
    return diff;
}

QString diffHtml(const QList<DiffPiece>& side, bool dark) {
    const QString removedStyle = dark ? QStringLiteral("background:#6b2630;text-decoration:line-through")
                                      : QStringLiteral("background:#ffd0d4;text-decoration:line-through");
    const QString addedStyle = dark ? QStringLiteral("background:#245c33")
                                    : QStringLiteral("background:#c9f2d0");
    QString html = QStringLiteral("<div style=\"white-space:pre-wrap\">");
    for (const DiffPiece& piece : side) {
        const QString text = piece.text.toHtmlEscaped();
        // Whitespace stays unmarked so highlights hug the words.
        if (piece.op == DiffPiece::Op::Same || !isWord(piece.text)) {
            html += text;
            continue;
        }
        html += QStringLiteral("<span style=\"%1\">%2</span>")
                    .arg(piece.op == DiffPiece::Op::Removed ? removedStyle : addedStyle, text);
    }
    html += QStringLiteral("</div>");
    return html;
}

} // namespace moe::ui
