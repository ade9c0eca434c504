// TranscriptView: chat transcript built from QTextFrames, one per message.
#include "widgets/transcript-view.h"

#include <QEvent>
#include <QPalette>
#include <QScrollBar>
#include <QTextBlockFormat>
#include <QTextCharFormat>
#include <QTextDocument>
#include <QTextFrame>
#include <QTextFrameFormat>

namespace moe::ui {

namespace {

// The frame format property holding a message frame's role, so a theme change can recolor it.
constexpr int kRoleProperty = QTextFormat::UserProperty + 1;

struct RoleStyle {
    QString title;
    QColor background;
    QColor border;
};

// Frame colors per role for a light or dark base; text itself takes the palette's Text color.
RoleStyle roleStyle(const QString& role, bool dark) {
    if (role == QLatin1String("user"))
        return {QObject::tr("You"), dark ? QColor(0x1f, 0x33, 0x50) : QColor(0xe8, 0xf0, 0xfe),
                dark ? QColor(0x3a, 0x5a, 0x8a) : QColor(0xa8, 0xc4, 0xf0)};
    if (role == QLatin1String("system"))
        return {QObject::tr("System"), dark ? QColor(0x3a, 0x34, 0x22) : QColor(0xfd, 0xf6, 0xe3),
                dark ? QColor(0x6b, 0x5d, 0x33) : QColor(0xe0, 0xd0, 0xa0)};
    if (role == QLatin1String("notice"))
        return {QString(), dark ? QColor(0x26, 0x28, 0x2c) : QColor(0xf7, 0xf7, 0xf7),
                dark ? QColor(0x26, 0x28, 0x2c) : QColor(0xf7, 0xf7, 0xf7)};
    return {QObject::tr("Assistant"), dark ? QColor(0x2a, 0x2d, 0x32) : QColor(0xf4, 0xf5, 0xf7),
            dark ? QColor(0x3c, 0x40, 0x48) : QColor(0xd0, 0xd4, 0xda)};
}

QTextCharFormat bodyFormat() { return QTextCharFormat(); }

// Muted text (stats, notices) that reads on both light and dark frames.
QColor mutedColor() { return QColor(0x80, 0x88, 0x90); }

} // namespace

TranscriptView::TranscriptView(QWidget* parent) : QTextBrowser(parent) {
    setObjectName(QStringLiteral("transcript"));
    setReadOnly(true);
    setOpenLinks(false);
    setUndoRedoEnabled(false);
    document()->setDocumentMargin(10);
}

bool TranscriptView::isDark() const { return palette().color(QPalette::Base).lightness() < 128; }

void TranscriptView::changeEvent(QEvent* event) {
    QTextBrowser::changeEvent(event);
    if (event->type() != QEvent::PaletteChange) return;
    // Recolor the message frames already in the document for the new theme.
    for (QTextFrame* frame : document()->rootFrame()->childFrames()) {
        QTextFrameFormat format = frame->frameFormat();
        const QString role = format.stringProperty(kRoleProperty);
        if (role.isEmpty()) continue;
        const RoleStyle style = roleStyle(role, isDark());
        format.setBackground(style.background);
        format.setBorderBrush(style.border);
        frame->setFrameFormat(format);
    }
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
    const RoleStyle style = roleStyle(role, isDark());
    QTextCursor cursor(document());
    cursor.movePosition(QTextCursor::End);

    QTextFrameFormat frame;
    frame.setBackground(style.background);
    frame.setBorder(1);
    frame.setBorderBrush(style.border);
    frame.setBorderStyle(QTextFrameFormat::BorderStyle_Solid);
    frame.setProperty(kRoleProperty, role);
    frame.setPadding(8);
    frame.setTopMargin(4);
    frame.setBottomMargin(4);
    if (role == QLatin1String("user")) frame.setLeftMargin(60);
    else if (role != QLatin1String("notice")) frame.setRightMargin(60);
    cursor.insertFrame(frame);

    if (!style.title.isEmpty()) {
        QTextCharFormat title;
        title.setFontWeight(QFont::Bold);
        cursor.insertText(style.title, title);
        cursor.insertBlock(QTextBlockFormat(), bodyFormat());
    }
    cursor.setCharFormat(bodyFormat());
    return cursor;
}

void TranscriptView::insertStats(QTextCursor& cursor, const QString& stats, bool error) {
    if (stats.isEmpty()) return;
    QTextCharFormat format;
    format.setForeground(error ? QColor(0xd0, 0x40, 0x40) : mutedColor());
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
    format.setForeground(mutedColor());
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
