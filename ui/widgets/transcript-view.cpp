// TranscriptView: chat transcript built from QTextFrames, one per message.
#include "widgets/transcript-view.h"

#include <QPalette>
#include <QScrollBar>
#include <QTextBlockFormat>
#include <QTextCharFormat>
#include <QTextDocument>
#include <QTextFrame>
#include <QTextFrameFormat>

namespace moe::ui {

namespace {

struct RoleStyle {
    QString title;
    QColor background;
    QColor border;
};

RoleStyle roleStyle(const QString& role) {
    if (role == QLatin1String("user"))
        return {QObject::tr("You"), QColor(0xe8, 0xf0, 0xfe), QColor(0xa8, 0xc4, 0xf0)};
    if (role == QLatin1String("system"))
        return {QObject::tr("System"), QColor(0xfd, 0xf6, 0xe3), QColor(0xe0, 0xd0, 0xa0)};
    if (role == QLatin1String("notice"))
        return {QString(), QColor(0xf7, 0xf7, 0xf7), QColor(0xf7, 0xf7, 0xf7)};
    return {QObject::tr("Assistant"), QColor(0xf4, 0xf5, 0xf7), QColor(0xd0, 0xd4, 0xda)};
}

QTextCharFormat bodyFormat() {
    QTextCharFormat format;
    format.setForeground(QColor(0x20, 0x22, 0x25));
    return format;
}

} // namespace

TranscriptView::TranscriptView(QWidget* parent) : QTextBrowser(parent) {
    setObjectName(QStringLiteral("transcript"));
    setReadOnly(true);
    setOpenLinks(false);
    setUndoRedoEnabled(false);
    document()->setDocumentMargin(10);
    QPalette pal = palette();
    pal.setColor(QPalette::Base, Qt::white);
    setPalette(pal);
}

void TranscriptView::clearTranscript() {
    clear();
    m_streaming = false;
    m_stream = QTextCursor();
}

bool TranscriptView::isFollowing() const {
    const QScrollBar* bar = verticalScrollBar();
    return bar->value() >= bar->maximum() - 4;
}

void TranscriptView::scrollToEndIfFollowing(bool following) {
    if (following) verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

QTextCursor TranscriptView::openFrame(const QString& role) {
    const RoleStyle style = roleStyle(role);
    QTextCursor cursor(document());
    cursor.movePosition(QTextCursor::End);

    QTextFrameFormat frame;
    frame.setBackground(style.background);
    frame.setBorder(1);
    frame.setBorderBrush(style.border);
    frame.setBorderStyle(QTextFrameFormat::BorderStyle_Solid);
    frame.setPadding(8);
    frame.setTopMargin(4);
    frame.setBottomMargin(4);
    if (role == QLatin1String("user")) frame.setLeftMargin(60);
    else if (role != QLatin1String("notice")) frame.setRightMargin(60);
    cursor.insertFrame(frame);

    if (!style.title.isEmpty()) {
        QTextCharFormat title;
        title.setFontWeight(QFont::Bold);
        title.setForeground(QColor(0x44, 0x4c, 0x56));
        cursor.insertText(style.title, title);
        cursor.insertBlock(QTextBlockFormat(), bodyFormat());
    }
    cursor.setCharFormat(bodyFormat());
    return cursor;
}

void TranscriptView::insertStats(QTextCursor& cursor, const QString& stats, bool error) {
    if (stats.isEmpty()) return;
    QTextCharFormat format;
    format.setForeground(error ? QColor(0xb0, 0x20, 0x20) : QColor(0x70, 0x78, 0x80));
    format.setFontPointSize(qMax(6.0, font().pointSizeF() - 1.0));
    QTextBlockFormat block;
    block.setTopMargin(4);
    cursor.insertBlock(block, format);
    cursor.insertText(stats, format);
}

void TranscriptView::addMessage(const QString& role, const QString& text, const QString& stats) {
    const bool following = isFollowing();
    QTextCursor cursor = openFrame(role);
    cursor.insertText(text, bodyFormat());
    insertStats(cursor, stats, false);
    scrollToEndIfFollowing(following);
}

void TranscriptView::addNotice(const QString& text) {
    const bool following = isFollowing();
    QTextCursor cursor = openFrame(QStringLiteral("notice"));
    QTextCharFormat format;
    format.setForeground(QColor(0x70, 0x78, 0x80));
    format.setFontItalic(true);
    cursor.insertText(text, format);
    scrollToEndIfFollowing(following);
}

void TranscriptView::beginReply() {
    const bool following = isFollowing();
    m_stream = openFrame(QStringLiteral("assistant"));
    m_streaming = true;
    scrollToEndIfFollowing(following);
}

void TranscriptView::appendStreamText(const QString& text) {
    if (!m_streaming) return;
    const bool following = isFollowing();
    m_stream.insertText(text, bodyFormat());
    scrollToEndIfFollowing(following);
}

void TranscriptView::finishReply(const QString& stats) {
    if (!m_streaming) return;
    const bool following = isFollowing();
    insertStats(m_stream, stats, false);
    m_streaming = false;
    m_stream = QTextCursor();
    scrollToEndIfFollowing(following);
}

void TranscriptView::failReply(const QString& error) {
    const bool following = isFollowing();
    if (!m_streaming) m_stream = openFrame(QStringLiteral("assistant"));
    insertStats(m_stream, error, true);
    m_streaming = false;
    m_stream = QTextCursor();
    scrollToEndIfFollowing(following);
}

} // namespace moe::ui
