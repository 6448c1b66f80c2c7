"""Replace selection on a real Wayland compositor (headless sway): text copied in another program's line
edit with a real Ctrl+C, a rewrite action run on it by ``trayai prompt --action`` (as a desktop key
binding runs it), the Replace button pressed with Alt+R — the line edit then holds the answer, pasted by
a real Ctrl+V that trayai sent with wtype, and the keyboard is back in that program.

Why: Wayland offers the clipboard only to the window with the keyboard, so an action run the moment
the quick prompt appears read nothing ("nothing is selected or copied") until it waited for the offer;
and no program may type into another's window except through the virtual-keyboard protocol.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.e2e.test_replace_x11 import EDITOR, FIXED, TYPO, Editor
from tests.e2e.test_tray_x11 import log_text, quit_app, running_app
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import wait_until
from tests.support.wayland import WaylandDesktop
from trayai.core.paths import AppPaths

PROMPT = "Quick prompt — trayai"


@pytest.fixture
def editor(wayland: WaylandDesktop) -> Iterator[Editor]:
    running = Editor(dict(wayland.env, QT_QPA_PLATFORM="wayland"), EDITOR, TYPO)
    yield running
    running.stop()


def chord(wayland: WaylandDesktop, modifier: str, key: str) -> None:
    """A key pressed with a modifier held, through the virtual keyboard, as a person's hands would."""
    wayland.run("wtype", "-M", modifier, key, "-m", modifier)


def test_an_action_on_copied_text_and_replace_on_wayland(
    wayland: WaylandDesktop, server: ScriptedServer, paths: AppPaths, editor: Editor
) -> None:
    wayland.start_tray_host()  # else the no-tray status window would take the screen
    server.script(Reply(text=FIXED))
    wait_until(lambda: wayland.focused("Editor") is not None, what="the editor with the keyboard")
    chord(wayland, "ctrl", "a")
    chord(wayland, "ctrl", "c")  # a real copy: Wayland takes a selection only with an input's serial
    wait_until(lambda: editor.said(f"clip: {TYPO}"), what=f"the editor's copy ({editor.lines})")
    with running_app(wayland, server, paths) as app:
        wait_until(lambda: "tray=True" in log_text(paths), timeout=15, what="the app in the tray")
        done = subprocess.run(
            [sys.executable, "-m", "trayai.cli", "prompt", "--action", "Fix grammar"],
            env=wayland.env,
            timeout=20,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        wait_until(lambda: "action 'Fix grammar' run (clipboard)" in log_text(paths), what="the action")
        assert "waits for the clipboard" in log_text(paths)  # it was not readable at once
        wait_until(lambda: "quick prompt: answer ended: done" in log_text(paths), what="the answer")
        assert server.chat_requests()[-1].json["messages"][-1]["content"].endswith(TYPO)
        assert not editor.said(f"text: {FIXED}")  # nothing touched the editor before the click
        wait_until(lambda: wayland.focused(PROMPT) is not None, what="the prompt with the keyboard")
        wayland.screenshot("wayland-prompt-rewrite")
        chord(wayland, "alt", "r")  # Replace selection, pressed as a person would
        wait_until(lambda: editor.said(f"text: {FIXED}"), what=f"the editor's text replaced ({editor.lines})")
        wait_until(lambda: wayland.focused("Editor") is not None, what="the keyboard back in the editor")
        wait_until(lambda: "the clipboard was put back" in log_text(paths), what="the clipboard put back")
        assert "replace: the paste key was sent (wtype)" in log_text(paths)
        wayland.screenshot("wayland-replaced")
        quit_app(wayland, app)
