// CompareColumn: one model version's column in the Compare panel: its name, a state line
// (loading, streaming, done, error), the reply (plain text, or a word diff as HTML), the stats
// (tok/s, TTFT, tokens) and a "Pick winner" toggle that frames the column when it is the
// prompt's winner. Pure view. Thread: GUI.
#pragma once

#include <QFrame>

class QLabel;
class QPushButton;
class QTextBrowser;

namespace moe::ui {

class CompareColumn : public QFrame {
    Q_OBJECT
public:
    CompareColumn(qint64 versionId, const QString& title, QWidget* parent = nullptr);

    qint64 versionId() const { return m_versionId; }
    void setState(const QString& state);
    void setText(const QString& text);
    void appendText(const QString& text);
    void setDiffHtml(const QString& html);
    void setStats(const QString& stats);
    void setWinner(bool winner);
    void setWinnerEnabled(bool enabled);
    QString text() const { return m_text; }
    QString stats() const;
    bool isWinner() const { return m_winner; }

signals:
    void winnerPicked(qint64 versionId);

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    void updateFrame();

    qint64 m_versionId = 0;
    QString m_text;
    bool m_winner = false;
    QLabel* m_title = nullptr;
    QLabel* m_state = nullptr;
    QTextBrowser* m_view = nullptr;
    QLabel* m_stats = nullptr;
    QPushButton* m_winnerButton = nullptr;
};

} // namespace moe::ui
