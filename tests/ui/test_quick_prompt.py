"""The quick prompt window with pytest-qt and the scripted server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QClipboard, QGuiApplication
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.conftest import client_for
from trayai.core.chat.history import HistoryStore
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.chat.transcript_links import TranscriptAction
from trayai.ui.prompt.window import QuickPromptWindow


class Rig:
    def __init__(
        self, history: HistoryStore, server: ScriptedServer, qtbot: QtBot, state: Path | None
    ) -> None:
        client = client_for(server.base_url, "dummy-key")
        self.controller = ChatController(
            history, lambda: ChatTarget(client=client, model="ai/smollm2", profile="p")
        )
        self.window = QuickPromptWindow(self.controller, state_file=state)
        qtbot.addWidget(self.window)
        self.outcomes: list[Any] = []
        self.controller.finished.connect(self.outcomes.append)
        self.controller.failed.connect(self.outcomes.append)

    async def wait(self, n: int, timeout: float = 10) -> Any:
        await until(lambda: len(self.outcomes) >= n, timeout, "an answer")
        # Queued flushes paint the rest of the answer (and its footer) after the outcome.
        await until(lambda: not self.window.answer.streaming, timeout, "the answer painted")
        return self.outcomes[n - 1]


def make(history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path) -> Rig:
    return Rig(history, server, qtbot, tmp_path / "state.ini")


def ask(qtbot: QtBot, rig: Rig, text: str) -> None:
    qtbot.keyClicks(rig.window.input, text)
    qtbot.keyClick(rig.window.input, Qt.Key.Key_Return)


def test_summon_type_answer_copy_and_history(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    rig = make(history, server, qtbot, tmp_path)
    assert rig.window.summon()
    qtbot.waitUntil(rig.window.isVisible)
    assert rig.window.windowFlags() & Qt.WindowType.WindowStaysOnTopHint
    assert rig.window.windowFlags() & Qt.WindowType.FramelessWindowHint
    small = rig.window.height()
    server.script(Reply(text="Paris is the capital of **France**.\n\n```python\nprint('Paris')\n```"))
    ask(qtbot, rig, "Capital of France?")
    outcome = run(rig.wait(1))
    assert outcome.status == "done"
    text = rig.window.answer.toPlainText()
    assert "Paris is the capital of France." in text and "print('Paris')" in text
    assert rig.window.height() > small  # grew with the answer
    qtbot.mouseClick(rig.window.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == outcome.message.content
    conversation = history.list_conversations()[0]
    assert conversation.title == "Capital of France?"
    assert [m.role for m in history.messages(conversation.id)] == ["user", "assistant"]


def test_open_in_chat_hands_over_the_conversation(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    rig = make(history, server, qtbot, tmp_path)
    rig.window.summon()
    ask(qtbot, rig, "hello")
    run(rig.wait(1))
    handed: list[int] = []
    rig.window.open_in_chat.connect(handed.append)
    qtbot.mouseClick(rig.window.chat_button, Qt.MouseButton.LeftButton)
    assert handed == [history.list_conversations()[0].id]
    assert not rig.window.isVisible() and rig.controller.conversation_id is None


def test_escape_hides_and_stops_the_answer(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    rig = make(history, server, qtbot, tmp_path)
    server.script(Reply(n_tokens=500, rate=50))
    rig.window.summon()
    ask(qtbot, rig, "long")

    async def go() -> Any:
        await until(lambda: "tok2" in rig.window.answer.toPlainText(), what="tok2 shown")
        qtbot.keyClick(rig.window.input, Qt.Key.Key_Escape)
        return await rig.wait(1)

    assert run(go()).status == "stopped"
    assert not rig.window.isVisible()  # hidden: nothing left on screen to catch clicks
    assert server.wait_for_disconnect(5)


def test_clipboard_context_goes_before_the_question(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    rig = make(history, server, qtbot, tmp_path)
    QGuiApplication.clipboard().setText("def f(x): return x * 2", QClipboard.Mode.Clipboard)
    rig.window.use_clipboard.setChecked(True)
    rig.window.summon()
    ask(qtbot, rig, "explain this")
    run(rig.wait(1))
    body = server.chat_requests()[-1].body
    assert body is not None
    assert body["messages"][-1]["content"] == "def f(x): return x * 2\n\n---\n\nexplain this"
    again = make(history, server, qtbot, tmp_path)  # the toggle is remembered
    assert again.window.use_clipboard.isChecked()


def test_up_recalls_and_new_starts_over(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    rig = make(history, server, qtbot, tmp_path)
    rig.window.summon()
    ask(qtbot, rig, "first question")
    run(rig.wait(1))
    ask(qtbot, rig, " follow-up")  # the box emptied after the first: this is a new question
    run(rig.wait(2))
    assert history.message_count(history.list_conversations()[0].id) == 4  # one conversation continues
    rig.window.input.clear()
    qtbot.keyClick(rig.window.input, Qt.Key.Key_Up)
    assert rig.window.input.toPlainText() == " follow-up"
    qtbot.mouseClick(rig.window.new_button, Qt.MouseButton.LeftButton)
    assert rig.controller.conversation_id is None and not rig.window.answer.isVisible()


def test_never_shown_over_a_modal_dialog(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path
) -> None:
    rig = make(history, server, qtbot, tmp_path)
    dialog = QDialog()
    qtbot.addWidget(dialog)
    dialog.open()
    qtbot.waitUntil(lambda: QApplication.activeModalWidget() is dialog)
    assert not rig.window.summon()
    assert not rig.window.isVisible()
    dialog.close()
    assert rig.window.summon()


def test_geometry_is_remembered(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path
) -> None:
    rig = make(history, server, qtbot, tmp_path)
    rig.window.summon()
    rig.window.setGeometry(QRect(40, 50, 500, 300))
    rig.window.dismiss()
    again = make(history, server, qtbot, tmp_path)
    again.window.summon()
    assert (again.window.x(), again.window.y(), again.window.width()) == (40, 50, 500)


def test_regenerate_thinking_and_alternatives_in_the_quick_prompt(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QGuiApplication

    rig = make(history, server, qtbot, tmp_path)
    server.script(Reply(text="Tom", reasoning="Short names suit cats."), Reply(text="Felix"))
    ask(qtbot, rig, "A name for a cat?")
    first = run(rig.wait(1))
    view = rig.window.answer
    run(until(lambda: "Thought for" in view.toPlainText(), 10, "the thinking line"))

    def click(kind: str, message_id: int, index: int | None = None) -> None:
        view.anchorClicked.emit(QUrl(view.action_href(TranscriptAction(kind), message_id, index)))

    click("copythinking", first.message.id)
    assert QGuiApplication.clipboard().text() == "Short names suit cats."
    click("regenerate", first.message.id)
    second = run(rig.wait(2))
    run(until(lambda: "‹ 2/2 ›" in view.toPlainText() and "Felix" in view.toPlainText(), 10, "two answers"))
    click("alt", second.message.id, 1)
    run(until(lambda: "‹ 1/2 ›" in view.toPlainText() and "Tom" in view.toPlainText(), 10, "the first again"))
