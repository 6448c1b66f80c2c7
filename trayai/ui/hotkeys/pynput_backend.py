"""Global hotkey on Windows and macOS through pynput's GlobalHotKeys; its listener thread reaches Qt
only through a queued signal (Qt objects are never touched from that thread).
"""

from __future__ import annotations

import logging
import sys
from typing import Any

from PySide6.QtCore import QObject, Qt, Signal

from trayai.core.hotkeys import Hotkey
from trayai.ui.hotkeys.base import HotkeyBackend, Registration

log = logging.getLogger(__name__)

MACOS_PERMISSION_HINT = (
    "macOS blocks global hotkeys until you allow it: System Settings ▸ Privacy & Security ▸ Accessibility "
    "(and Input Monitoring) ▸ add the app that runs trayai (Terminal, or Python), then restart trayai."
)


class PynputHotkeys(HotkeyBackend):
    name = "pynput"
    _fired = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._listener: Any = None
        self._fired.connect(self.activated, Qt.ConnectionType.QueuedConnection)

    def register(self, hotkey: Hotkey) -> Registration:
        self.unregister()
        try:
            # lazy: platform-specific: only this OS has it
            from pynput import keyboard
        except ImportError as exc:
            return Registration(False, self.name, f"Global hotkeys need pynput ({exc}).", "trayai prompt")
        try:
            self._listener = keyboard.GlobalHotKeys({hotkey.pynput: self._fired.emit})
            self._listener.start()
        except Exception as exc:  # noqa: BLE001 - pynput's OS listeners raise their own types: reported
            log.warning("pynput hotkey failed: %s", exc)
            return Registration(False, self.name, f"{hotkey.display} could not be registered: {exc}")
        # macOS listens only once the user allowed it (Privacy & Security ▸ Accessibility / Input
        # Monitoring); pynput says so as IS_TRUSTED, and we say so rather than fail silently.
        if sys.platform == "darwin" and not getattr(self._listener, "IS_TRUSTED", True):
            return Registration(False, self.name, MACOS_PERMISSION_HINT)
        return Registration(True, self.name, f"{hotkey.display} opens the quick prompt.")

    def unregister(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None


__all__ = ["MACOS_PERMISSION_HINT", "PynputHotkeys"]
