"""The app's tool hub owner (ui/tools_keeper.py) with a real stdio MCP server (tests/support/hostile_mcp.py):
nothing of the SDK until a server is enabled, the file followed when the CLI changes it, "Always" saved,
the Tools ▸ menu's rows and toggle, and no server process left after ``close``."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from pytestqt.qtbot import QtBot

from tests.support.cli import cli
from tests.support.hostile_mcp import ARGV
from tests.support.tool_servers import ServerCount, alive
from tests.support.waiting import until
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.settings.memory_keyring import MemoryKeyring
from trayai.core.tools.hub import ToolServerState
from trayai.ui.tools_keeper import ToolsKeeper
from trayai.ui.tools_menu import ToolsMenu

Run = Callable[[Coroutine[Any, Any, Any]], Any]


def write_servers(paths: AppPaths, servers: dict[str, Any]) -> Path:
    paths.ensure()
    path = paths.config_dir / "mcp.json"
    path.write_text(json.dumps({"mcpServers": servers}), encoding="utf-8")
    return path


def hostile(*, enabled: bool = True, timeout: float = 60) -> dict[str, Any]:
    return {"command": ARGV[0], "args": ARGV[1:], "enabled": enabled, "timeout": timeout}


@pytest.fixture
def own() -> ServerCount:
    """The hostile servers this test starts (not those an earlier test left: tests/support/tool_servers.py)."""
    return ServerCount("hostile_mcp")


@pytest.fixture
def keeper(paths: AppPaths, qloop: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[ToolsKeeper]:
    monkeypatch.setattr(keyring, "get_keyring", MemoryKeyring)
    keeper = ToolsKeeper.at(paths, Redactor())
    yield keeper
    qloop.run_until_complete(keeper.close())


def connected(keeper: ToolsKeeper, name: str = "hostile") -> bool:
    return any(s.name == name and s.state is ToolServerState.CONNECTED for s in keeper.statuses())


def test_no_enabled_server_builds_no_hub(
    keeper: ToolsKeeper, paths: AppPaths, run: Run, qtbot: QtBot
) -> None:
    keeper.start()
    assert keeper.statuses() == [] and keeper.current_hub() is None and keeper.hub is None
    write_servers(paths, {"off": hostile(enabled=False)})
    run(until(lambda: [s.name for s in keeper.statuses()] == ["off"], 5))
    assert keeper.statuses()[0].state is ToolServerState.DISABLED
    assert keeper.hub is None  # a disabled server loads nothing of the SDK


def test_enabled_server_connects_and_answers(
    keeper: ToolsKeeper, paths: AppPaths, run: Run, qtbot: QtBot
) -> None:
    write_servers(paths, {"hostile": hostile()})
    with qtbot.waitSignal(keeper.changed, timeout=5000):
        keeper.start()
    run(until(lambda: connected(keeper), 20))
    hub = keeper.current_hub()
    assert hub is not None
    assert "hostile__echo" in [tool["function"]["name"] for tool in hub.openai_tools()]
    result = run(hub.call("hostile__echo", {"text": "hi"}))
    assert result.text == "hi"


def test_always_is_saved_and_followed(keeper: ToolsKeeper, paths: AppPaths, run: Run, qtbot: QtBot) -> None:
    path = write_servers(paths, {"hostile": hostile()})
    keeper.start()
    run(until(lambda: connected(keeper), 20))
    assert keeper.hub is not None
    tool = keeper.hub.lookup("hostile__echo")
    assert tool is not None and tool.policy.value == "ask"
    keeper.remember(tool)
    assert json.loads(path.read_text())["mcpServers"]["hostile"]["tools"] == {"echo": "allow"}
    again = keeper.hub.lookup("hostile__echo")
    assert again is not None and again.policy.value == "allow"
    assert connected(keeper)  # a policy change keeps the connection


def test_a_cli_change_while_running_shows_up(
    keeper: ToolsKeeper, paths: AppPaths, run: Run, qtbot: QtBot, own: ServerCount
) -> None:
    write_servers(paths, {"hostile": hostile()})
    keeper.start()
    run(until(lambda: connected(keeper), 20))
    assert own()
    code, _out, err = cli("tools", "disable", "hostile")
    assert code == 0, err
    run(until(lambda: keeper.statuses()[0].state is ToolServerState.DISABLED, 5))
    run(until(lambda: not own(), 10))  # the disabled server's process is stopped
    code, _out, err = cli("tools", "add", "second", "--command", *ARGV)
    assert code == 0, err
    run(until(lambda: [s.name for s in keeper.statuses()] == ["hostile", "second"], 5))
    run(until(lambda: connected(keeper, "second"), 20))


def test_a_damaged_file_keeps_the_last_good_one(keeper: ToolsKeeper, paths: AppPaths, qtbot: QtBot) -> None:
    path = write_servers(paths, {"off": hostile(enabled=False)})
    keeper.start()
    with qtbot.waitSignal(keeper.notice, timeout=5000) as said:
        path.write_text("{ not json", encoding="utf-8")
    assert "cannot be read" in said.args[0]
    assert keeper.problem and "not JSON" in keeper.problem
    assert [s.name for s in keeper.statuses()] == ["off"]


def test_close_leaves_no_server_running(paths: AppPaths, qloop: Any, run: Run, own: ServerCount) -> None:
    write_servers(paths, {"a": hostile(), "b": hostile()})
    keeper = ToolsKeeper.at(paths, Redactor())
    keeper.start()
    run(until(lambda: connected(keeper, "a") and connected(keeper, "b"), 30))
    running = own()
    assert len(running) == 2
    qloop.run_until_complete(keeper.close())
    assert not any(alive(p) for p in running)


def test_tools_menu_rows_and_toggle(keeper: ToolsKeeper, paths: AppPaths, run: Run, qtbot: QtBot) -> None:
    menu = ToolsMenu(keeper)

    def texts() -> list[str]:
        return [a.text() for a in menu.menu.actions() if not a.isSeparator()]

    assert texts() == ["No tools configured — Add…"]
    with qtbot.waitSignal(menu.settings_requested) as asked:
        menu.menu.actions()[0].trigger()
    assert asked.args == ["Tools"]
    path = write_servers(paths, {"hostile": hostile(), "broken": {"command": "/nonexistent/mcp-server"}})
    keeper.start()
    run(until(lambda: "hostile — 7 tools" in texts(), 20))
    run(until(lambda: any(t.startswith("broken — failed") for t in texts()), 20))
    rows = {a.objectName(): a for a in menu.menu.actions()}
    assert rows["tool_server:hostile"].isChecked()
    assert "cannot be started" in rows["tool_server:broken"].toolTip()
    reason = rows["tool_reason:broken"]
    assert not reason.isEnabled() and "cannot be started" in reason.text()
    toggle = rows["tool_server:hostile"]
    toggle.trigger()  # unchecks it: disabled, saved
    assert json.loads(path.read_text())["mcpServers"]["hostile"]["enabled"] is False
    run(until(lambda: "hostile — off" in texts(), 5))
    assert texts()[-1] == "Tools &settings…"
    menu.dispose()
