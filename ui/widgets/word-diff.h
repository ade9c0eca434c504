// Word-level diff of two texts for the Compare panel: both texts are split into words, runs of
// whitespace and single punctuation marks, and a longest common subsequence over those pieces
// marks each piece of A as kept or removed and each piece of B as kept or added. diffHtml renders
// one side with the changed words highlighted (HTML-escaped, whitespace preserved).
// Cost: O(nA * nB) time and 2-byte cells; texts past kMaxPieces pieces compare their first
// kMaxPieces and mark the rest changed.
#pragma once

#include <QList>
#include <QString>

namespace moe::ui {

struct DiffPiece {
    enum class Op { Same, Removed, Added };
    QString text;
    Op op = Op::Same;
};

struct WordDiff {
    QList<DiffPiece> a; // Same or Removed, in A's order
    QList<DiffPiece> b; // Same or Added, in B's order
    int changedA = 0;   // words (not whitespace) removed from A
    int changedB = 0;   // words added in B
};

inline constexpr int kMaxDiffPieces = 4000;

// Splits text into words (letters, digits, underscore), whitespace runs and single other marks.
QList<QString> diffPieces(const QString& text);
WordDiff wordDiff(const QString& a, const QString& b);
// One side as HTML: Removed pieces on a red tint with a strike, Added on a green tint.
QString diffHtml(const QList<DiffPiece>& side, bool dark);

} // namespace moe::ui
