// Theme: Fusion with a light or dark palette, following the system (see the header).
#include "shell/theme.h"

#include <QApplication>
#include <QPalette>
#include <QProcess>
#include <QSettings>
#include <QStyle>
#include <QStyleFactory>

namespace moe::ui {

namespace {

constexpr auto kThemeKey = "ui/theme";

// The palette the platform gave the application before the studio set its own.
QPalette& startupPalette() {
    static QPalette palette = QGuiApplication::palette();
    return palette;
}

bool gnomePrefersDark() {
    if (!qEnvironmentVariable("XDG_CURRENT_DESKTOP").contains(QLatin1String("GNOME"), Qt::CaseInsensitive))
        return false;
    QProcess gsettings;
    gsettings.start(QStringLiteral("gsettings"),
                    {QStringLiteral("get"), QStringLiteral("org.gnome.desktop.interface"),
                     QStringLiteral("color-scheme")});
    if (!gsettings.waitForFinished(500)) {
        gsettings.kill();
        gsettings.waitForFinished(100);
        return false;
    }
    return QString::fromUtf8(gsettings.readAllStandardOutput()).contains(QLatin1String("dark"));
}

bool s_dark = false;

} // namespace

ThemeMode savedThemeMode() {
    return themeModeFromName(QSettings().value(QLatin1String(kThemeKey)).toString());
}

void saveThemeMode(ThemeMode mode) { QSettings().setValue(QLatin1String(kThemeKey), themeModeName(mode)); }

QString themeModeName(ThemeMode mode) {
    switch (mode) {
    case ThemeMode::Light: return QStringLiteral("light");
    case ThemeMode::Dark: return QStringLiteral("dark");
    case ThemeMode::System: break;
    }
    return QStringLiteral("system");
}

ThemeMode themeModeFromName(const QString& name) {
    if (name == QLatin1String("light")) return ThemeMode::Light;
    if (name == QLatin1String("dark")) return ThemeMode::Dark;
    return ThemeMode::System;
}

bool systemPrefersDark() {
    if (startupPalette().color(QPalette::Window).lightness() < 128) return true;
    if (qEnvironmentVariable("GTK_THEME").contains(QLatin1String("dark"), Qt::CaseInsensitive)) return true;
    return gnomePrefersDark();
}

bool isDarkTheme() { return s_dark; }

bool applyTheme(ThemeMode mode) {
    startupPalette(); // captured before the first override
    s_dark = mode == ThemeMode::Dark || (mode == ThemeMode::System && systemPrefersDark());
    if (QStyle* fusion = QStyleFactory::create(QStringLiteral("Fusion"))) QApplication::setStyle(fusion);
    QApplication::setPalette(s_dark ? darkPalette() : lightPalette());
    return s_dark;
}

QPalette lightPalette() {
    QPalette p = QApplication::style()->standardPalette();
    p.setColor(QPalette::Window, QColor(0xf3, 0xf4, 0xf6));
    p.setColor(QPalette::Base, Qt::white);
    p.setColor(QPalette::AlternateBase, QColor(0xf6, 0xf7, 0xf9));
    p.setColor(QPalette::Highlight, QColor(0x2f, 0x6f, 0xd0));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x1f, 0x5f, 0xbf));
    return p;
}

QPalette darkPalette() {
    QPalette p;
    const QColor window(0x26, 0x28, 0x2c);
    const QColor base(0x1c, 0x1e, 0x21);
    const QColor text(0xe6, 0xe6, 0xe6);
    const QColor disabled(0x80, 0x80, 0x80);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, QColor(0x24, 0x26, 0x2a));
    p.setColor(QPalette::ToolTipBase, QColor(0x33, 0x35, 0x3a));
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x90, 0x90, 0x90));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, QColor(0x30, 0x33, 0x38));
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, QColor(0xff, 0x6b, 0x6b));
    p.setColor(QPalette::Light, QColor(0x3c, 0x3f, 0x45));
    p.setColor(QPalette::Midlight, QColor(0x34, 0x37, 0x3c));
    p.setColor(QPalette::Mid, QColor(0x22, 0x24, 0x27));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    p.setColor(QPalette::Shadow, Qt::black);
    p.setColor(QPalette::Highlight, QColor(0x3d, 0x7e, 0xdb));
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Link, QColor(0x6c, 0xa8, 0xff));
    p.setColor(QPalette::LinkVisited, QColor(0xb0, 0x8c, 0xff));
    for (QPalette::ColorRole role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabled);
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x44, 0x48, 0x4e));
    return p;
}

} // namespace moe::ui
