"""Global hotkey on X11: a passive key grab on the root window, read through a QSocketNotifier on our
own XCB connection (ui/hotkeys/xcb.py; docs/architecture.md, "Quick prompt and hotkeys").

python-xlib is loaded only to hand the quick prompt the focus after a press (a window is open by
then); the grab itself costs the tray no Python X protocol.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

from trayai.core.hotkeys import Hotkey
from trayai.ui.hotkeys import xcb
from trayai.ui.hotkeys.base import HotkeyBackend, Registration

log = logging.getLogger(__name__)

_MODIFIERS = {"ctrl": xcb.CONTROL_MASK, "alt": xcb.MOD1_MASK, "shift": xcb.SHIFT_MASK, "super": xcb.MOD4_MASK}
_RELEVANT = xcb.CONTROL_MASK | xcb.MOD1_MASK | xcb.SHIFT_MASK | xcb.MOD4_MASK
# X counts CapsLock and NumLock as modifiers: without these variants the hotkey silently stops
# working whenever NumLock is on.
_LOCK_VARIANTS = (0, xcb.LOCK_MASK, xcb.MOD2_MASK, xcb.LOCK_MASK | xcb.MOD2_MASK)


def keysym_of(name: str) -> int:
    """The X keysym for a name like ``space``, ``a``, ``F5`` (python-xlib's tables: data only)."""
    # lazy: platform-specific: only this OS has it
    from Xlib import XK

    return int(XK.string_to_keysym(name))


def core_display(display_name: str | None) -> Any:
    """A python-xlib connection that speaks the core protocol only (for focus requests).

    ``Display()`` otherwise imports and queries every extension the server has (RandR, XInput, …).
    """
    # lazy: platform-specific: only this OS has it
    from Xlib import ext

    # lazy: platform-specific: only this OS has it
    from Xlib.display import Display

    known = ext.__extensions__
    ext.__extensions__ = []
    try:
        return Display(display_name)
    finally:
        ext.__extensions__ = known


class X11Hotkeys(HotkeyBackend):
    name = "X11"

    def __init__(self, display_name: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.display_name = display_name
        self.connection = xcb.XcbConnection(display_name)
        self._focus_display: Any = None  # python-xlib, opened on the first focus request
        self._grabbed: list[tuple[int, int]] = []
        self._keycodes: set[int] = set()
        self._mask = 0
        self.last_press_time = 0  # X server time of the last hotkey press (for focus requests)
        self._notifier = QSocketNotifier(self.connection.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def register(self, hotkey: Hotkey) -> Registration:
        self.unregister()
        keysym = keysym_of(hotkey.x11_keysym)
        keycodes = self.connection.keycodes(keysym) if keysym else []
        if not keycodes:
            return Registration(False, self.name, f"{hotkey.display}: this keyboard has no such key.")
        keycode = keycodes[0]
        mask = 0
        for modifier in hotkey.modifiers:
            mask |= _MODIFIERS[modifier]
        attempts = [(keycode, mask | extra) for extra in _LOCK_VARIANTS]
        taken = False
        for code, modifiers in attempts:
            taken = not self.connection.grab(code, modifiers) or taken  # each is checked: BadAccess
        if taken:
            for code, modifiers in attempts:
                self.connection.ungrab(code, modifiers)
            log.warning("hotkey %s is taken by another program (X11 BadAccess)", hotkey.display)
            return Registration(
                False,
                self.name,
                f"{hotkey.display} is already used by another program. Choose another combination in "
                "Settings ▸ Quick prompt & hotkey, or free it in that program.",
            )
        self._grabbed = attempts
        self._keycodes = {keycode}
        self._mask = mask
        self._drain()  # anything already queued
        log.info("hotkey %s registered (X11 key grab)", hotkey.display)
        return Registration(True, self.name, f"{hotkey.display} opens the quick prompt.")

    def unregister(self) -> None:
        if not self.connection.broken():
            for code, modifiers in self._grabbed:
                self.connection.ungrab(code, modifiers)
        self._grabbed = []
        self._keycodes = set()

    def _drain(self, *_args: object) -> None:
        try:
            if self.connection.broken():
                raise xcb.XcbError("the X connection broke")
            for press in self.connection.key_presses():
                if press.keycode in self._keycodes and (press.state & _RELEVANT) == self._mask:
                    self.last_press_time = press.time
                    self.activated.emit()
        except Exception:  # a dead X connection must not take the app down
            log.exception("X11 hotkey connection failed")
            self._notifier.setEnabled(False)

    FOCUS_RETRY_MS = 5
    FOCUS_TRIES = 60

    def grant_focus(self, window_id: int, _tries: int = 0) -> None:
        """Activate ``window_id`` with the hotkey press's timestamp, once X has mapped it.

        The window was only just shown: X maps it asynchronously, and focusing an unmapped window is
        an error, so this retries every few milliseconds (on the Qt loop) until it is viewable.
        """
        # lazy: platform-specific: only this OS has it
        from Xlib import X

        # lazy: platform-specific: only this OS has it
        from Xlib.protocol import event as xevent

        if not self.last_press_time:
            return
        try:
            if self._focus_display is None:
                self._focus_display = core_display(self.display_name)
            display = self._focus_display
            window = display.create_resource_object("window", window_id)
            if window.get_attributes().map_state != X.IsViewable:
                if _tries < self.FOCUS_TRIES:
                    QTimer.singleShot(self.FOCUS_RETRY_MS, lambda: self.grant_focus(window_id, _tries + 1))
                return
            root = display.screen().root
            active = display.intern_atom("_NET_ACTIVE_WINDOW")
            supported = root.get_full_property(display.intern_atom("_NET_SUPPORTED"), X.AnyPropertyType)
            if supported is not None and active in supported.value:
                message = xevent.ClientMessage(
                    window=window, client_type=active, data=(32, [2, self.last_press_time, 0, 0, 0])
                )
                mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
                root.send_event(message, event_mask=mask)
            else:  # no window manager: set the focus ourselves
                window.set_input_focus(X.RevertToParent, self.last_press_time)
            display.flush()
        except Exception:  # focus is a nicety: never let it break the hotkey
            log.exception("could not give the quick prompt the keyboard")

    def close(self) -> None:
        self.unregister()
        self._notifier.setEnabled(False)
        self.connection.close()
        if self._focus_display is not None:
            self._focus_display.close()
            self._focus_display = None


__all__ = ["X11Hotkeys"]
