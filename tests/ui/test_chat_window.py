"""The chat window driven like a user would (keys, clicks, links) with the scripted server behind it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QInputMethodEvent
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.support.cli import cli
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.conftest import client_for
from trayai.core.chat.history import HistoryStore
from trayai.core.theme import DARK, LIGHT
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.chat.transcript_links import TranscriptAction
from trayai.ui.chat.window import ChatWindow

CODE_REPLY = "Here you go:\n\n```python\ndef add(a, b):\n    return a + b\n```\n\nThat's **all**."


class Rig:
    def __init__(self, history: HistoryStore, base_url: str, qtbot: QtBot) -> None:
        self.client = client_for(base_url, "dummy-key")
        self.history = history
        self.controller = ChatController(history, self.target)
        self.window = ChatWindow(self.controller, history)
        qtbot.addWidget(self.window)
        self.window.show()
        self.outcomes: list[Any] = []
        self.controller.finished.connect(self.outcomes.append)
        self.controller.failed.connect(self.outcomes.append)

    def target(self) -> ChatTarget:
        return ChatTarget(client=self.client, model="ai/smollm2", profile="default")

    async def wait_reply(self, count: int, timeout: float = 10.0) -> Any:
        await until(lambda: len(self.outcomes) >= count, timeout, "a reply")
        # Queued flushes paint the rest of the answer (and its footer) after the outcome.
        await until(lambda: not self.window.transcript.streaming, timeout, "the answer painted")
        return self.outcomes[count - 1]

    def text(self) -> str:
        return self.window.transcript.toPlainText()


@pytest.fixture
def rig(history: HistoryStore, server: ScriptedServer, qtbot: QtBot) -> Rig:
    return Rig(history, server.base_url, qtbot)


def type_and_enter(qtbot: QtBot, rig: Rig, text: str) -> None:
    rig.window.prompt.setFocus()
    qtbot.keyClicks(rig.window.prompt, text)
    qtbot.keyClick(rig.window.prompt, Qt.Key.Key_Return)


def test_typed_prompt_streams_a_markdown_answer_with_code(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.script(Reply(text=CODE_REPLY))
    type_and_enter(qtbot, rig, "add two numbers")
    assert rig.window.prompt.toPlainText() == ""  # the box empties once the prompt is saved
    run(rig.wait_reply(1))
    text = rig.text()
    assert "add two numbers" in text and "def add(a, b):" in text and "That's all." in text
    assert "**" not in text.split("You", 1)[1].split("Assistant", 1)[1]  # Markdown rendered
    assert "Copy code" in text and "tokens" in text  # footer with stats
    html = rig.window.transcript.document().toHtml()
    assert "font-weight:700" in html or "font-weight:600" in html  # bold and highlighted keywords
    item = rig.window.conversations.item(0)
    assert item is not None and item.text() == "add two numbers"


def test_shift_enter_makes_a_newline_and_ime_composition_never_sends(
    rig: Rig, server: ScriptedServer, qtbot: QtBot
) -> None:
    prompt = rig.window.prompt
    prompt.setFocus()
    qtbot.keyClicks(prompt, "line one")
    qtbot.keyClick(prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(prompt, "line two")
    assert prompt.toPlainText() == "line one\nline two"
    QApplication.sendEvent(prompt, QInputMethodEvent("にほん", []))
    assert prompt.composing
    qtbot.keyClick(prompt, Qt.Key.Key_Return)
    assert server.chat_requests() == []
    assert rig.controller.conversation_id is None


def test_up_recalls_the_last_prompt(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.script(Reply(text="one"), Reply(text="two"))
    type_and_enter(qtbot, rig, "first prompt")
    run(rig.wait_reply(1))
    type_and_enter(qtbot, rig, "second prompt")
    run(rig.wait_reply(2))
    qtbot.keyClick(rig.window.prompt, Qt.Key.Key_Up)
    assert rig.window.prompt.toPlainText() == "second prompt"
    qtbot.keyClick(rig.window.prompt, Qt.Key.Key_Up)
    assert rig.window.prompt.toPlainText() == "first prompt"


def test_escape_stops_and_the_partial_answer_is_marked(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.script(Reply(n_tokens=400, rate=60))
    type_and_enter(qtbot, rig, "go on and on")

    async def go() -> Any:
        await until(lambda: "tok3" in rig.text(), what="tok3 shown")
        assert rig.window.stop_button.isVisible()
        qtbot.keyClick(rig.window.prompt, Qt.Key.Key_Escape)
        return await rig.wait_reply(1)

    outcome = run(go())
    assert outcome.status == "stopped"
    assert server.wait_for_disconnect(5)
    assert "stopped" in rig.text().splitlines()[-1]
    assert rig.window.send_button.isVisible() and not rig.window.stop_button.isVisible()


def test_error_inline_with_hint_and_retry_link(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.script(
        Reply(status=404, error_message="The model `ai/smollm2` does not exist"), Reply(text="ok now")
    )
    type_and_enter(qtbot, rig, "hello?")
    outcome = run(rig.wait_reply(1))
    assert outcome.error is not None
    text = rig.text()
    assert outcome.error.message in text and "Retry" in text
    rig.window.transcript.anchorClicked.emit(
        QUrl(rig.window.transcript.action_href(TranscriptAction.RETRY, outcome.message.id))
    )
    run(rig.wait_reply(2))
    assert "ok now" in rig.text() and outcome.error.message not in rig.text()


def test_copy_message_and_copy_code_links(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.script(Reply(text=CODE_REPLY))
    type_and_enter(qtbot, rig, "code please")
    outcome = run(rig.wait_reply(1))
    clipboard = QGuiApplication.clipboard()
    rig.window.transcript.anchorClicked.emit(
        QUrl(rig.window.transcript.action_href(TranscriptAction.COPY_CODE, outcome.message.id, 0))
    )
    assert clipboard.text() == "def add(a, b):\n    return a + b\n"
    rig.window.transcript.anchorClicked.emit(
        QUrl(rig.window.transcript.action_href(TranscriptAction.COPY, outcome.message.id))
    )
    assert clipboard.text() == CODE_REPLY
    clipboard.clear()
    qtbot.keyClick(
        rig.window, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier
    )
    assert clipboard.text() == "def add(a, b):\n    return a + b\n"


def test_edit_link_resends_from_that_message(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.script(Reply(text="answer one"), Reply(text="answer two"))
    type_and_enter(qtbot, rig, "original question")
    run(rig.wait_reply(1))
    cid = rig.controller.conversation_id
    assert cid is not None
    first = rig.history.messages(cid)[0]
    rig.window.transcript.anchorClicked.emit(
        QUrl(rig.window.transcript.action_href(TranscriptAction.EDIT, first.id))
    )
    assert rig.window.prompt.toPlainText() == "original question" and rig.window.edit_banner.isVisible()
    rig.window.prompt.selectAll()
    qtbot.keyClicks(rig.window.prompt, "better question")
    qtbot.keyClick(rig.window.prompt, Qt.Key.Key_Return)
    run(rig.wait_reply(2))
    assert [m.content for m in rig.history.messages(cid)] == ["better question", "answer two"]
    assert "original question" not in rig.text() and "answer two" in rig.text()


def test_links_open_only_http_in_the_browser_and_nothing_is_loaded(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url.toString())
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    server.script(
        Reply(
            text="<img src='http://127.0.0.1:1/x.png'> ![pic](http://127.0.0.1:1/y.png) "
            "[site](https://example.org) [bad](javascript:alert(1)) <script>alert(2)</script>"
        )
    )
    type_and_enter(qtbot, rig, "links")
    run(rig.wait_reply(1))
    view = rig.window.transcript
    html = view.document().toHtml()
    assert "<img" not in html and "<script" not in html
    assert 'href="javascript' not in html
    assert view.loadResource(2, QUrl("http://127.0.0.1:1/y.png")) is None
    view.anchorClicked.emit(QUrl("file:///etc/passwd"))
    view.anchorClicked.emit(QUrl("https://example.org"))
    assert opened == ["https://example.org"]


def test_search_finds_an_old_conversation_and_opens_at_the_hit(
    rig: Rig, history: HistoryStore, qtbot: QtBot
) -> None:
    old = history.create_conversation(model="ai/smollm2")
    for i in range(120):
        history.add_message(old.id, "user", f"question {i}")
        history.add_message(old.id, "assistant", f"answer {i}" + (" about zebras" if i == 3 else ""))
    other = history.create_conversation()
    history.add_message(other.id, "user", "unrelated")
    rig.window.refresh_sidebar()
    qtbot.keyClicks(rig.window.search, "zebr")
    qtbot.waitUntil(
        lambda: rig.window.conversations.count() >= 1 and "zebras" in rig.window.conversations.item(0).text()
    )
    item = rig.window.conversations.item(0)
    rig.window.conversations.itemClicked.emit(item)
    assert rig.controller.conversation_id == old.id
    view = rig.window.transcript
    assert "about zebras" in view.toPlainText()
    assert len(view.drawn.ids) <= 60  # the neighbourhood of the hit, not 240 messages
    qtbot.waitUntil(lambda: len(view.extraSelections()) >= 1)
    assert "Show the latest messages" in view.toPlainText()


def test_delete_can_be_undone_and_rename_persists(rig: Rig, history: HistoryStore, qtbot: QtBot) -> None:
    conv = history.create_conversation()
    history.add_message(conv.id, "user", "keep me")
    rig.window.refresh_sidebar()
    rig.window.delete_conversation(conv.id)
    assert rig.window.conversations.count() == 0 and rig.window.undo_button.isVisible()
    qtbot.mouseClick(rig.window.undo_button, Qt.MouseButton.LeftButton)
    assert rig.window.conversations.count() == 1
    item = rig.window.conversations.item(0)
    item.setText("Renamed by me")  # what finishing an in-place edit does
    qtbot.waitUntil(lambda: history.conversation(conv.id).title == "Renamed by me")


def test_export_markdown_and_json(rig: Rig, history: HistoryStore, tmp_path: Path) -> None:
    conv = history.create_conversation(model="ai/smollm2")
    history.add_message(conv.id, "user", "What is 2+2?")
    history.add_message(conv.id, "assistant", "4", meta={"model": "ai/smollm2"})
    assert rig.window.write_export(conv.id, "md", tmp_path / "c.md")
    assert rig.window.write_export(conv.id, "json", tmp_path / "c.json")
    md = (tmp_path / "c.md").read_text()
    assert "## You\n\nWhat is 2+2?" in md and "## Assistant (ai/smollm2)\n\n4" in md
    data = json.loads((tmp_path / "c.json").read_text())
    assert [m["content"] for m in data["messages"]] == ["What is 2+2?", "4"]
    assert not rig.window.write_export(conv.id, "md", tmp_path / "missing-dir" / "c.md")
    assert rig.window.notice.isVisible() and "Could not export" in rig.window.notice.text()


def test_the_window_and_the_cli_export_the_same_bytes(
    rig: Rig, history: HistoryStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One exporter: the window wrote JSON without escaping U+2028, the CLI with it (they differed)."""
    conv = history.create_conversation(model="ai/smollm2")
    history.add_message(conv.id, "user", "line\u2028separator and a \U0001f600")
    history.add_message(conv.id, "assistant", "ok", meta={"model": "ai/smollm2"})
    monkeypatch.setenv("TRAYAI_DATA_DIR", str(history.path.parent))
    for fmt in ("json", "md"):
        assert rig.window.write_export(conv.id, fmt, tmp_path / f"window.{fmt}")
        code, _, err = cli(
            "history", "export", str(conv.id), "--format", fmt, "-o", str(tmp_path / f"cli.{fmt}")
        )
        assert code == 0, err
        assert (tmp_path / f"window.{fmt}").read_bytes() == (tmp_path / f"cli.{fmt}").read_bytes()


def test_long_conversation_opens_lazily_and_loads_earlier_on_scroll(
    rig: Rig, history: HistoryStore, qtbot: QtBot
) -> None:
    conv = history.create_conversation()
    for i in range(200):
        history.add_message(conv.id, "user", f"prompt number {i} " + "p" * 1000)
        history.add_message(conv.id, "assistant", f"reply number {i}\n\n" + "word " * 300)
    started = time.perf_counter()
    rig.window.open_conversation(conv.id)
    QApplication.processEvents()
    elapsed = time.perf_counter() - started
    view = rig.window.transcript
    shown = len(view.drawn.ids)
    assert 4 <= shown < 20 and "reply number 199" in view.toPlainText()
    assert "Load earlier messages" in view.toPlainText()
    view.verticalScrollBar().setValue(0)
    qtbot.waitUntil(lambda: len(view.drawn.ids) > shown)
    assert view.verticalScrollBar().value() > 0  # the reader's place is kept
    assert elapsed < 5  # generous: the real figure is measured by tests/perf/bench_chat.py


def test_closing_the_window_stops_the_answer(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], qapp: QApplication
) -> None:
    qapp.setQuitOnLastWindowClosed(False)  # as in the app: closing the chat never quits trayai
    server.script(Reply(n_tokens=400, rate=60))
    type_and_enter(qtbot, rig, "long")

    async def go() -> Any:
        await until(lambda: "tok2" in rig.text(), what="tok2 shown")
        rig.window.close()
        return await rig.wait_reply(1)

    try:
        assert run(go()).status == "stopped"
    finally:
        qapp.setQuitOnLastWindowClosed(True)


def test_options_are_per_conversation(
    rig: Rig, history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    rig.window.set_models(["ai/smollm2", "ai/qwen3"])
    rig.window.model_combo.setCurrentText("ai/qwen3")
    rig.window.model_combo.activated.emit(1)
    rig.window.temperature.setValue(0.3)
    rig.window.temperature.editingFinished.emit()
    server.models = ["ai/smollm2", "ai/qwen3"]
    server.script(Reply(text="hi"))
    type_and_enter(qtbot, rig, "which model?")
    run(rig.wait_reply(1))
    body = server.chat_requests()[-1].body
    assert body is not None and body["model"] == "ai/qwen3" and body["temperature"] == 0.3
    rig.window.new_conversation()
    assert rig.window.model_combo.currentText() == "ai/smollm2"


def test_context_menu_offers_rename_export_delete(rig: Rig, history: HistoryStore, qtbot: QtBot) -> None:
    conv = history.create_conversation()
    history.add_message(conv.id, "user", "menu me")
    rig.window.refresh_sidebar()
    rect = rig.window.conversations.visualItemRect(rig.window.conversations.item(0))
    rig.window.sidebar._on_context_menu(rect.center())
    menu = rig.window.sidebar._context_menu
    assert [a.text() for a in menu.actions()] == [
        "&Rename",
        "&Pin to the top",
        "Export as &Markdown…",
        "Export as &JSON…",
        "&Delete",
    ]
    menu.actions()[4].trigger()  # the window deletes it, with Undo offered
    menu.close()
    assert rig.window.conversations.count() == 0 and rig.window.undo_button.isVisible()
    assert history.list_conversations() == []


def test_autoscroll_only_when_at_the_bottom(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.script(Reply(tokens=[f"line {i}\n\n" for i in range(400)], rate=400))
    type_and_enter(qtbot, rig, "many lines")
    bar = rig.window.transcript.verticalScrollBar()

    async def go() -> tuple[int, int]:
        await until(lambda: bar.maximum() >= 400, what="a scrollable answer")
        assert bar.value() == bar.maximum()  # following the answer
        bar.setValue(10)  # the reader scrolls up to read
        grown = bar.maximum() + 200
        await until(lambda: bar.maximum() >= grown, what="more of the answer")  # it keeps streaming
        held = bar.value()
        await rig.wait_reply(1)
        return held, bar.value()

    held, final = run(go())
    assert held == 10 and final == 10
    assert bar.maximum() > 10


def test_dark_palette_re_renders_with_dark_code_colours(
    rig: Rig, history: HistoryStore, qtbot: QtBot
) -> None:
    from PySide6.QtGui import QColor, QPalette

    conv = history.create_conversation()
    history.add_message(conv.id, "user", "code")
    history.add_message(conv.id, "assistant", "```python\nx = 1\n```")
    rig.window.open_conversation(conv.id)
    view = rig.window.transcript
    assert not view.renderer.palette.dark and LIGHT.code_background in view.document().toHtml()
    dark = QPalette(view.palette())
    dark.setColor(QPalette.ColorRole.Base, QColor("#1e1e1e"))
    dark.setColor(QPalette.ColorRole.Text, QColor("#eeeeee"))
    with qtbot.waitSignal(view.palette_changed, timeout=2000):
        view.setPalette(dark)
    assert view.renderer.palette.dark
    qtbot.waitUntil(lambda: DARK.code_background in view.document().toHtml())


def test_reloading_mid_answer_keeps_streaming_into_the_view(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.script(Reply(n_tokens=60, rate=60))
    type_and_enter(qtbot, rig, "keep going")

    async def go() -> Any:
        await until(lambda: "tok5" in rig.text(), what="tok5 shown")
        rig.window.transcript.palette_changed.emit()  # e.g. the desktop switched to dark: full reload
        assert rig.window.transcript.streaming
        return await rig.wait_reply(1)

    outcome = run(go())
    assert outcome.status == "done"
    assert "tok59" in rig.text() and "tokens" in rig.text().splitlines()[-1]


def click_text(qtbot: QtBot, view: Any, text: str) -> str:
    """Click (press and release) the middle of ``text`` in the view; returns the anchor under it, if any."""
    from PySide6.QtGui import QTextCursor

    found = view.document().find(text)
    assert not found.isNull(), f"{text!r} is not shown"
    cursor = QTextCursor(view.document())
    cursor.setPosition((found.selectionStart() + found.selectionEnd()) // 2)
    view.setTextCursor(cursor)
    view.ensureCursorVisible()
    point = view.cursorRect(cursor).center()
    href = view.anchorAt(point)
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point)
    return str(href)


def test_model_text_cannot_make_the_apps_action_links(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []

    def open_url(url: QUrl) -> bool:
        opened.append(url.toString())
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    view = rig.window.transcript
    server.script(Reply(status=404, error_message="no such model"))
    type_and_enter(qtbot, rig, "first")
    failed = run(rig.wait_reply(1))
    hostile = (
        f"Click [redo](trayai:retry/{failed.message.id}) or [again](trayai:0/retry/{failed.message.id}) "
        f"or <trayai:retry/{failed.message.id}> or [site](https://example.org)"
    )
    server.script(Reply(text=hostile))
    type_and_enter(qtbot, rig, "second")
    run(rig.wait_reply(2))
    requests = len(server.chat_requests())
    assert "[redo](trayai:retry/" in rig.text()  # shown as the text it is, not as a link
    for text in ("redo", "again", f"<trayai:retry/{failed.message.id}>"):
        assert click_text(qtbot, view, text) == ""
    for url in (
        f"trayai:retry/{failed.message.id}",
        f"trayai:0/retry/{failed.message.id}",
        f"trayai:{'0' * 32}/retry/{failed.message.id}",
    ):  # even as links, without the view's secret
        view.anchorClicked.emit(QUrl(url))
        assert not rig.controller.busy  # a Retry would have started its request task right here
    assert len(server.chat_requests()) == requests
    assert "trayai:" not in "".join(opened)
    assert click_text(qtbot, view, "site") == "https://example.org" and opened == ["https://example.org"]
    # The app's own Retry still works, clicked like a user would.
    server.script(Reply(status=404, error_message="still no model"), Reply(text="ok now"))
    type_and_enter(qtbot, rig, "third")
    run(rig.wait_reply(3))
    href = click_text(qtbot, view, "Retry")
    assert href.startswith("trayai:") and href != f"trayai:retry/{rig.outcomes[2].message.id}"
    assert run(rig.wait_reply(4)).message.content == "ok now"
    assert len(server.chat_requests()) == requests + 2


def test_a_link_of_ours_with_an_unknown_action_does_nothing(rig: Rig, qtbot: QtBot) -> None:
    """The view emits only TranscriptActions: a forged kind with the right token is dropped."""
    seen: list[tuple[str, int, int]] = []
    rig.window.transcript.action.connect(lambda kind, mid, index: seen.append((kind, mid, index)))
    real = rig.window.transcript.action_href(TranscriptAction.COPY, 7)
    rig.window.transcript.anchorClicked.emit(QUrl(real.replace("/copy/", "/delete_everything/")))
    rig.window.transcript.anchorClicked.emit(QUrl(real))
    assert seen == [(TranscriptAction.COPY, 7, -1)]
