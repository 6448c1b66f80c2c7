"""The chat window's preset picker: a preset sets the conversation's system prompt and parameters,
the request carries them, and "No preset" brings back the profile's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.ui.test_chat_window import Rig, type_and_enter
from trayai.core.chat.history import HistoryStore
from trayai.core.settings.config import Preset
from trayai.ui.chat.window import ChatWindow


def test_a_preset_sets_the_conversation_and_the_request(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    presets = [
        Preset("Terse", "Answer in one line.", 0.2, 64),
        Preset("Pirate", "Talk like a pirate.", None, None),
    ]
    rig = Rig(history, server.base_url, qtbot)
    rig.window.close()
    window = ChatWindow(rig.controller, history, presets=lambda: presets)
    qtbot.addWidget(window)
    window.show()
    rig.window = window
    combo = window.options_bar.preset_combo
    assert combo.isVisible() and [combo.itemText(i) for i in range(combo.count())] == [
        "No preset",
        "Terse",
        "Pirate",
    ]
    assert combo.currentText() == "No preset"
    combo.setCurrentIndex(1)
    combo.activated.emit(1)  # what choosing it with the mouse or keys does
    assert window.system_prompt.toPlainText() == "Answer in one line."
    assert window.temperature.value() == 0.2 and window.max_tokens.value() == 64
    server.script(Reply(text="Fine."))
    type_and_enter(qtbot, rig, "How are you?")
    run(rig.wait_reply(1))
    sent = server.chat_requests()[-1].json
    assert sent["messages"][0] == {"role": "system", "content": "Answer in one line."}
    assert sent["temperature"] == 0.2 and sent["max_tokens"] == 64
    assert combo.currentText() == "Terse"  # the conversation's options match it
    combo.setCurrentIndex(0)
    combo.activated.emit(0)
    assert window.system_prompt.toPlainText() == "" and window.max_tokens.value() == 1024  # the profile's
