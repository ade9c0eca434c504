// TranscriptView: a read-only chat transcript. Each message is a framed block (role header, text,
// and for replies a stats line); a reply in progress grows as streamed text arrives. Text is
// inserted as plain text, never parsed as HTML, so a model cannot inject markup. Frames follow the
// light or dark palette and are recolored on a theme change.
#pragma once

#include <QTextBrowser>
#include <QTextCursor>

namespace moe::ui {

class TranscriptView : public QTextBrowser {
    Q_OBJECT
public:
    explicit TranscriptView(QWidget* parent = nullptr);

    void clearTranscript();
    // A finished message; stats may be empty (user turns).
    void addMessage(const QString& role, const QString& text, const QString& stats = {});
    // Starts a reply that appendStreamText extends and finishReply closes.
    void beginReply();
    void appendStreamText(const QString& text);
    void finishReply(const QString& stats);
    // Closes a reply in progress (if any) with an error line.
    void failReply(const QString& error);
    void addNotice(const QString& text);
    bool replyInProgress() const { return m_streaming; }

protected:
    void changeEvent(QEvent* event) override;

private:
    bool isDark() const;
    QTextCursor openFrame(const QString& role);
    void insertStats(QTextCursor& cursor, const QString& stats, bool error);
    void scrollToEndIfFollowing(bool following);
    bool isFollowing() const;

    QTextCursor m_stream; // insertion point inside the reply being streamed
    bool m_streaming = false;
};

} // namespace moe::ui
