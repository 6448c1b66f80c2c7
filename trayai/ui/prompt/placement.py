"""Where the quick prompt sits and how tall it is: on the screen that holds the cursor, its size and
place remembered per screen — or on Wayland a fixed size the compositor places (tiling compositors
float a window whose minimum size equals its maximum) — and grown with the answer up to a share of
the screen, past which the answer scrolls.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QObject, QPoint, QSettings, QTimer
from PySide6.QtGui import QGuiApplication, QScreen
from PySide6.QtWidgets import QTextEdit, QWidget


def floats_by_fixed_size() -> bool:
    """On Wayland a window cannot ask to float, but tiling compositors (sway, Hyprland) float a toplevel
    whose minimum size equals its maximum size; X11 window managers place the ``Qt.Tool`` window as is.
    """
    return QGuiApplication.platformName().startswith("wayland")


class PromptPlacement(QObject):
    """The quick prompt window's geometry: placed before it shows, saved when it hides, grown (at most
    every ``GROW_MS`` while an answer streams) with the answer widget's document."""

    MAX_HEIGHT_FRACTION = 0.6
    GROW_MS = 30

    def __init__(self, window: QWidget, answer: QTextEdit, width: int, state_file: Path | None) -> None:
        """``answer``: the window's answer view (its document's height is what the window grows to);
        ``width``: the window's width where the screen has room; ``state_file``: where the place on
        each screen is kept (None: nothing is remembered)."""
        super().__init__(window)
        self._window = window
        self._answer = answer
        self._width = width
        self._state_file = state_file
        self._screen_name: str | None = None
        self.fixed_size = floats_by_fixed_size()
        self._grow_timer = QTimer(self)
        self._grow_timer.setSingleShot(True)
        self._grow_timer.setInterval(self.GROW_MS)
        self._grow_timer.timeout.connect(self.grow)

    def place(self, screen: QScreen | None) -> None:
        """Before showing on ``screen``: its remembered place, else centred in its upper part."""
        self._screen_name = screen.name() if screen is not None else ""
        window = self._window
        if self.fixed_size:
            self._place_for_compositor(screen)
            return
        saved = self._settings().value(f"prompt/geometry/{self._screen_name}") if self._state_file else None
        if saved is not None and window.restoreGeometry(saved):
            return
        if screen is None:
            return
        area = screen.availableGeometry()
        width = min(self._width, int(area.width() * 0.9))
        window.resize(width, window.height())
        window.move(QPoint(area.x() + (area.width() - width) // 2, area.y() + int(area.height() * 0.22)))

    def _place_for_compositor(self, screen: QScreen | None) -> None:
        """Wayland: the compositor places the window (a move is ignored) and nobody resizes a fixed
        window, so nothing is remembered; the size is fixed before the window maps, when it is read."""
        area = screen.availableGeometry() if screen is not None else None
        width = min(self._width, int(area.width() * 0.9)) if area is not None else self._width
        self._window.setFixedSize(width, self._window.height())

    def save(self) -> None:
        """The window's place on its screen, for the next time it shows there (X11 only)."""
        if self._state_file is None or not self._window.isVisible() or self.fixed_size:
            return
        settings = self._settings()
        settings.setValue(f"prompt/geometry/{self._screen_name or ''}", self._window.saveGeometry())
        settings.sync()
        with contextlib.suppress(OSError):
            self._state_file.chmod(0o600)

    def grow_soon(self) -> None:
        """Text arrived: grow once the next few deltas are in too (not at every one)."""
        if not self._grow_timer.isActive():
            self._grow_timer.start()

    def grow(self) -> None:
        """Grow with the answer up to a share of the screen, then let the answer scroll."""
        window, answer = self._window, self._answer
        screen = window.screen()
        limit = int(screen.availableGeometry().height() * self.MAX_HEIGHT_FRACTION) if screen else 600
        if answer.isVisible():
            doc_height = int(answer.document().size().height()) + 12
            chrome = window.sizeHint().height() - answer.sizeHint().height()
            wanted = min(limit, chrome + max(80, doc_height))
        else:
            wanted = window.minimumSizeHint().height()
        if wanted == window.height():
            return
        if self.fixed_size:
            window.setFixedHeight(wanted)
        else:
            window.resize(window.width(), wanted)

    def _settings(self) -> QSettings:
        return QSettings(str(self._state_file), QSettings.Format.IniFormat)


__all__ = ["PromptPlacement", "floats_by_fixed_size"]
