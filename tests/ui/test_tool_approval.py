"""The approval bar on its own: calls waiting together asked one at a time ("1 of 3"), the next one
asked when one is answered, the keyboard on Allow once, Enter pressing the focused button and Space
never, Alt+W pressing Always, the arguments shown as plain text (never rich), and nothing emitted once
nothing waits."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from trayai.core.tools.policy import Approval
from trayai.ui.chat.tool_approval import ToolApprovalBar
from trayai.ui.chat.tool_cards import ToolCard


@pytest.fixture
def bar(qtbot: QtBot) -> Iterator[ToolApprovalBar]:
    window = QWidget()
    bar = ToolApprovalBar()
    QVBoxLayout(window).addWidget(bar)
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitExposed(window)
    yield bar


def decisions(bar: ToolApprovalBar) -> list[tuple[int, Approval]]:
    said: list[tuple[int, Approval]] = []
    bar.decided.connect(lambda key, approval: said.append((key, approval)))
    return said


def test_parallel_calls_are_asked_one_at_a_time(bar: ToolApprovalBar, qtbot: QtBot) -> None:
    said = decisions(bar)
    assert not bar.isVisible()
    bar.ask(-1, ToolCard("time/get_current_time", '{"timezone": "Asia/Tokyo"}').waiting())
    bar.ask(-2, ToolCard("time/get_current_time", '{"timezone": "Europe/London"}').waiting())
    bar.ask(-3, ToolCard("git/git_status", '{"repo_path": "/tmp/r"}').waiting())
    assert bar.isVisible() and bar.title.text() == "Run time · get_current_time? (1 of 3)"
    assert "Asia/Tokyo" in bar.detail.text()
    once = bar.buttons[Approval.ONCE]
    assert once.hasFocus()
    qtbot.keyClick(once, Qt.Key.Key_Return)
    assert said == [(-1, Approval.ONCE)]
    bar.forget(-1)  # the binding does this once the chat took the answer
    assert (
        bar.title.text() == "Run time · get_current_time? (1 of 2)" and "Europe/London" in bar.detail.text()
    )
    assert once.hasFocus()  # still on the keyboard: the next question is answered the same way
    qtbot.keyClick(once, Qt.Key.Key_Tab)
    qtbot.keyClick(bar.buttons[Approval.ALWAYS], Qt.Key.Key_Enter, Qt.KeyboardModifier.KeypadModifier)
    assert said[-1] == (-2, Approval.ALWAYS)
    bar.forget(-2)
    assert bar.title.text() == "Run git · git_status?"
    qtbot.mouseClick(bar.buttons[Approval.DENY], Qt.MouseButton.LeftButton)
    assert said[-1] == (-3, Approval.DENY)
    bar.forget(-3)
    assert not bar.isVisible() and bar.current is None
    bar.buttons[Approval.ONCE].click()  # a press after the last answer asks nothing of anyone
    assert len(said) == 3


def test_space_never_answers_and_the_keyboard_can_be_left_where_it_is(
    bar: ToolApprovalBar, qtbot: QtBot
) -> None:
    said = decisions(bar)
    bar.ask(-1, ToolCard("time/get_current_time", "{}").waiting())
    once = bar.buttons[Approval.ONCE]
    assert once.hasFocus()
    qtbot.keyClick(once, Qt.Key.Key_Space)  # the key a person typing a sentence presses most
    assert said == [] and bar.isVisible()
    bar.forget(-1)
    window = bar.window()
    layout = window.layout()
    assert layout is not None
    elsewhere = QLineEdit()
    layout.addWidget(elsewhere)
    elsewhere.show()
    elsewhere.setFocus()
    qtbot.waitUntil(elsewhere.hasFocus)
    bar.ask(-2, ToolCard("time/get_current_time", "{}").waiting(), take_focus=False)
    assert bar.isVisible() and not bar.has_focus() and elsewhere.hasFocus()


def test_arguments_are_plain_text_and_bounded(bar: ToolApprovalBar) -> None:
    hostile = '{"html": "<img src=http://x/a.png><a href=trayai:x>click</a>", "pad": "' + "y" * 500 + '"}'
    bar.ask(-1, ToolCard("web/fetch", hostile).waiting())
    assert bar.detail.textFormat() == Qt.TextFormat.PlainText
    assert "<img src=http://x/a.png>" in bar.detail.text()  # shown as the characters it is
    assert len(bar.detail.text()) < 250 and "…" in bar.detail.text()


def test_buttons_have_icons_tooltips_names_and_keys(bar: ToolApprovalBar, qtbot: QtBot) -> None:
    said = decisions(bar)
    bar.ask(-1, ToolCard("time/get_current_time", "{}").waiting())
    with qtbot.waitSignal(bar.decided, timeout=5000):  # a mnemonic presses the button animated
        qtbot.keyClick(bar.window(), Qt.Key.Key_W, Qt.KeyboardModifier.AltModifier)
    assert said == [(-1, Approval.ALWAYS)]  # Alt+W: Always, wherever the keyboard is in the window
    for approval, name in (
        (Approval.ONCE, "Allow once"),
        (Approval.ALWAYS, "Always for this tool"),
        (Approval.DENY, "Deny"),
    ):
        button = bar.buttons[approval]
        assert button.accessibleName() == name and button.toolTip() and not button.icon().isNull()


def test_clear_hides_and_forgets_every_waiting_call(bar: ToolApprovalBar) -> None:
    bar.ask(-1, ToolCard("a/b", "{}").waiting())
    bar.ask(-2, ToolCard("a/c", "{}").waiting())
    bar.clear()  # Stop while calls waited
    assert not bar.isVisible() and bar.current is None
