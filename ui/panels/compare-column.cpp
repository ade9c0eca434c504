// CompareColumn: one version's reply with its stats (see the header).
#include "panels/compare-column.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QScrollBar>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace moe::ui {

CompareColumn::CompareColumn(qint64 versionId, const QString& title, QWidget* parent)
    : QFrame(parent), m_versionId(versionId) {
    setObjectName(QStringLiteral("compareColumn%1").arg(versionId));
    setFrameShape(QFrame::StyledPanel);
    setLineWidth(1);
    m_title = new QLabel(QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped()), this);
    m_title->setTextFormat(Qt::RichText);
    m_title->setToolTip(title);
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("columnState"));
    m_view = new QTextBrowser(this);
    m_view->setObjectName(QStringLiteral("columnText"));
    m_view->setOpenLinks(false);
    m_stats = new QLabel(this);
    m_stats->setObjectName(QStringLiteral("columnStats"));
    m_stats->setWordWrap(true);
    m_winnerButton = new QPushButton(tr("Pick winner"), this);
    m_winnerButton->setObjectName(QStringLiteral("winnerButton"));
    m_winnerButton->setCheckable(true);
    connect(m_winnerButton, &QPushButton::clicked, this, [this] {
        m_winnerButton->setChecked(m_winner); // the panel decides and calls setWinner
        emit winnerPicked(m_versionId);
    });

    auto* head = new QHBoxLayout;
    head->addWidget(m_title, 1);
    head->addWidget(m_state);
    auto* foot = new QHBoxLayout;
    foot->addWidget(m_stats, 1);
    foot->addWidget(m_winnerButton);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addLayout(head);
    layout->addWidget(m_view, 1);
    layout->addLayout(foot);
    updateFrame();
}

void CompareColumn::setState(const QString& state) { m_state->setText(state); }

void CompareColumn::setText(const QString& text) {
    m_text = text;
    m_view->setPlainText(text);
}

void CompareColumn::appendText(const QString& text) {
    m_text += text;
    QScrollBar* bar = m_view->verticalScrollBar();
    const bool following = bar->value() >= bar->maximum() - 4;
    QTextCursor cursor(m_view->document());
    cursor.movePosition(QTextCursor::End);
    cursor.insertText(text);
    if (following) bar->setValue(bar->maximum());
}

void CompareColumn::setDiffHtml(const QString& html) { m_view->setHtml(html); }

void CompareColumn::setStats(const QString& stats) { m_stats->setText(stats); }

QString CompareColumn::stats() const { return m_stats->text(); }

void CompareColumn::setWinner(bool winner) {
    m_winner = winner;
    m_winnerButton->setChecked(winner);
    m_winnerButton->setText(winner ? tr("\u2605 Winner") : tr("Pick winner"));
    updateFrame();
}

void CompareColumn::setWinnerEnabled(bool enabled) { m_winnerButton->setEnabled(enabled); }

void CompareColumn::updateFrame() { update(); }

void CompareColumn::paintEvent(QPaintEvent* event) {
    QFrame::paintEvent(event);
    if (!m_winner) return;
    // The winner's column is framed in the palette's highlight color (no style sheet: those
    // would pin the children's colors to the theme of the moment).
    QPainter painter(this);
    painter.setRenderHint(QPainter::Antialiasing);
    painter.setPen(QPen(palette().color(QPalette::Highlight), 2.5));
    painter.drawRoundedRect(QRectF(rect()).adjusted(1.5, 1.5, -1.5, -1.5), 4, 4);
}

} // namespace moe::ui
