"""The chat's Tools switch follows the app's tool servers while the window stays open: a server
enabled (here by writing ``mcp.json``, as ``trayai tools add`` does) shows it without the window
being activated again, and a server disabled hides it — the app's real ToolsKeeper and a real stdio
MCP server (tests/support/hostile_mcp.py)."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import keyring
import pytest
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import ScriptedServer
from tests.support.tool_servers import ServerCount
from tests.support.waiting import until
from tests.ui.conftest import client_for
from tests.ui.test_tools_keeper import hostile, write_servers
from trayai.core.chat.history import HistoryStore
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.settings.memory_keyring import MemoryKeyring
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.chat.window import ChatWindow
from trayai.ui.tools_keeper import ToolsKeeper

Run = Callable[[Coroutine[Any, Any, Any]], Any]


@pytest.fixture
def keeper(paths: AppPaths, qloop: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ToolsKeeper]:
    monkeypatch.setattr(keyring, "get_keyring", MemoryKeyring)
    keeper = ToolsKeeper.at(paths, Redactor())
    yield keeper
    qloop.run_until_complete(keeper.close())


def test_the_switch_shows_when_a_server_connects_and_goes_when_it_is_disabled(
    keeper: ToolsKeeper,
    paths: AppPaths,
    history: HistoryStore,
    server: ScriptedServer,
    run: Run,
    qtbot: QtBot,
) -> None:
    server_processes = ServerCount("hostile_mcp")  # this test's own (tests/support/tool_servers.py)
    keeper.start()
    client = client_for(server.base_url)
    controller = ChatController(
        history, lambda: ChatTarget(client=client, model="ai/smollm2", profile="default"), tools=keeper
    )
    window = ChatWindow(controller, history)
    qtbot.addWidget(window)
    window.show()
    switch = window.options_bar.tools_button
    assert not switch.isVisibleTo(window)  # no server: nothing to switch

    write_servers(paths, {"hostile": hostile()})
    run(until(lambda: switch.isVisibleTo(window), 20, "the Tools switch once the server connected"))
    assert switch.isChecked() and "Not yet asked" in switch.toolTip()

    async def disable() -> None:
        """One run of the loop while the server stops: qasync's run_until_complete, ending between
        steps, would drop anyio's cancel delivery on the floor (a test-only hazard; the app's loop
        never stops)."""
        write_servers(paths, {"hostile": hostile(enabled=False)})
        await until(lambda: not switch.isVisibleTo(window), 20, "the Tools switch gone with the server")
        await until(lambda: not server_processes(), 20, "the disabled server stopped and reaped")

    run(disable())
