"""``trayai ask --tools`` with the real ``mcp-server-time`` (PyPI, installed by the test extra): the
scripted model asks for the time in Tokyo, the real server answers through trayai's hub, the answer
streams — allowed by ``--allow-tool`` (no terminal) and by a person typing ``a`` (saved to mcp.json)."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import keyring
import pytest

from tests.support.cli import cli
from tests.support.scripted_server import Reply, ScriptedCall, ScriptedServer, tool_reply
from trayai.cli.ask_tools import PROMPT
from trayai.cli.context import EXIT_OK
from trayai.core.paths import AppPaths
from trayai.core.settings.memory_keyring import MemoryKeyring
from trayai.core.settings.secrets import TOOLS_SERVICE, SecretStore
from trayai.core.tools.config import ServerConfig, StdioLaunch, ToolPolicy, ToolsConfig, ToolsStore

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.integration
TOKYO = ScriptedCall("time__get_current_time", '{"timezone": "Asia/Tokyo"}', id="call_tokyo")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def store(paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> ToolsStore:
    monkeypatch.setattr(keyring, "get_keyring", MemoryKeyring)
    store = ToolsStore.at(paths, SecretStore(MemoryKeyring(), service=TOOLS_SERVICE))
    launch = StdioLaunch(str(BIN / "mcp-server-time"), ("--local-timezone", "UTC"))
    store.save(ToolsConfig({"time": ServerConfig("time", stdio=launch)}))
    return store


def _tool_result(server: ScriptedServer) -> dict[str, object]:
    second = server.chat_requests()[1].json["messages"]
    assert second[-2]["tool_calls"][0]["id"] == "call_tokyo"
    assert second[-1]["role"] == "tool" and second[-1]["tool_call_id"] == "call_tokyo"
    result = json.loads(second[-1]["content"])
    assert isinstance(result, dict)
    return result


def test_allowed_by_name_without_a_terminal(
    server: ScriptedServer, store: ToolsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    server.script(tool_reply(TOKYO), Reply(text="It is evening in Tokyo."))
    code, out, err = cli(
        "ask", "--endpoint", server.base_url, "--no-resolve", "--allow-tool", "time/get_current_time", "Time?"
    )
    assert code == EXIT_OK, err
    assert out == "It is evening in Tokyo.\n"
    assert "── tool call: time/get_current_time ──" in err and '"timezone": "Asia/Tokyo"' in err
    result = _tool_result(server)
    assert result["timezone"] == "Asia/Tokyo" and str(result["datetime"]).endswith("+09:00")
    first = server.chat_requests()[0].json
    assert {t["function"]["name"] for t in first["tools"]} == {"time__get_current_time", "time__convert_time"}


def test_a_person_says_always_and_it_is_remembered(
    server: ScriptedServer, store: ToolsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", Terminal("a\n"))
    server.script(tool_reply(TOKYO), Reply(text="Evening."))
    code, out, err = cli("ask", "--endpoint", server.base_url, "--no-resolve", "--tools", "Time?")
    assert code == EXIT_OK, err
    assert out == "Evening.\n" and err.count(PROMPT) == 1
    assert _tool_result(server)["timezone"] == "Asia/Tokyo"
    assert store.load().server("time").policies == {"get_current_time": ToolPolicy.ALLOW}

    # the next run does not ask: mcp.json allows it now
    monkeypatch.setattr("sys.stdin", Terminal(""))
    server.script(tool_reply(TOKYO), Reply(text="Still evening."))
    code, out, err = cli("ask", "--endpoint", server.base_url, "--no-resolve", "--tools", "Time?")
    assert code == EXIT_OK, err
    assert out == "Still evening.\n" and PROMPT not in err
