"""The quick prompt's Replace selection / Paste after a rewrite action (a translation, a correction),
offscreen: where no keystroke can reach another window, Replace is "Copy" and its tooltip says why;
Paste puts the answer on the clipboard and steps aside. The real X11 path: tests/e2e/test_replace_x11.py.

Why: a rewrite is only half done until it is back in the text it came from — but nothing may touch
another window unless the person clicks, and never for an answer that is no rewrite.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QClipboard, QGuiApplication
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.ui.test_prompt_actions import Rig, set_clipboard
from trayai.core.chat.history import HistoryStore
from trayai.core.paste_route import PasteRoute, PasteWay, paste_command, paste_way
from trayai.ui.prompt.x11_paste import X11Keyboard


@pytest.fixture
def rig(history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path) -> Rig:
    return Rig(history, server, qtbot, tmp_path)


def buttons_shown(rig: Rig) -> tuple[bool, bool]:
    offer = rig.window.rewrite
    return offer.replace_button.isVisible(), offer.paste_button.isVisible()


def fix_grammar(rig: Rig, qtbot: QtBot, run: Callable[..., Any], server: ScriptedServer) -> None:
    set_clipboard("teh cat sat on teh mat")
    server.script(Reply(text="The cat sat on the mat."))
    assert rig.window.summon()
    qtbot.keyClick(rig.window.input, Qt.Key.Key_4)  # Fix grammar, a rewrite action by default
    assert buttons_shown(rig) == (False, False)  # nothing to place while it streams
    assert run(rig.wait(1)).status == "done"


def test_where_no_key_reaches_another_window_replace_is_copy_saying_why(
    rig: Rig, qtbot: QtBot, run: Callable[..., Any], server: ScriptedServer
) -> None:
    fix_grammar(rig, qtbot, run, server)
    offer = rig.window.rewrite
    assert buttons_shown(rig) == (True, True)
    assert offer.replace_button.text() == "C&opy"
    assert "no desktop window to paste into" in offer.replace_button.toolTip()
    assert "Ctrl+V" in offer.replace_button.toolTip()
    assert not rig.window.copy_button.isVisible()  # one Copy, not two side by side
    set_clipboard("something the person copied")
    assert QGuiApplication.clipboard().text() == "something the person copied"  # untouched until a click
    qtbot.mouseClick(offer.replace_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text(QClipboard.Mode.Clipboard) == "The cat sat on the mat."
    assert rig.window.isVisible()  # a copy: the prompt stays
    assert "copied" in rig.window.status.text()


def test_paste_puts_the_answer_on_the_clipboard_and_steps_aside(
    rig: Rig, qtbot: QtBot, run: Callable[..., Any], server: ScriptedServer
) -> None:
    fix_grammar(rig, qtbot, run, server)
    qtbot.mouseClick(rig.window.rewrite.paste_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text(QClipboard.Mode.Clipboard) == "The cat sat on the mat."
    assert not rig.window.isVisible()  # the window you came from has the keyboard again
    assert "Ctrl+V" in rig.window.status.text()


def test_only_a_rewrite_actions_whole_answer_gets_them(
    rig: Rig, qtbot: QtBot, run: Callable[..., Any], server: ScriptedServer
) -> None:
    set_clipboard("photosynthesis")
    server.script(Reply(text="Plants make sugar from light."), Reply(text="Sure."), Reply(text="Le chat"))
    assert rig.window.summon()
    qtbot.keyClick(rig.window.input, Qt.Key.Key_1)  # Explain: an answer, not a rewrite
    run(rig.wait(1))
    assert buttons_shown(rig) == (False, False)
    fix_grammar_after = Reply(text="Fixed.")
    server.script(fix_grammar_after)
    qtbot.keyClick(rig.window.input, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    run(rig.wait(2))
    assert buttons_shown(rig) == (True, True)
    rig.window.send("And in French?")  # a follow-up question: its answer is no rewrite of the text
    run(rig.wait(3))
    assert buttons_shown(rig) == (False, False)
    assert rig.window.copy_button.isVisible()  # the window's own Copy is back


def test_a_cut_answer_is_never_offered(
    rig: Rig, qtbot: QtBot, run: Callable[..., Any], server: ScriptedServer
) -> None:
    set_clipboard("teh")
    server.script(Reply(text="The whole thing", status=500, error_message="boom"))
    assert rig.window.summon()
    qtbot.keyClick(rig.window.input, Qt.Key.Key_4)
    run(rig.wait(1))
    assert buttons_shown(rig) == (False, False)


def test_the_route_for_each_desktop() -> None:
    none = lambda _name: None  # noqa: E731 - a `which` that finds nothing
    assert paste_way("xcb", {}, none, lambda: True).route is PasteRoute.XTEST
    assert paste_way("xcb", {}, lambda n: f"/usr/bin/{n}", lambda: False).route is PasteRoute.XDOTOOL
    assert "xdotool" in paste_way("xcb", {}, none, lambda: False).why_not
    found = {"wtype": "/usr/bin/wtype"}
    assert paste_way("wayland", {}, found.get, lambda: True).route is PasteRoute.WTYPE
    assert paste_way("wayland-egl", {}, {"ydotool": "/y"}.get, lambda: True).route is PasteRoute.YDOTOOL
    wayland = paste_way("wayland", {}, none, lambda: True)
    assert not wayland.can_replace and "wtype" in wayland.why_not and "Ctrl+V" in wayland.why_not
    assert not paste_way("offscreen", {}, none, lambda: True).can_replace
    assert not paste_way("windows", {}, none, lambda: True).can_replace
    assert paste_command(PasteRoute.WTYPE) == ["wtype", "-M", "ctrl", "v", "-m", "ctrl"]
    assert paste_command(PasteRoute.XTEST) == []  # in-process
    assert PasteWay(PasteRoute.NONE, "why").can_replace is False


class Unreturned(X11Keyboard):
    """An X server where the window with the selection never takes the keyboard back (it was closed
    meanwhile): the keyboard stays elsewhere, so Ctrl+V must never be pressed."""

    def __init__(self) -> None:
        super().__init__(":0")
        self.pressed = 0
        self.asked: list[int] = []

    def focused(self) -> int | None:
        return 0x500001  # some other window

    def give_keyboard(self, window: int) -> None:
        self.asked.append(window)

    def press_paste(self) -> None:
        self.pressed += 1


@pytest.mark.expect_log("trayai.ui.prompt.replace", "did not take the keyboard back")
def test_a_window_that_does_not_come_back_gets_no_keystroke_and_the_prompt_says_so(
    rig: Rig, qtbot: QtBot, run: Callable[..., Any], server: ScriptedServer
) -> None:
    keyboard = Unreturned()
    replacer = rig.window.rewrite.replacer
    replacer.way, replacer._keyboard, replacer.target = PasteWay(PasteRoute.XTEST), keyboard, 0x400001
    replacer.FOCUS_WAIT_MS = 200
    fix_grammar(rig, qtbot, run, server)
    replacer.target = 0x400001  # summon() looked for the window: keep the one the test names
    rig.window.rewrite.answer_ended(whole=True)
    assert rig.window.rewrite.replace_button.text() == "&Replace selection"
    set_clipboard("kept safe")
    qtbot.mouseClick(rig.window.rewrite.replace_button, Qt.MouseButton.LeftButton)
    assert not rig.window.isVisible() and keyboard.asked == [0x400001]
    qtbot.waitUntil(rig.window.isVisible, timeout=5000)  # back, to say what went wrong
    assert keyboard.pressed == 0  # never a Ctrl+V into whatever window has the keyboard
    assert "did not take the keyboard back" in rig.window.status.text()
    assert QGuiApplication.clipboard().text(QClipboard.Mode.Clipboard) == "The cat sat on the mat."
