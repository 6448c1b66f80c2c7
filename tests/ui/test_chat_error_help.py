"""Errors a person can act on, in the chat window (issue 25): a failed answer shows a bar under the
transcript with the catalogue's window words and buttons that do something here (use a listed model,
switch to a ready server, start the built-in one, Settings, Retry only where it helps); a banner says
the active server is down before anything is typed, and goes when it is back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.ui.conftest import client_for
from trayai.core.chat.history import HistoryStore
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.picker import PickerModel, PickerServer
from trayai.core.status import ServerState, StatusReport
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.chat.server_link import ServerHooks, ServerLink
from trayai.ui.chat.window import ChatWindow


class Servers:
    """A fake of the app's servers: what the window may ask, and what it asked for."""

    def __init__(self, base_url: str) -> None:
        self.report: StatusReport | None = StatusReport(
            ServerState.READY, base_url, "ai/smollm2", ["ai/smollm2"]
        )
        self.others = [PickerServer("ollama", "127.0.0.1:11434", ServerState.READY, (PickerModel("qwen3"),))]
        self.asked: list[tuple[str, str | None]] = []
        self.active = "default"
        self.link = ServerLink(
            ServerHooks(
                servers=self.servers,
                report=lambda: self.report,
                builtin_can_start=lambda: True,
                choose_profile=self.switch,
                start_builtin=lambda: self.asked.append(("start", None)),
                open_settings=lambda: self.asked.append(("settings", None)),
                load_model=lambda name: self.asked.append(("load", name)),
            )
        )

    def switch(self, name: str) -> None:
        self.asked.append(("switch", name))
        self.active = name

    def servers(self) -> list[PickerServer]:
        state = self.report.state if self.report else None
        models = (PickerModel("ai/smollm2"), PickerModel("ai/gemma3"))
        mine = PickerServer("default", "127.0.0.1:1", state, models, self.active == "default")
        return [mine, *(replace(s, active=s.profile == self.active) for s in self.others)]


class Rig:
    def __init__(self, history: HistoryStore, base_url: str, qtbot: QtBot) -> None:
        self.client = client_for(base_url)
        self.history = history
        self.servers = Servers(base_url)
        self.model = "ai/smollm2"
        self.controller = ChatController(history, self.target)
        self.window = ChatWindow(self.controller, history, server=self.servers.link)
        qtbot.addWidget(self.window)
        self.window.show()
        self.outcomes: list[Any] = []
        self.controller.finished.connect(self.outcomes.append)
        self.controller.failed.connect(self.outcomes.append)

    def target(self) -> ChatTarget:
        return ChatTarget(client=self.client, model=self.model, profile="default")

    async def wait_reply(self, count: int) -> Any:
        from tests.support.waiting import until

        await until(lambda: len(self.outcomes) >= count, 10.0, "a reply")
        await until(lambda: not self.window.transcript.streaming, 10.0, "the answer painted")
        return self.outcomes[count - 1]


def type_and_enter(qtbot: QtBot, rig: Rig, text: str) -> None:
    rig.window.prompt.setFocus()
    qtbot.keyClicks(rig.window.prompt, text)
    qtbot.keyClick(rig.window.prompt, Qt.Key.Key_Return)


@pytest.fixture
def rig(history: HistoryStore, server: ScriptedServer, qtbot: QtBot) -> Rig:
    return Rig(history, server.base_url, qtbot)


def test_a_wrong_model_offers_the_servers_models_as_buttons_without_cli_words(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.models = ["ai/smollm2", "ai/gemma3"]
    server.script(
        Reply(status=404, error_message="The model `ai/smollm2` does not exist"), Reply(text="fine")
    )
    type_and_enter(qtbot, rig, "hello")
    run(rig.wait_reply(1))
    bar = rig.window.error_bar
    assert bar.isVisible()
    words = f"{bar.title.text()} {bar.text.text()}"
    assert "`" not in words and "trayai " not in words and "docker" not in words.lower()
    assert bar.labels() == ["Use ai/gemma3"]  # the model asked for is not offered; no Retry for it
    bar.press("Use ai/gemma3")
    assert not bar.isVisible()
    assert rig.controller.conversation_options().model == "ai/gemma3"  # this conversation keeps it
    assert rig.window.model_combo.currentText() == "ai/gemma3"
    assert "has no model named" in rig.window.transcript.toPlainText()  # the history's box stays
    type_and_enter(qtbot, rig, "again")
    run(rig.wait_reply(2))
    assert server.chat_requests()[-1].json["model"] == "ai/gemma3"
    assert not bar.isVisible()


def test_a_dead_port_offers_a_ready_server_the_builtin_one_settings_and_retry(
    rig: Rig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    rig.client = client_for("http://127.0.0.1:9")  # nothing listens on the discard port
    type_and_enter(qtbot, rig, "hello")
    run(rig.wait_reply(1))
    bar = rig.window.error_bar
    assert bar.labels() == ["Switch to ollama", "Start the built-in server", "Open Settings", "Retry"]
    assert "`" not in bar.text.text() and "docker" not in bar.text.text().lower()
    bar.press("Switch to ollama")
    bar.show()
    bar.press("Start the built-in server")
    bar.show()
    bar.press("Open Settings")
    assert rig.servers.asked == [("switch", "ollama"), ("start", None), ("settings", None)]
    rig.client = client_for(server.base_url)
    server.script(Reply(text="back"))
    bar.show()
    bar.press("Retry")
    run(rig.wait_reply(2))
    assert rig.outcomes[1].error is None


def test_a_banner_says_the_server_is_down_before_anything_is_typed(rig: Rig, qtbot: QtBot) -> None:
    banner = rig.window.server_banner
    assert not banner.isVisible()
    refused = make_error(ErrorCode.CONNECTION_REFUSED, "Nothing is listening on 127.0.0.1:1")
    rig.servers.report = StatusReport(
        ServerState.UNREACHABLE, "http://127.0.0.1:1/v1", "ai/smollm2", error=refused
    )
    rig.servers.link.changed.emit()
    assert banner.isVisible()
    assert "Nothing is listening" in banner.title.text()
    assert banner.labels() == ["Switch to ollama", "Start the built-in server", "Open Settings"]
    banner.press("Switch to ollama")
    assert rig.servers.asked == [("switch", "ollama")]
    rig.servers.report = StatusReport(ServerState.READY, "http://127.0.0.1:1/v1", "ai/smollm2")
    rig.servers.link.changed.emit()
    assert not banner.isVisible()


def test_a_window_on_its_own_offers_only_what_the_conversation_can_do(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    client = client_for("http://127.0.0.1:9")
    controller = ChatController(history, lambda: ChatTarget(client=client, model="m", profile="default"))
    window = ChatWindow(controller, history)
    qtbot.addWidget(window)
    window.show()
    outcomes: list[Any] = []
    controller.failed.connect(outcomes.append)
    assert controller.send("hello")

    async def failed() -> None:
        from tests.support.waiting import until

        await until(lambda: bool(outcomes), 10.0, "the failure")

    run(failed())
    assert window.error_bar.labels() == ["Retry"]
