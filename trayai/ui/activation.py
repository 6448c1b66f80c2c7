"""The launcher's focus grant, used by the running app for the window a forwarded command summons.

A desktop shortcut starts ``trayai prompt``, which forwards to the running app and exits: the grant the
launcher gave that short-lived process (``core/launch.py``) must reach the window that actually shows.

* Wayland: Qt's xdg-shell plugin (``QWaylandXdgSurface::requestActivate``, Qt 6.8–6.11, called from
  ``show()`` and ``activateWindow()``) activates with ``$XDG_ACTIVATION_TOKEN`` when it is set, then
  unsets it. So it is put in the environment just before the window is shown and removed right after
  — whether Qt used it or not, it must not linger for the next window or leak into child processes.
* X11: Qt's xcb plugin reads ``DESKTOP_STARTUP_ID`` once, at start-up (and sends "remove" when its
  first top-level window shows); its ``setstartupid`` native function is not reachable from PySide6,
  whose ``QX11Application`` offers only ``display()``/``connection()``. So the startup-notification
  "remove" message (which ends the launcher's busy cursor), ``_NET_STARTUP_ID``, the ``_TIME`` as
  ``_NET_WM_USER_TIME`` and a ``_NET_ACTIVE_WINDOW`` request (source 1: an application, with that
  time) go over a python-xlib connection of our own.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

from trayai.core.launch import TOKEN_VAR, LaunchContext, message_chunks, remove_message

log = logging.getLogger(__name__)

SOURCE_APPLICATION = 1  # _NET_ACTIVE_WINDOW source indication (EWMH): a normal application


class Activator(QObject):
    """Shows a window on behalf of a launch: ``summon(launch, show, window)``."""

    FOCUS_RETRY_MS = 10  # X maps a window asynchronously; focus can only be given once it is viewable
    FOCUS_TRIES = 50

    def __init__(self, platform: str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.platform = platform if platform is not None else QGuiApplication.platformName()

    def summon(
        self, launch: LaunchContext, show: Callable[[], None], window: Callable[[], QWidget | None]
    ) -> None:
        """Run ``show`` (which shows and activates the window) with the launch's grant in effect."""
        token = launch.activation_token
        if token is not None:
            os.environ[TOKEN_VAR] = token  # putenv too: Qt reads the C environment
        try:
            show()
        finally:
            if token is not None:
                os.environ.pop(TOKEN_VAR, None)
        if launch.startup_id is not None and self.platform == "xcb":
            shown = window()
            visible = shown is not None and shown.isVisible()
            self._x11(launch, int(shown.winId()) if shown is not None and visible else None)

    def _x11(self, launch: LaunchContext, window_id: int | None) -> None:
        try:
            session = _X11Launch(launch)
        except Exception:  # focus is a nicety: never let it break the command
            log.exception("could not reach the X server to finish the launch")
            return
        try:
            session.end_startup_sequence()
        except Exception:
            log.exception("could not end the launch's startup sequence")
        if window_id is None or launch.startup_time is None:
            session.close()
            return
        self._grant(session, window_id, 0)

    def _grant(self, session: _X11Launch, window_id: int, tries: int) -> None:
        try:
            if not session.viewable(window_id):
                if tries < self.FOCUS_TRIES:
                    QTimer.singleShot(self.FOCUS_RETRY_MS, lambda: self._grant(session, window_id, tries + 1))
                    return
            else:
                session.activate(window_id)
        except Exception:
            log.exception("could not give the summoned window the launch's focus")
        session.close()


class _X11Launch:
    """One launch's X11 side, on a python-xlib connection opened for it and closed after."""

    def __init__(self, launch: LaunchContext) -> None:
        # lazy: platform-specific: only this OS has it
        from Xlib.display import Display

        assert launch.startup_id is not None
        self.startup_id = launch.startup_id
        self.time = launch.startup_time
        self.display: Any = Display(os.environ.get("DISPLAY"))
        self.root: Any = self.display.screen().root

    def atom(self, name: str) -> int:
        return int(self.display.intern_atom(name))

    def end_startup_sequence(self) -> None:
        """Broadcast "remove: ID=…" (startup-notification spec): the launcher's busy cursor stops.

        Sent from a throwaway window of ours, as libstartup-notification does, so a listener can
        tell our message's pieces from another client's.
        """
        # lazy: platform-specific: only this OS has it
        from Xlib import X

        # lazy: platform-specific: only this OS has it
        from Xlib.protocol import event as xevent

        source = self.root.create_window(
            -100, -100, 1, 1, 0, 0, window_class=X.InputOnly, visual=X.CopyFromParent, override_redirect=True
        )
        begin, more = self.atom("_NET_STARTUP_INFO_BEGIN"), self.atom("_NET_STARTUP_INFO")
        for index, chunk in enumerate(message_chunks(remove_message(self.startup_id))):
            message = xevent.ClientMessage(
                window=source, client_type=begin if index == 0 else more, data=(8, chunk)
            )
            self.root.send_event(message, event_mask=X.PropertyChangeMask)
        source.destroy()
        self.display.sync()
        log.info("launch: ended the startup sequence %s", self.startup_id)

    def viewable(self, window_id: int) -> bool:
        # lazy: platform-specific: only this OS has it
        from Xlib import X

        window = self.display.create_resource_object("window", window_id)
        return bool(window.get_attributes().map_state == X.IsViewable)

    def activate(self, window_id: int) -> None:
        """The window's user time is the launch's; then ask the window manager to activate it."""
        # lazy: platform-specific: only this OS has it
        from Xlib import X, Xatom

        # lazy: platform-specific: only this OS has it
        from Xlib.protocol import event as xevent

        assert self.time is not None
        window = self.display.create_resource_object("window", window_id)
        utf8 = self.atom("UTF8_STRING")
        window.change_property(self.atom("_NET_STARTUP_ID"), utf8, 8, self.startup_id.encode())
        holder = window.get_full_property(self.atom("_NET_WM_USER_TIME_WINDOW"), Xatom.WINDOW)
        user_time_window = (
            self.display.create_resource_object("window", int(holder.value[0]))
            if holder and holder.value
            else window
        )
        user_time_window.change_property(self.atom("_NET_WM_USER_TIME"), Xatom.CARDINAL, 32, [self.time])
        active = self.atom("_NET_ACTIVE_WINDOW")
        supported = self.root.get_full_property(self.atom("_NET_SUPPORTED"), Xatom.ATOM)
        if supported is not None and active in supported.value:
            message = xevent.ClientMessage(
                window=window, client_type=active, data=(32, [SOURCE_APPLICATION, self.time, 0, 0, 0])
            )
            self.root.send_event(message, event_mask=X.SubstructureRedirectMask | X.SubstructureNotifyMask)
        else:  # no window manager: take the focus ourselves, as of the launching press
            window.set_input_focus(X.RevertToParent, self.time)
        self.display.sync()
        log.info("launch: window %#x activated as of X time %d", window_id, self.time)

    def close(self) -> None:
        self.display.close()


__all__ = ["Activator"]
