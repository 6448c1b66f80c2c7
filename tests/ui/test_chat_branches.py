"""Edits kept as branches (issue 25): editing a sent question keeps the old one and everything after it;
‹ 1/2 › on the question switches branches — by its arrows, or Alt+↑ to the question then Alt+[ / Alt+] —
and only the branch shown is displayed, searched and sent, as after reopening."""

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
from tests.ui.test_transcript_actions import hover
from trayai.core.chat.history import HistoryStore
from trayai.ui.chat.controller import ChatController
from trayai.ui.chat.transcript_links import TranscriptAction
from trayai.ui.chat.window import ChatWindow


def _sent(server: ScriptedServer) -> list[str]:
    body = server.chat_requests()[-1].json
    return [str(m["content"]) for m in body["messages"]]


def _edit_first_question(chat: Rig, qtbot: QtBot, text: str) -> None:
    """Point at the first question, press its Edit button, write ``text`` and send."""
    view = chat.window.transcript
    cid = chat.controller.conversation_id
    assert cid is not None
    hover(view, chat.history.messages(cid)[0].id)
    edit = view.toolbar.buttons[TranscriptAction.EDIT]
    assert edit.isVisible()
    qtbot.mouseClick(edit, Qt.MouseButton.LeftButton)
    chat.window.prompt.selectAll()
    qtbot.keyClicks(chat.window.prompt, text)
    qtbot.keyClick(chat.window.prompt, Qt.Key.Key_Return)


def test_an_edit_starts_a_branch_and_the_old_one_comes_back_whole(
    rig: Rig,  # noqa: F811 - the fixture
    history: HistoryStore,
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
    tmp_path: Path,
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("cats: Tom, Felix\n")
    assert rig.window.attach_tray.add_mime(dropped(notes))
    server.script(Reply(text="Tom"), Reply(text="Felix"), Reply(text="Rex"), Reply(text="Garfield"))
    type_and_enter(qtbot, rig, "A name for a cat?")
    run(rig.wait_reply(1))
    type_and_enter(qtbot, rig, "Another?")
    run(rig.wait_reply(2))
    assert [a.name for a in rig.window.attach_tray.pending] == []

    _edit_first_question(rig, qtbot, "A name for a dog?")
    assert [a.name for a in rig.window.attach_tray.pending] == []  # sent with the edit
    run(rig.wait_reply(3))
    run(until(lambda: "‹ 2/2 ›" in rig.text(), 10, "the branch switcher on the question"))
    assert "Rex" in rig.text() and "Felix" not in rig.text() and "Tom" not in rig.text()
    assert _sent(server)[-1].endswith("A name for a dog?") and "notes.txt" in _sent(server)[-1]
    cid = rig.controller.conversation_id
    assert cid is not None
    assert history.search("Felix") == []  # the branch not shown is not searched

    question = history.messages(cid)[0]
    rig.window.transcript.anchorClicked.emit(
        QUrl(rig.window.transcript.action_href(TranscriptAction.BRANCH, question.id, 1))
    )
    run(until(lambda: "‹ 1/2 ›" in rig.text(), 10, "branch 1 shown"))
    for words in ("A name for a cat?", "Tom", "Another?", "Felix"):
        assert words in rig.text()
    assert "Rex" not in rig.text() and "File: notes.txt" in rig.text()  # its question's file too
    type_and_enter(qtbot, rig, "And a third?")
    run(rig.wait_reply(4))
    sent = _sent(server)
    assert sent[1:] == ["Tom", "Another?", "Felix", "And a third?"] and "A name for a cat?" in sent[0]
    assert not any("dog" in s or "Rex" in s for s in sent)  # nothing of the other branch goes out

    shown = rig.text()
    again = ChatWindow(ChatController(history, rig.target), history)  # reopened: the same branch
    qtbot.addWidget(again)
    again.show()
    again.open_conversation(cid)
    assert again.transcript.toPlainText() == shown


def test_alt_up_picks_a_question_and_alt_brackets_switch_its_branches(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
) -> None:
    server.script(Reply(text="Tom"), Reply(text="Rex"))
    type_and_enter(qtbot, rig, "A name for a cat?")
    run(rig.wait_reply(1))
    _edit_first_question(rig, qtbot, "A name for a dog?")
    run(rig.wait_reply(2))
    run(until(lambda: "‹ 2/2 ›" in rig.text(), 10, "two branches"))
    window, toolbar = rig.window, rig.window.transcript.toolbar
    window.prompt.setFocus()
    qtbot.keyClick(window.prompt, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)  # the last message
    run(until(toolbar.keyboard_on, 10, "the answer's buttons focused"))
    assert toolbar.buttons[TranscriptAction.REGENERATE].isVisible()
    focused = QApplication.focusWidget()
    assert focused is not None
    qtbot.keyClick(focused, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)  # the question above it
    run(
        until(
            lambda: toolbar.buttons[TranscriptAction.EDIT].isVisible() and toolbar.keyboard_on(),
            10,
            "its Edit",
        )
    )
    focused = QApplication.focusWidget()
    assert focused is not None
    qtbot.keyClick(focused, Qt.Key.Key_BracketLeft, Qt.KeyboardModifier.AltModifier)
    run(until(lambda: "‹ 1/2 ›" in rig.text() and "Tom" in rig.text(), 10, "branch 1 by the keyboard"))
    assert "Rex" not in rig.text()
