"""The server · model picker in the chat (issue 25): every profile's models grouped by server in the
options bar, a choice on another server switching to it, the conversation remembering its server and
model, and a model or server that cannot take the question refused before Send, never sent blind.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.ui.test_chat_error_help import Rig, rig, type_and_enter  # noqa: F401 - rig: a fixture
from trayai.core.picker import PickerChoice
from trayai.core.status import ServerState, StatusReport
from trayai.ui.chat.picker_binding import PROFILE_KEY


def menu_texts(rig: Rig) -> list[str]:  # noqa: F811
    return [a.text().strip() for a in rig.window.options_bar.picker.menu_.actions() if a.text()]


def test_the_picker_replaces_the_model_box_and_lists_every_server(rig: Rig) -> None:  # noqa: F811
    bar = rig.window.options_bar
    assert bar.picker.isVisible() and not bar.model_combo.isVisible()
    assert bar.picker.text() == "ai/smollm2 · default"
    texts = menu_texts(rig)
    assert texts.index("ai/smollm2") < texts.index("ai/gemma3") < texts.index("qwen3")
    assert any(t.startswith("ollama — ready") for t in texts)


def test_choosing_a_model_on_another_server_switches_and_the_conversation_remembers(
    rig: Rig,  # noqa: F811
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
) -> None:
    server.script(Reply(text="hi"))
    type_and_enter(qtbot, rig, "first")
    run(rig.wait_reply(1))
    cid = rig.controller.conversation_id
    assert cid is not None
    rig.window.options_bar.picker.chosen.emit(PickerChoice("ollama", "qwen3"))
    assert rig.servers.asked == [("switch", "ollama")]
    assert rig.controller.conversation_options().model == "qwen3"
    assert rig.history.conversation(cid).settings[PROFILE_KEY] == "ollama"
    assert rig.window.options_bar.picker.text() == "qwen3 · ollama"
    assert rig.window.send_button.isEnabled()
    rig.window.new_conversation()
    assert rig.window.options_bar.picker.text() == "ai/smollm2 · ollama"
    rig.window.open_conversation(cid)
    assert rig.window.options_bar.picker.text() == "qwen3 · ollama"


def test_a_model_the_server_does_not_list_is_refused_before_send(
    rig: Rig,  # noqa: F811
    server: ScriptedServer,
    qtbot: QtBot,
) -> None:
    rig.controller.set_options(model="ai/nowhere")
    rig.window._fill_options()
    reason = rig.window.picker_binding.reason if rig.window.picker_binding else None
    assert reason is not None and reason.isVisible()
    assert "has no model 'ai/nowhere'" in reason.text()
    assert not rig.window.send_button.isEnabled()
    assert "ai/nowhere" in rig.window.send_button.toolTip()
    type_and_enter(qtbot, rig, "hello")
    assert server.chat_requests() == []
    assert rig.window.prompt.toPlainText() == "hello"  # kept for when a model is picked
    rig.window.options_bar.picker.chosen.emit(PickerChoice("default", "ai/gemma3"))
    assert not reason.isVisible() and rig.window.send_button.isEnabled()


def test_a_down_server_is_refused_before_send_and_allowed_once_back(
    rig: Rig,  # noqa: F811
    server: ScriptedServer,
    qtbot: QtBot,
) -> None:
    rig.servers.report = StatusReport(ServerState.UNREACHABLE, server.base_url, "ai/smollm2")
    rig.servers.link.changed.emit()
    assert not rig.window.send_button.isEnabled()
    qtbot.keyClicks(rig.window.prompt, "hello")
    qtbot.keyClick(rig.window.prompt, Qt.Key.Key_Return)
    assert server.chat_requests() == []
    rig.servers.report = StatusReport(ServerState.READY, server.base_url, "ai/smollm2", ["ai/smollm2"])
    rig.servers.link.changed.emit()
    assert rig.window.send_button.isEnabled()


def test_another_model_by_name_opens_a_small_input(rig: Rig) -> None:  # noqa: F811
    rig.window.options_bar.picker.type_requested.emit("default")
    binding = rig.window.picker_binding
    assert binding is not None and binding.dialog is not None and binding.dialog.isVisible()
    binding.dialog.textValueSelected.emit("ai/gemma3")
    assert rig.controller.conversation_options().model == "ai/gemma3"
