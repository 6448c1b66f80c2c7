"""The app's one global hotkey: (re-)registration, its outcome in words, and the quick prompt toggle."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from trayai.core.hotkeys import HotkeyError, parse_hotkey
from trayai.ui.hotkeys import create_backend
from trayai.ui.hotkeys.base import HotkeyBackend, Registration

if TYPE_CHECKING:
    from trayai.ui.prompt.window import QuickPromptWindow

log = logging.getLogger(__name__)


class HotkeyService(QObject):
    """Registers the configured combination and toggles the quick prompt when it is pressed.

    Signals:
        status_changed(object)  a new :class:`Registration` (registered, refused, or the portal's answer)
    """

    status_changed = Signal(object)

    def __init__(
        self,
        prompt: Callable[[], QuickPromptWindow | None],
        open_prompt: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._prompt = prompt  # the quick prompt if it exists yet (never creates it)
        self._open_prompt = open_prompt  # creates it on first use, then summons it
        self.backend: HotkeyBackend | None = None  # made on the first registration: start-up stays light
        self.status: Registration | None = None

    def register(self, text: str) -> None:
        """(Re-)register ``text`` (the ``hotkey`` setting); the outcome arrives as ``status_changed``."""
        if self.backend is not None:
            self.backend.unregister()
        if not text.strip():
            self._set(Registration(False, "none", "No hotkey set: `trayai prompt` opens the quick prompt."))
            return
        try:
            hotkey = parse_hotkey(text)
        except HotkeyError as exc:
            self._set(Registration(False, "none", f"Hotkey not used: {exc}"))
            return
        if self.backend is None:
            self.backend = create_backend(self)
            self.backend.activated.connect(self._on_activated)
            self.backend.status_changed.connect(self._on_status)
        self._on_status(self.backend.register(hotkey))

    def unregister(self) -> None:
        if self.backend is not None:
            self.backend.unregister()

    def note(self) -> str | None:
        """The status as Settings shows it: "✓ …" or "✗ …"; None before the first registration."""
        status = self.status
        return None if status is None else ("✓ " if status.active else "✗ ") + status.message

    def _on_activated(self) -> None:
        window = self._prompt()
        if window is not None and window.isVisible() and window.isActiveWindow():
            window.dismiss()  # the hotkey toggles
            return
        self._open_prompt()
        window = self._prompt()
        if window is not None and window.isVisible() and self.backend is not None:
            self.backend.grant_focus(int(window.winId()))

    def _on_status(self, status: Registration) -> None:
        if not status.active:
            log.warning("hotkey: %s", status.message)
        self._set(status)

    def _set(self, status: Registration) -> None:
        self.status = status
        self.status_changed.emit(status)


__all__ = ["HotkeyService"]
