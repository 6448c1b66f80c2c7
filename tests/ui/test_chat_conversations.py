"""One owner of conversation changes: the chat window, its list and the quick prompt share one
``SharedConversations``, and every change reaches every list through its signals."""

from __future__ import annotations

import ast
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.conftest import client_for
from trayai.core.chat.history import HistoryStore
from trayai.ui.chat import window as window_module
from trayai.ui.chat.controller import ChatController, ChatTarget, ReplyOutcome
from trayai.ui.chat.conversations import SharedConversations
from trayai.ui.chat.window import ChatWindow
from trayai.ui.prompt.window import QuickPromptWindow


def nowhere() -> ChatTarget:
    """A target never asked (these tests send nothing through it)."""
    return ChatTarget(client_for("http://127.0.0.1:9/v1"), "m", None)


def listed(window: ChatWindow) -> list[str]:
    return [window.conversations.item(i).text() for i in range(window.conversations.count())]


def test_an_exchange_in_the_quick_prompt_is_listed_in_the_open_chat_window(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    client = client_for(server.base_url)
    shared = SharedConversations(history)

    def target() -> ChatTarget:
        return ChatTarget(client=client, model="ai/smollm2", profile="p")

    chat = ChatWindow(ChatController(history, target, conversations=shared), history)
    qtbot.addWidget(chat)
    prompt_controller = ChatController(history, target, conversations=shared)
    prompt = QuickPromptWindow(prompt_controller)
    qtbot.addWidget(prompt)
    outcomes: list[ReplyOutcome] = []
    prompt_controller.finished.connect(outcomes.append)
    server.script(Reply(text="Paris."))
    QGuiApplication.clipboard().clear()  # the prompt would quote it (earlier tests copy things)
    assert listed(chat) == []
    assert prompt.send("capital of France?")
    assert listed(chat) == ["capital of France?"]  # the prompt saved: the chat's list followed at once
    run(until(lambda: outcomes, 10, "the answer"))
    assert listed(chat) == ["capital of France?"]


def test_a_rename_elsewhere_reaches_the_list_but_search_hits_stay_while_read(
    history: HistoryStore, qtbot: QtBot
) -> None:
    conv = history.create_conversation("zebras")
    history.add_message(conv.id, "user", "about zebras")
    shared = SharedConversations(history)
    chat = ChatWindow(ChatController(history, nowhere, conversations=shared), history)
    qtbot.addWidget(chat)
    shared.rename(conv.id, "stripes")
    assert listed(chat) == ["stripes"]
    chat.search.setText("zebras")
    chat.sidebar.open_first_result()
    hits = listed(chat)
    assert len(hits) == 1 and "«zebras»" in hits[0]
    shared.rename(conv.id, "horses")  # a list change while the user reads hits: hits stay
    assert listed(chat) == hits


def test_delete_while_searching_drops_the_hit_and_undo_brings_it_back(
    history: HistoryStore, qtbot: QtBot
) -> None:
    conv = history.create_conversation("zebras")
    history.add_message(conv.id, "user", "about zebras")
    controller = ChatController(history, nowhere)
    chat = ChatWindow(controller, history)
    qtbot.addWidget(chat)
    chat.show()
    chat.search.setText("zebras")
    chat.sidebar.open_first_result()
    assert "«zebras»" in listed(chat)[0]
    chat.delete_conversation(conv.id)
    assert listed(chat) == ["No matches"] and chat.undo_button.isVisible()
    chat.undo_button.click()
    assert "«zebras»" in listed(chat)[0] and not chat.undo_button.isVisible()


def test_a_surface_over_another_store_is_refused(history: HistoryStore, tmp_path: Path) -> None:
    other = HistoryStore(tmp_path / "other.sqlite3")
    try:
        with pytest.raises(ValueError, match="same history"):
            ChatController(history, nowhere, conversations=SharedConversations(other))
        controller = ChatController(other, nowhere)
        with pytest.raises(ValueError, match="same history"):
            ChatWindow(controller, history)
    finally:
        other.close()


def test_the_window_and_its_parts_never_call_the_store_themselves() -> None:
    """Conversation changes go through SharedConversations; only the controller writes messages itself."""
    chat_dir = Path(window_module.__file__).parent
    # the answer's saves (its tool rounds: tool_exchange.py, the controller's); the owner; opening
    writers = {"controller.py", "tool_exchange.py", "conversations.py", "surfaces.py"}
    offenders = []
    for path in sorted(chat_dir.glob("*.py")):
        if path.name in writers:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Attribute)
                and node.value.attr == "history"
                and isinstance(node.value.value, ast.Name)
                and node.value.value.id == "self"
            ):
                offenders.append(f"{path.name}:{node.lineno} self.{node.value.attr}.{node.attr}")
    assert offenders == []
