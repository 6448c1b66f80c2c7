"""Hotkey and quick prompt on a real X server: grab, conflict, NumLock, and the whole flow by keyboard."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from tests.e2e.conftest import Desktop
from tests.e2e.test_tray_x11 import log_text, quit_app, running_app
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until, wait_until
from tests.ui.conftest import qloop, run  # noqa: F401 - fixtures, used by name
from trayai.core.hotkeys import parse_hotkey
from trayai.core.paths import AppPaths

PROMPT_TITLE = "Quick prompt — trayai"  # as the window manager sees it
PROMPT_SEARCH = "^Quick prompt"  # xdotool matches bytes of the legacy name: keep to ASCII
GRABBER = """
import sys, time
from Xlib import X, XK
from Xlib.display import Display
d = Display(sys.argv[1])
code = d.keysym_to_keycode(XK.string_to_keysym("space"))
d.screen().root.grab_key(code, X.ControlMask | X.Mod1Mask, True, X.GrabModeAsync, X.GrabModeAsync)
d.sync()
print("grabbed", flush=True)
time.sleep(60)
"""


@pytest.fixture
def grabber(desktop: Desktop) -> Iterator[Callable[[], subprocess.Popen[str]]]:
    """Another X client that grabs Ctrl+Alt+Space first."""
    procs: list[subprocess.Popen[str]] = []

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            [sys.executable, "-c", GRABBER, desktop.display],
            text=True,
            stdout=subprocess.PIPE,
            env=desktop.env,
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == "grabbed"
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        proc.kill()
        proc.communicate(timeout=5)


@pytest.mark.expect_log("trayai.ui.hotkeys.x11", "is taken by another program")
def test_x11_grab_fires_with_numlock_and_reports_a_conflict(
    desktop: Desktop,
    run: Any,  # noqa: F811
    grabber: Callable[[], Any],
) -> None:
    from trayai.ui.hotkeys.x11 import X11Hotkeys

    backend = X11Hotkeys(desktop.display)
    presses: list[float] = []
    backend.activated.connect(lambda: presses.append(time.monotonic()))
    status = backend.register(parse_hotkey("Ctrl+Alt+Space"))
    assert status.active, status.message

    async def press_and_wait(count: int) -> None:
        import asyncio

        await asyncio.to_thread(desktop.run, "xdotool", "key", "ctrl+alt+space")
        await until(lambda: len(presses) >= count, 5, "the hotkey to fire")

    run(press_and_wait(1))
    desktop.run("xdotool", "key", "Num_Lock")  # NumLock on: still fires
    run(press_and_wait(2))
    desktop.run("xdotool", "key", "Num_Lock")
    desktop.run("xdotool", "key", "ctrl+shift+space")  # another combination: does not fire
    time.sleep(0.2)
    assert len(presses) == 2
    backend.close()

    grabber()
    other = X11Hotkeys(desktop.display)
    conflict = other.register(parse_hotkey("Ctrl+Alt+Space"))
    assert not conflict.active and "already used by another program" in conflict.message
    assert other.register(parse_hotkey("Ctrl+Alt+K")).active  # a free combination still works
    other.close()


def focused_window_name(desktop: Desktop) -> str:
    return desktop.run("xdotool", "getwindowfocus", "getwindowname", check=False).strip()


def viewable(desktop: Desktop, title: str) -> bool:
    return bool(desktop.run("xdotool", "search", "--onlyvisible", "--name", title, check=False).strip())


def test_hotkey_opens_the_prompt_which_answers_and_hides(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    desktop.start_tray_host()
    server.script(Reply(text="2 + 2 = **4**.", rate=30))
    with running_app(desktop, server, paths) as app:
        wait_until(lambda: "hotkey Ctrl+Alt+Space registered" in log_text(paths), what="the hotkey")
        desktop.run("xdotool", "key", "ctrl+alt+space")
        wait_until(lambda: "quick prompt focused" in log_text(paths), what="the prompt to take the keyboard")
        wait_until(
            lambda: focused_window_name(desktop) == PROMPT_TITLE,
            what=f"focus on the prompt (focus: {focused_window_name(desktop)!r})",
        )
        desktop.run("xdotool", "type", "--delay", "15", "What is 2+2?")
        desktop.run("xdotool", "key", "Return")
        wait_until(lambda: "quick prompt: answer ended: done" in log_text(paths), what="the answer")
        desktop.screenshot("quick-prompt-answer")
        desktop.run("xdotool", "key", "Escape")
        wait_until(lambda: "quick prompt hidden" in log_text(paths), what="Esc to hide it")
        wait_until(lambda: not viewable(desktop, PROMPT_SEARCH), what="the window to be unmapped")
        done = subprocess.run(
            [sys.executable, "-m", "trayai.cli", "prompt"],
            env=desktop.env,
            timeout=20,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        wait_until(lambda: log_text(paths).count("quick prompt shown") == 2, what="`trayai prompt`")
        wait_until(lambda: viewable(desktop, PROMPT_SEARCH), what="the prompt shown again")
        desktop.screenshot("quick-prompt-by-command")
        quit_app(desktop, app)  # quits with the prompt open
    body = server.chat_requests()[-1].body
    assert body is not None and body["messages"][-1]["content"] == "What is 2+2?"


def test_taken_hotkey_is_reported_in_the_log_and_tooltip(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths, grabber: Callable[[], Any]
) -> None:
    grabber()
    with running_app(desktop, server, paths) as app:
        wait_until(lambda: "is taken by another program" in log_text(paths), what="the conflict")
        quit_app(desktop, app)
