"""Global hotkey on X11: a passive key grab on the root window, read through a QSocketNotifier on our
own python-xlib connection (docs/architecture.md, "Quick prompt and hotkeys").
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer

from trayai.core.hotkeys import Hotkey
from trayai.ui.hotkeys.base import HotkeyBackend, Registration

log = logging.getLogger(__name__)


def core_display(display_name: str | None) -> Any:
    """A python-xlib connection that speaks the core protocol only.

    A key grab needs no extension, and ``Display()`` otherwise imports and queries every one the
    server has (RandR, XInput, …): ~2 MB of the tray's memory and a round trip each at start-up.
    """
    from Xlib import ext
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
        from Xlib import X

        self._X: Any = X
        self.display: Any = core_display(display_name)
        self.root: Any = self.display.screen().root
        self._grabbed: list[tuple[int, int]] = []
        self._keycode: int | None = None
        self._mask = 0
        self.last_press_time = 0  # X server time of the last hotkey press (for focus requests)
        self._notifier = QSocketNotifier(self.display.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._drain)

    def _modifier_mask(self, hotkey: Hotkey) -> int:
        X = self._X
        masks = {"ctrl": X.ControlMask, "alt": X.Mod1Mask, "shift": X.ShiftMask, "super": X.Mod4Mask}
        mask = 0
        for modifier in hotkey.modifiers:
            mask |= masks[modifier]
        return int(mask)

    def register(self, hotkey: Hotkey) -> Registration:
        from Xlib import XK, error

        self.unregister()
        keysym = XK.string_to_keysym(hotkey.x11_keysym)
        keycode = self.display.keysym_to_keycode(keysym) if keysym else 0
        if not keycode:
            return Registration(False, self.name, f"{hotkey.display}: this keyboard has no such key.")
        X = self._X
        mask = self._modifier_mask(hotkey)
        catcher = error.CatchError(error.BadAccess)
        attempts = []
        # X counts CapsLock and NumLock as modifiers: without these variants the hotkey silently
        # stops working whenever NumLock is on.
        for extra in (0, X.LockMask, X.Mod2Mask, X.LockMask | X.Mod2Mask):
            self.root.grab_key(keycode, mask | extra, True, X.GrabModeAsync, X.GrabModeAsync, onerror=catcher)
            attempts.append((keycode, mask | extra))
        self.display.sync()  # BadAccess (another client holds it) is reported, not silent
        if catcher.get_error() is not None:
            for code, modifiers in attempts:
                self.root.ungrab_key(code, modifiers)
            self.display.sync()
            log.warning("hotkey %s is taken by another program (X11 BadAccess)", hotkey.display)
            return Registration(
                False,
                self.name,
                f"{hotkey.display} is already used by another program. Choose another combination in "
                "Settings ▸ Quick prompt & hotkey, or free it in that program.",
            )
        self._grabbed = attempts
        self._keycode = keycode
        self._mask = mask
        self._drain()  # anything already queued
        log.info("hotkey %s registered (X11 key grab)", hotkey.display)
        return Registration(True, self.name, f"{hotkey.display} opens the quick prompt.")

    def unregister(self) -> None:
        for code, modifiers in self._grabbed:
            self.root.ungrab_key(code, modifiers)
        if self._grabbed:
            self.display.sync()
        self._grabbed = []
        self._keycode = None

    def _drain(self, *_args: object) -> None:
        X = self._X
        relevant = X.ControlMask | X.Mod1Mask | X.ShiftMask | X.Mod4Mask
        try:
            while self.display.pending_events():
                event = self.display.next_event()
                if (
                    event.type == X.KeyPress
                    and event.detail == self._keycode
                    and (event.state & relevant) == self._mask
                ):
                    self.last_press_time = int(event.time)
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
        from Xlib import X
        from Xlib.protocol import event as xevent

        if not self.last_press_time:
            return
        try:
            window = self.display.create_resource_object("window", window_id)
            if window.get_attributes().map_state != X.IsViewable:
                if _tries < self.FOCUS_TRIES:
                    QTimer.singleShot(self.FOCUS_RETRY_MS, lambda: self.grant_focus(window_id, _tries + 1))
                return
            active = self.display.intern_atom("_NET_ACTIVE_WINDOW")
            supported = self.root.get_full_property(
                self.display.intern_atom("_NET_SUPPORTED"), X.AnyPropertyType
            )
            if supported is not None and active in supported.value:
                message = xevent.ClientMessage(
                    window=window, client_type=active, data=(32, [2, self.last_press_time, 0, 0, 0])
                )
                mask = X.SubstructureRedirectMask | X.SubstructureNotifyMask
                self.root.send_event(message, event_mask=mask)
            else:  # no window manager: set the focus ourselves
                window.set_input_focus(X.RevertToParent, self.last_press_time)
            self.display.flush()
        except Exception:  # focus is a nicety: never let it break the hotkey
            log.exception("could not give the quick prompt the keyboard")

    def close(self) -> None:
        self.unregister()
        self._notifier.setEnabled(False)
        self.display.close()


__all__ = ["X11Hotkeys"]
