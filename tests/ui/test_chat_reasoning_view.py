"""The chat window with a reasoning model: thinking live, then one line that expands; ‹ n/m ›."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.test_chat_window import Rig, rig, type_and_enter  # noqa: F401 - rig: a fixture
from trayai.ui.chat.transcript_links import TranscriptAction

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
THOUGHT = "The user asks for the capital of France. That is Paris, on the Seine."


def click(on: Rig, kind: str, message_id: int, index: int | None = None) -> None:
    """A click on one of the transcript's own links: what QTextBrowser emits for it."""
    view = on.window.transcript
    view.anchorClicked.emit(QUrl(view.action_href(TranscriptAction(kind), message_id, index)))


def test_thinking_streams_live_then_collapses_and_expands(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
) -> None:
    server.script(Reply(text="Paris.", reasoning=THOUGHT, rate=200.0))
    type_and_enter(qtbot, rig, "Capital of France?")
    run(until(lambda: "Thinking…" in rig.text() or "Thought for" in rig.text(), 10, "the thinking"))
    outcome = run(rig.wait_reply(1))
    text = rig.text()
    assert "Thought for" in text and "Paris." in text
    assert "on the Seine" not in text  # collapsed once the answer came
    message_id = outcome.message.id
    click(rig, "thinking", message_id)
    assert "on the Seine" in rig.text()  # expanded in place
    ARTIFACTS.mkdir(exist_ok=True)
    rig.window.grab().save(str(ARTIFACTS / "chat-thinking-expanded.png"))
    click(rig, "thinking", message_id)
    assert "on the Seine" not in rig.text()
    click(rig, "copythinking", message_id)
    clipboard = QGuiApplication.clipboard()
    assert clipboard.text() == THOUGHT
    click(rig, "copy", message_id)
    assert clipboard.text() == "Paris."  # the answer alone
    # A conversation opened again shows the same collapsed line.
    cid = rig.controller.conversation_id
    assert cid is not None
    rig.window.open_conversation(cid)
    assert "Thought for" in rig.text() and "on the Seine" not in rig.text()


def test_regenerate_offers_the_alternatives(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
) -> None:
    server.script(Reply(text="Tom"), Reply(text="Felix"))
    type_and_enter(qtbot, rig, "A name for a cat?")
    run(rig.wait_reply(1))
    assert "1/" not in rig.text()
    assert rig.window.controller.regenerate()
    outcome = run(rig.wait_reply(2))
    run(until(lambda: "‹ 2/2 ›" in rig.text(), 10, "the alternatives line"))
    assert "Felix" in rig.text()
    click(rig, "alt", outcome.message.id, 1)
    run(until(lambda: "‹ 1/2 ›" in rig.text() and "Tom" in rig.text(), 10, "the first answer shown"))
    rig.window.grab().save(str(ARTIFACTS / "chat-alternatives.png"))


def test_keys_reach_thinking_and_alternatives(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
) -> None:
    from PySide6.QtCore import Qt

    server.script(Reply(text="Tom", reasoning="Cats like short names."), Reply(text="Felix"))
    type_and_enter(qtbot, rig, "A name for a cat?")
    run(rig.wait_reply(1))
    qtbot.keyClick(
        rig.window, Qt.Key.Key_T, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    assert "Cats like short names." in rig.text()
    qtbot.keyClick(
        rig.window, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    )
    run(rig.wait_reply(2))
    run(until(lambda: "‹ 2/2 ›" in rig.text(), 10, "two answers"))
    # Alt+[ (Ctrl+Alt+← is a workspace switch on openbox and GNOME: the desktop would take it)
    qtbot.keyClick(rig.window, Qt.Key.Key_BracketLeft, Qt.KeyboardModifier.AltModifier)
    run(until(lambda: "‹ 1/2 ›" in rig.text() and "Tom" in rig.text(), 10, "the first answer again"))
