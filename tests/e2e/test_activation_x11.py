"""`trayai prompt` from an X11 launcher: the running app ends the launch sequence and asks for the
focus as of the launching click.

A python-xlib client plays the desktop: the launcher listening to _NET_STARTUP_INFO on the root
window (the "remove" message must arrive there, or the busy cursor spins until it times out) and a
minimal window manager that maps windows and records the _NET_ACTIVE_WINDOW requests it receives.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any, TypeVar

from tests.e2e.conftest import Desktop
from tests.e2e.test_tray_x11 import log_text, quit_app, running_app
from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import wait_until
from trayai.core.paths import AppPaths

T = TypeVar("T")


class MiniDesktop:
    """Launcher + window manager on one connection: ``pump()`` handles what has arrived."""

    def __init__(self, display_name: str) -> None:
        from Xlib import X, Xatom
        from Xlib.display import Display

        self.display: Any = Display(display_name)
        self.root: Any = self.display.screen().root
        self.root.change_attributes(
            event_mask=X.PropertyChangeMask | X.SubstructureRedirectMask | X.SubstructureNotifyMask
        )
        self.begin = self.display.intern_atom("_NET_STARTUP_INFO_BEGIN")
        self.more = self.display.intern_atom("_NET_STARTUP_INFO")
        self.active = self.display.intern_atom("_NET_ACTIVE_WINDOW")
        self.root.change_property(self.display.intern_atom("_NET_SUPPORTED"), Xatom.ATOM, 32, [self.active])
        self.display.sync()
        self.partial: dict[int, bytes] = {}
        self.startup_messages: list[str] = []
        self.activations: list[tuple[int, int, int]] = []  # (window, source, timestamp)

    def pump(self) -> None:
        from Xlib import X

        while self.display.pending_events():
            event = self.display.next_event()
            if event.type == X.MapRequest:
                event.window.map()
            elif event.type == X.ConfigureRequest:
                event.window.configure(width=max(event.width, 1), height=max(event.height, 1))
            elif event.type == X.ClientMessage and event.client_type in (self.begin, self.more):
                key = event.window.id
                piece = bytes(event.data[1])
                text = piece if event.client_type == self.begin else self.partial.get(key, b"") + piece
                if b"\0" in text:
                    self.startup_messages.append(text.split(b"\0", 1)[0].decode())
                    self.partial.pop(key, None)
                else:
                    self.partial[key] = text
            elif event.type == X.ClientMessage and event.client_type == self.active:
                data = list(event.data[1])
                self.activations.append((event.window.id, data[0], data[1]))
        self.display.flush()

    def then(self, check: Callable[[], T]) -> T:
        """``check()`` after handling what has arrived: for ``wait_until``."""
        self.pump()
        return check()

    def server_time(self) -> int:
        """The X server's time now: what a launcher takes from the click that started it."""
        from Xlib import X, Xatom

        clock = self.root.create_window(0, 0, 1, 1, 0, 0, event_mask=X.PropertyChangeMask)
        clock.change_property(Xatom.WM_NAME, Xatom.STRING, 8, b"clock")
        self.display.sync()
        while True:
            event = self.display.next_event()
            if event.type == X.PropertyNotify and event.window.id == clock.id:
                clock.destroy()
                return int(event.time)

    def window_with_startup_id(self, startup_id: str) -> int | None:
        net_startup_id = self.display.intern_atom("_NET_STARTUP_ID")
        utf8 = self.display.intern_atom("UTF8_STRING")
        self.pump()
        for window in self.root.query_tree().children:
            prop = window.get_full_property(net_startup_id, utf8)
            if prop is not None and bytes(prop.value).decode() == startup_id:
                return int(window.id)
        return None


def test_prompt_from_a_launcher_ends_the_startup_sequence_and_asks_focus_as_of_its_click(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    desk = MiniDesktop(desktop.display)
    with running_app(desktop, server, paths) as app:
        wait_until(
            lambda: desk.then(lambda: "startup: tray shown" in log_text(paths)), what="the app to start"
        )
        clicked = desk.server_time()
        startup_id = f"test-launcher/trayai/{app.pid}-0-e2e host_TIME{clicked}"  # a space: quoted
        second = subprocess.run(
            [sys.executable, "-m", "trayai.cli", "prompt"],
            env={**desktop.env, "DESKTOP_STARTUP_ID": startup_id},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 0, second.stderr
        wait_until(
            lambda: desk.then(lambda: desk.startup_messages), 10, "the remove message on the root window"
        )
        assert desk.startup_messages == [f'remove: ID="{startup_id}"']
        prompt = wait_until(
            lambda: desk.window_with_startup_id(startup_id), 10, "_NET_STARTUP_ID on the prompt"
        )
        wait_until(
            lambda: desk.then(lambda: (prompt, 1, clicked) in desk.activations), 10, "our activation request"
        )
        assert f"window {prompt:#x} activated as of X time {clicked}" in log_text(paths)
        desktop.screenshot("activation_prompt_x11")  # the quick prompt a launcher summoned
        # without a launcher nothing of this happens: no second remove, no request with a launch time
        plain = subprocess.run([sys.executable, "-m", "trayai.cli", "chat"], env=desktop.env, timeout=30)
        assert plain.returncode == 0
        wait_until(lambda: desk.then(lambda: "chat window shown" in log_text(paths)), 10, "the chat window")
        desk.pump()
        assert desk.startup_messages == [f'remove: ID="{startup_id}"']
        assert [a for a in desk.activations if a[2] == clicked] == [(prompt, 1, clicked)]
        quit_app(desktop, app)
    desk.display.close()
