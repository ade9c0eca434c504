// TokenStrip: a text shown token by token, each token a clickable chip (prompt tokens plain,
// generated tokens tinted, the selected one highlighted). Clicking a token emits tokenClicked
// with its index; the Experts panel then marks that token's experts on the heatmap. Token text is
// escaped, never parsed as HTML; newlines and control tokens are shown visibly.
#pragma once

#include <QStringList>
#include <QTextBrowser>

namespace moe::ui {

class TokenStrip : public QTextBrowser {
    Q_OBJECT
public:
    explicit TokenStrip(QWidget* parent = nullptr);

    // tokens: display text per token; the first promptCount are the prompt's.
    void setTokens(const QStringList& tokens, int promptCount);
    void selectToken(int index);
    int selectedToken() const { return m_selected; }
    int tokenCount() const { return static_cast<int>(m_tokens.size()); }

signals:
    void tokenClicked(int index);

protected:
    void changeEvent(QEvent* event) override;

private:
    void render();

    QStringList m_tokens;
    int m_promptCount = 0;
    int m_selected = -1;
};

} // namespace moe::ui
