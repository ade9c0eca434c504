// Theme: light or dark, following the system unless the user picks one (View > Theme, kept in
// QSettings "ui/theme"). The studio uses the Fusion style with a light or dark palette so both
// look the same on every desktop; plots and the token views restyle on QEvent::PaletteChange.
// Qt 6.4 has no color-scheme API, so "follow the system" means: the palette the platform theme
// gave the application at start is dark, or GTK_THEME names a dark variant, or GNOME's
// color-scheme setting is prefer-dark; the check runs again on QEvent::ThemeChange.
#pragma once

#include <QString>

class QPalette;

namespace moe::ui {

enum class ThemeMode { System, Light, Dark };

ThemeMode savedThemeMode();
void saveThemeMode(ThemeMode mode);
QString themeModeName(ThemeMode mode); // "system", "light", "dark"
ThemeMode themeModeFromName(const QString& name); // unknown: System

bool systemPrefersDark();
// Applies the mode to the application (style and palette); returns whether it is dark now.
bool applyTheme(ThemeMode mode);
bool isDarkTheme();

QPalette lightPalette();
QPalette darkPalette();

} // namespace moe::ui
