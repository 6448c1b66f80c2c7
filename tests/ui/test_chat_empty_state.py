"""A new chat greets instead of a blank pane (issue 25): what it talks to (server, model, state),
three example prompts a click puts in the box, the keys with the global hotkey; and the sidebar says
"No conversations yet" rather than showing an empty list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.ui.conftest import client_for
from tests.ui.test_chat_error_help import Rig, rig, type_and_enter  # noqa: F401 - rig: a fixture
from trayai.core.chat.history import HistoryStore
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.chat.empty_state import EXAMPLE_PROMPTS
from trayai.ui.chat.window import ChatWindow


def test_a_new_chat_says_what_it_talks_to_and_offers_examples_and_keys(
    rig: Rig,  # noqa: F811
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
) -> None:
    empty = rig.window.empty_state
    assert empty.isVisible() and not rig.window.transcript.isVisible()
    assert empty.target.text() == "Ask ai/smollm2 on default — ready"
    assert "Enter sends" in empty.keys.text() and "Shift+Enter" in empty.keys.text()
    assert "Esc" in empty.keys.text()
    assert [b.text() for b in empty.examples] == list(EXAMPLE_PROMPTS)
    empty.examples[1].click()
    assert rig.window.prompt.toPlainText() == EXAMPLE_PROMPTS[1]
    assert rig.window.prompt.hasFocus()
    assert rig.window.sidebar.empty_label.isVisible()
    assert rig.window.sidebar.empty_label.text() == "No conversations yet"
    server.script(Reply(text="sure"))
    rig.window.prompt.clear()
    type_and_enter(qtbot, rig, "hello")
    run(rig.wait_reply(1))
    assert not empty.isVisible() and rig.window.transcript.isVisible()
    assert not rig.window.sidebar.empty_label.isVisible()
    rig.window.new_conversation()
    assert empty.isVisible()


def test_the_keys_name_the_global_hotkey_from_the_settings(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot
) -> None:
    client = client_for(server.base_url)
    controller = ChatController(history, lambda: ChatTarget(client=client, model="m", profile="work"))
    window = ChatWindow(controller, history, hotkey=lambda: "Ctrl+Alt+Space")
    qtbot.addWidget(window)
    window.show()
    assert window.empty_state.target.text() == "Ask m on work"
    assert "Ctrl+Alt+Space opens the quick prompt" in window.empty_state.keys.text()
