"""The X11 side of "Replace selection": which window had the keyboard when the quick prompt opened,
giving it the keyboard back, and Ctrl+V pressed through the XTEST extension (what xdotool does), on
a python-xlib connection of its own (Qt's is not reachable from Python).
"""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)

SOURCE_PAGER = 2  # _NET_ACTIVE_WINDOW source indication: a tool acting for the user (EWMH)


class X11Unavailable(Exception):
    """No X connection, or a server without XTEST: the paste keystroke cannot be sent."""


class X11Keyboard:
    """One connection, opened on first use and kept (a summon costs one round trip after that)."""

    def __init__(self, display: str | None = None) -> None:
        self._name = display if display is not None else os.environ.get("DISPLAY")
        self._display: Any = None

    def _open(self) -> Any:
        if self._display is None:
            try:
                # lazy: python-xlib (~20 ms) only when a quick prompt opens on X11
                from Xlib.display import Display

                self._display = Display(self._name)
            except Exception as exc:
                raise X11Unavailable(f"cannot open the X display {self._name!r}: {exc}") from exc
        return self._display

    def _atom(self, name: str) -> int:
        return int(self._open().intern_atom(name))

    def _wm_active(self) -> int | None:
        """The window manager's ``_NET_ACTIVE_WINDOW`` (None without a window manager that keeps it)."""
        # lazy: python-xlib (~20 ms) only when a quick prompt opens on X11
        from Xlib import Xatom

        root = self._open().screen().root
        prop = root.get_full_property(self._atom("_NET_ACTIVE_WINDOW"), Xatom.WINDOW)
        window = int(prop.value[0]) if prop is not None and len(prop.value) else 0
        return window or None

    def focused(self) -> int | None:
        """The window that has the keyboard now (the window manager's word, else the X focus)."""
        active = self._wm_active()
        if active is not None:
            return active
        focus = self._open().get_input_focus().focus
        window = int(getattr(focus, "id", 0) or 0)
        return window if window > 1 else None  # 0 = None, 1 = PointerRoot

    def give_keyboard(self, window: int) -> None:
        """Ask the window manager to activate ``window`` (or focus it ourselves when none runs)."""
        # lazy: python-xlib (~20 ms) only when a quick prompt opens on X11
        from Xlib import X

        # lazy: python-xlib (~20 ms) only when a quick prompt opens on X11
        from Xlib.protocol import event as xevent

        display = self._open()
        target = display.create_resource_object("window", window)
        if self._wm_active() is not None:
            message = xevent.ClientMessage(
                window=target,
                client_type=self._atom("_NET_ACTIVE_WINDOW"),
                data=(32, [SOURCE_PAGER, X.CurrentTime, 0, 0, 0]),
            )
            display.screen().root.send_event(
                message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask
            )
        else:
            target.set_input_focus(X.RevertToParent, X.CurrentTime)
        display.sync()

    def press_paste(self) -> None:
        """Ctrl+V, pressed and released through XTEST: the focused window pastes its clipboard."""
        # lazy: python-xlib (~20 ms) only when a quick prompt opens on X11
        from Xlib import XK, X

        # lazy: python-xlib (~20 ms) only when a quick prompt opens on X11
        from Xlib.ext import xtest

        display = self._open()
        if not display.has_extension("XTEST"):
            raise X11Unavailable("this X server has no XTEST extension")
        ctrl = display.keysym_to_keycode(XK.string_to_keysym("Control_L"))
        v = display.keysym_to_keycode(XK.string_to_keysym("v"))
        for kind, code in ((X.KeyPress, ctrl), (X.KeyPress, v), (X.KeyRelease, v), (X.KeyRelease, ctrl)):
            xtest.fake_input(display, kind, code)
        display.sync()

    def close(self) -> None:
        if self._display is not None:
            self._display.close()
            self._display = None


__all__ = ["X11Keyboard", "X11Unavailable"]
