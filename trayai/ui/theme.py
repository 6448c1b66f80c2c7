"""Settings ▸ Appearance applied to the running app: trayai's own light or dark palette, or the desktop's.

The colours are ``core/theme.py``'s (contrast-checked there); this module only hands them to Qt and
answers "which theme is showing" for the widgets that draw secondary text themselves.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from trayai.core.settings.config import Settings
from trayai.core.theme import (
    DARK,
    LARGE_MINIMUM,
    LIGHT,
    Appearance,
    Theme,
    for_appearance,
    readable_muted,
    with_desktop,
)

_ROLES = {
    QPalette.ColorRole.Window: "window",
    QPalette.ColorRole.WindowText: "window_text",
    QPalette.ColorRole.Base: "base",
    QPalette.ColorRole.AlternateBase: "alternate_base",
    QPalette.ColorRole.Text: "text",
    QPalette.ColorRole.Button: "button",
    QPalette.ColorRole.ButtonText: "button_text",
    QPalette.ColorRole.Highlight: "highlight",
    QPalette.ColorRole.HighlightedText: "highlighted_text",
    QPalette.ColorRole.Link: "link",
    QPalette.ColorRole.PlaceholderText: "muted",
    QPalette.ColorRole.ToolTipBase: "card",
    QPalette.ColorRole.ToolTipText: "text",
}


class AppearanceKeeper:
    """Owns the desktop's palette (to go back to it) and the appearance chosen now."""

    def __init__(self, app: QApplication) -> None:
        self._app = app
        self._desktop = QPalette(app.palette())
        self._desktop_style = app.style().name()
        self.appearance = Appearance.SYSTEM

    @classmethod
    def of_app(cls, settings: Settings) -> AppearanceKeeper | None:
        """The running QApplication's keeper, following ``settings`` now (None without a QApplication)."""
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return None
        keeper = cls(app)
        keeper.follow(settings)
        return keeper

    def follow(self, settings: Settings, _old: Settings | None = None) -> None:
        """Settings ▸ Appearance, at start and at every change (``Session.settings_changed``)."""
        self.apply(Appearance(settings.appearance))

    def apply(self, appearance: Appearance) -> None:
        """Switch the whole app; open windows repaint with the new palette at once."""
        if appearance is self.appearance:
            return
        self.appearance = appearance
        if appearance is Appearance.SYSTEM:
            QApplication.setStyle(self._desktop_style)
            self._app.setPalette(self._desktop)
            return
        QApplication.setStyle("Fusion")  # the desktop's style may ignore a palette (GTK, Windows 11)
        self._app.setPalette(palette_of(for_appearance(appearance, desktop_dark=False)))


def palette_of(theme: Theme) -> QPalette:
    """A full QPalette from ``theme`` (disabled text stays readable: muted, not the style's grey)."""
    palette = QPalette()
    for role, name in _ROLES.items():
        palette.setColor(role, QColor(theme.colour(name)))
    for role in (QPalette.ColorRole.WindowText, QPalette.ColorRole.Text, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.muted))
    return palette


def current_theme() -> Theme:
    """The theme the app shows now: trayai's own, or the desktop's palette with readable muted text."""
    app = QGuiApplication.instance()
    if not isinstance(app, QGuiApplication):
        return LIGHT
    palette = app.palette()
    window = palette.color(QPalette.ColorRole.Window).name()
    text = palette.color(QPalette.ColorRole.WindowText).name()
    dark = palette.color(QPalette.ColorRole.Window).lightness() < 128
    for own in (LIGHT, DARK):
        if own.window == window and own.window_text == text:
            return own
    base = palette.color(QPalette.ColorRole.Base).name()
    return with_desktop(
        DARK if dark else LIGHT,
        window=window,
        window_text=text,
        base=base,
        text=palette.color(QPalette.ColorRole.Text).name(),
        muted=readable_muted(text, window),
        icon=readable_muted(text, window, LARGE_MINIMUM),  # bundled icons on the desktop's palette
    )


def muted_style(selector: str = "QLabel") -> str:
    """A style sheet rule for secondary text that stays readable in the theme showing now."""
    return f"{selector} {{ color: {current_theme().muted}; }}"


__all__ = ["AppearanceKeeper", "current_theme", "muted_style", "palette_of"]
