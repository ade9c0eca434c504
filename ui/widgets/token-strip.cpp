// TokenStrip: clickable tokens as anchors in a QTextBrowser.
#include "widgets/token-strip.h"

#include <QEvent>
#include <QScrollBar>
#include <QUrl>

namespace moe::ui {

TokenStrip::TokenStrip(QWidget* parent) : QTextBrowser(parent) {
    setObjectName(QStringLiteral("tokenStrip"));
    setOpenLinks(false);
    setOpenExternalLinks(false);
    connect(this, &QTextBrowser::anchorClicked, this, [this](const QUrl& url) {
        bool ok = false;
        const int index = url.fragment().mid(1).toInt(&ok);
        if (!ok) return;
        selectToken(index);
        emit tokenClicked(index);
    });
}

void TokenStrip::setTokens(const QStringList& tokens, int promptCount) {
    m_tokens = tokens;
    m_promptCount = promptCount;
    m_selected = -1;
    render();
}

void TokenStrip::selectToken(int index) {
    if (index == m_selected) return;
    m_selected = index;
    render();
}

void TokenStrip::changeEvent(QEvent* event) {
    QTextBrowser::changeEvent(event);
    if (event->type() == QEvent::PaletteChange) render();
}

void TokenStrip::render() {
    const bool dark = palette().color(QPalette::Base).lightness() < 128;
    const QString text = palette().color(QPalette::Text).name();
    // Neighbouring tokens alternate two tints of their kind, so token boundaries show without
    // spaces that are not in the text.
    const QString prompt[2] = {dark ? QStringLiteral("#30353d") : QStringLiteral("#e9edf2"),
                               dark ? QStringLiteral("#3b414b") : QStringLiteral("#d6dde6")};
    const QString generated[2] = {dark ? QStringLiteral("#1d3b63") : QStringLiteral("#d3e6ff"),
                                  dark ? QStringLiteral("#27507f") : QStringLiteral("#b3d3fb")};
    const QString selected = palette().color(QPalette::Highlight).name();
    const QString selectedText = palette().color(QPalette::HighlightedText).name();
    QString html = QStringLiteral("<div style=\"line-height:160%\">");
    for (qsizetype i = 0; i < m_tokens.size(); ++i) {
        QString piece = m_tokens[i].toHtmlEscaped();
        piece.replace(QLatin1Char(' '), QStringLiteral("&nbsp;"));
        if (piece.isEmpty()) piece = QStringLiteral("&#8203;");
        const bool isSelected = i == m_selected;
        const QString bg = isSelected ? selected : (i < m_promptCount ? prompt[i % 2] : generated[i % 2]);
        html += QStringLiteral("<a href=\"#t%1\" style=\"text-decoration:none;color:%2;"
                               "background-color:%3\">%4</a>")
                    .arg(i)
                    .arg(isSelected ? selectedText : text, bg, piece);
    }
    html += QStringLiteral("</div>");
    const int scroll = verticalScrollBar()->value();
    setHtml(html);
    verticalScrollBar()->setValue(scroll);
}

} // namespace moe::ui
