"""Slips a person notices in minutes (issue 25, slips 2–4): Edit keeps the files its message carried,
the quick prompt opens on an empty box, and focus comes back to the prompt after Send, Stop, Retry and
Edit-cancel (the sidebar's search used to take it, so the next keys filtered the chat list).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.test_chat_attachments import dropped
from tests.ui.test_chat_window import Rig, rig, type_and_enter  # noqa: F401 - rig: a fixture
from tests.ui.test_quick_prompt import ask, make
from trayai.ui.chat.transcript_links import TranscriptAction


def test_edit_resends_the_files_its_message_carried(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
    tmp_path: Path,
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("the real numbers: 4, 8, 15\n")
    spec = tmp_path / "spec.txt"
    spec.write_text("spec text\n")
    assert rig.window.attach_tray.add_mime(dropped(notes, spec))
    server.script(Reply(text="first"), Reply(text="second"))
    type_and_enter(qtbot, rig, "sum the numbers")
    run(rig.wait_reply(1))
    cid = rig.controller.conversation_id
    assert cid is not None
    question = rig.history.messages(cid)[0]
    rig.window.transcript.anchorClicked.emit(
        QUrl(rig.window.transcript.action_href(TranscriptAction.EDIT, question.id))
    )
    assert [a.name for a in rig.window.attach_tray.pending] == ["notes.txt", "spec.txt"]  # chips back
    rig.window.attach_tray.remove(1)  # the user's act: spec.txt goes
    rig.window.prompt.selectAll()
    qtbot.keyClicks(rig.window.prompt, "multiply the numbers")
    qtbot.keyClick(rig.window.prompt, Qt.Key.Key_Return)
    run(rig.wait_reply(2))
    sent = server.chat_requests()[-1].json["messages"][-1]["content"]
    assert "the real numbers: 4, 8, 15" in str(sent) and "spec text" not in str(sent)
    assert "multiply the numbers" in str(sent)
    edited = rig.history.messages(cid)[0]
    assert [a.name for a in edited.attachments] == ["notes.txt"]
    assert rig.window.attach_tray.pending == []


def test_cancelling_an_edit_gives_back_the_files_waiting_for_the_next_question(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
    tmp_path: Path,
) -> None:
    server.script(Reply(text="ok"))
    type_and_enter(qtbot, rig, "plain question")
    run(rig.wait_reply(1))
    waiting = tmp_path / "later.txt"
    waiting.write_text("for later\n")
    assert rig.window.attach_tray.add_mime(dropped(waiting))
    cid = rig.controller.conversation_id
    assert cid is not None
    rig.window.start_edit(rig.history.messages(cid)[0].id)
    assert rig.window.attach_tray.pending == []  # the edited message had none
    qtbot.keyClick(rig.window.prompt, Qt.Key.Key_Escape)
    assert [a.name for a in rig.window.attach_tray.pending] == ["later.txt"]
    assert rig.window.prompt.hasFocus()


def test_focus_returns_to_the_prompt_after_send_and_stop(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
) -> None:
    rig.window.activateWindow()
    qtbot.waitUntil(rig.window.isActiveWindow)
    server.script(Reply(n_tokens=400, rate=40))
    rig.window.prompt.setPlainText("count slowly")
    rig.window.send_button.setFocus()
    qtbot.mouseClick(rig.window.send_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: rig.controller.busy)
    assert QApplication.focusWidget() is rig.window.prompt
    run(until(lambda: len(rig.controller.streaming_text) > 10, what="some text"))
    rig.window.stop_button.setFocus()
    qtbot.mouseClick(rig.window.stop_button, Qt.MouseButton.LeftButton)
    run(rig.wait_reply(1))
    assert QApplication.focusWidget() is rig.window.prompt
    qtbot.keyClicks(QApplication.focusWidget(), "next")
    assert rig.window.prompt.toPlainText() == "next"  # typed into the prompt, not the chat filter


def test_the_quick_prompt_opens_on_an_empty_box_so_1_runs_the_first_action(
    history: Any, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    prompt = make(history, server, qtbot, tmp_path)
    prompt.window.summon()
    ask(qtbot, prompt, "what is a monad")
    run(prompt.wait(1))
    assert prompt.window.input.toPlainText() == ""
    assert prompt.window.asked.isVisible() and "what is a monad" in prompt.window.asked.text()
    prompt.window.dismiss()
    prompt.window.summon()
    assert prompt.window.input.toPlainText() == "" and not prompt.window.input.textCursor().hasSelection()
    qtbot.keyClick(prompt.window.input, Qt.Key.Key_Up)  # the last question is one key away
    assert prompt.window.input.toPlainText() == "what is a monad"
