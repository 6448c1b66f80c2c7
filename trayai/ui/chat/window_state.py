"""The chat window's place and its splitter kept between runs (an INI file beside the history,
user-only), and its first size never larger than the screen (small laptops, 1024×600 test screens).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QSplitter, QWidget

DEFAULT_SIZE = (1000, 720)


def restore_window(window: QWidget, splitter: QSplitter, state_file: Path | None) -> None:
    """A size that fits the screen, then the geometry and splitter saved last time (if any)."""
    screen = QGuiApplication.primaryScreen()
    if screen is not None:
        available = screen.availableGeometry()
        width, height = DEFAULT_SIZE
        window.resize(min(width, int(available.width() * 0.9)), min(height, int(available.height() * 0.9)))
    if state_file is None:
        return
    settings = QSettings(str(state_file), QSettings.Format.IniFormat)
    geometry = settings.value("chat/geometry")
    if geometry is not None:
        window.restoreGeometry(geometry)
    sizes = settings.value("chat/splitter")
    if sizes is not None:
        splitter.restoreState(sizes)


def save_window(window: QWidget, splitter: QSplitter, state_file: Path | None, *, both_panes: bool) -> None:
    """``both_panes``: the list and the chat are both shown (a hidden pane would save as 0 wide)."""
    if state_file is None:
        return
    settings = QSettings(str(state_file), QSettings.Format.IniFormat)
    settings.setValue("chat/geometry", window.saveGeometry())
    if both_panes:
        settings.setValue("chat/splitter", splitter.saveState())
    settings.sync()
    with contextlib.suppress(OSError):
        state_file.chmod(0o600)  # user-only, like every file trayai writes


__all__ = ["restore_window", "save_window"]
