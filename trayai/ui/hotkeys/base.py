"""The one interface every global-hotkey backend implements, and the :class:`Registration` it reports:
active, or not with the reason and, where keys cannot be grabbed, the ``trayai prompt`` command to bind.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from trayai.core.hotkeys import Hotkey

PROMPT_COMMAND = "trayai prompt"


@dataclass(frozen=True)
class Registration:
    """The outcome of registering a hotkey, worded for Settings and the tray tooltip."""

    active: bool
    backend: str
    message: str
    command_hint: str | None = None  # e.g. "bind `trayai prompt` in GNOME Settings ▸ Keyboard"


class HotkeyBackend(QObject):
    activated = Signal()  # the combination was pressed (always delivered on the Qt thread)
    status_changed = Signal(object)  # a Registration that arrived later (the portal answers asynchronously)

    name = "none"

    def register(self, hotkey: Hotkey) -> Registration:  # pragma: no cover - interface
        raise NotImplementedError

    def unregister(self) -> None:  # pragma: no cover - interface
        raise NotImplementedError

    def grant_focus(self, window_id: int) -> None:
        """Give ``window_id`` the keyboard on behalf of the hotkey press (no-op where not needed).

        Why: on X11 the key press reached our own connection, not Qt's, so Qt's idea of "the last user
        action" is stale and the X server (or the window manager's focus-stealing prevention) ignores
        its focus request; the backend holds the press's timestamp and can ask with it.
        """


class NoBackend(HotkeyBackend):
    """Where no global hotkey can be grabbed: explain and point to the bindable command."""

    name = "none"

    def __init__(self, reason: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.reason = reason

    def register(self, hotkey: Hotkey) -> Registration:
        return Registration(
            False,
            self.name,
            f"{self.reason} Bind the command `{PROMPT_COMMAND}` to {hotkey.display} in your desktop's "
            "keyboard settings instead.",
            PROMPT_COMMAND,
        )

    def unregister(self) -> None:
        return None


__all__ = ["PROMPT_COMMAND", "HotkeyBackend", "NoBackend", "Registration"]
