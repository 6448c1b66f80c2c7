"""``trayai ask --tools`` end to end in-process: the scripted model calls the tools of a real stdio MCP
server of our own (tests/support/hostile_mcp.py), and the terminal asks, allows, saves "always",
refuses without a TTY, escapes what a hostile tool returns and folds what is long."""

from __future__ import annotations

import io
import json
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import keyring
import pytest

from tests.support.cli import cli
from tests.support.hostile_mcp import ARGV
from tests.support.scripted_server import Reply, ScriptedCall, ScriptedServer, tool_reply
from tests.support.waiting import wait_until
from trayai.cli.ask_tools import PROMPT, folded
from trayai.cli.context import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.paths import AppPaths
from trayai.core.settings.memory_keyring import MemoryKeyring
from trayai.core.settings.secrets import TOOLS_SERVICE, SecretStore
from trayai.core.tools.config import ServerConfig, StdioLaunch, ToolPolicy, ToolsConfig, ToolsStore
from trayai.core.tools.support import tools_supported

ECHO = "evil__echo"


class FakeTerminal(io.StringIO):
    """stdin as a person at a terminal: a TTY with the answers they type."""

    def isatty(self) -> bool:
        return True


@pytest.fixture(autouse=True)
def keychain(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    return backend


@pytest.fixture
def store(paths: AppPaths) -> Iterator[ToolsStore]:
    store = ToolsStore.at(paths, SecretStore(MemoryKeyring(), service=TOOLS_SERVICE))
    store.save(ToolsConfig({"evil": ServerConfig("evil", stdio=StdioLaunch(ARGV[0], tuple(ARGV[1:])))}))
    yield store


def typed(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", FakeTerminal(text))


def ask(server: ScriptedServer, *flags: str) -> tuple[int, str, str]:
    return cli("ask", "--endpoint", server.base_url, "--no-resolve", *flags, "Say it.")


def echo(text: str, call_id: str = "call_1") -> ScriptedCall:
    return ScriptedCall(ECHO, json.dumps({"text": text}), id=call_id)


def test_without_a_terminal_tools_are_refused_unless_named(
    server: ScriptedServer, store: ToolsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = ask(server, "--tools")
    assert code == EXIT_USAGE and out == ""
    assert "no terminal to ask on" in err and "--allow-tool NAME" in err
    assert server.chat_requests() == []  # nothing was asked of the model


def test_allow_tool_runs_it_and_escapes_a_hostile_result(
    server: ScriptedServer, store: ToolsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    hostile = "\x1b]0;owned\x07\x1b[2Jline one\nline two"
    server.script(tool_reply(echo(hostile), text="Checking."), Reply(text="Done."))
    code, out, err = ask(server, "--allow-tool", "evil/echo")
    assert code == EXIT_OK, err
    assert out == "Checking.\nDone.\n"
    assert "── tool call: evil/echo ──" in err and "(allowed by --allow-tool)" in err
    assert "\x1b" not in err and "\\e]0;owned\\x07\\e[2Jline one" in err
    assert "    line two" in err
    request = server.chat_requests()[1].json
    assert request["messages"][-1]["content"] == hostile  # the model gets the text as the tool sent it
    assert request["tools"][0]["function"]["name"] == ECHO


def test_no_terminal_and_another_tool_is_not_run(
    server: ScriptedServer, store: ToolsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    server.script(tool_reply(ScriptedCall("evil__crash", "{}")), Reply(text="ok"))
    code, _out, err = ask(server, "--allow-tool", ECHO)
    assert code == EXIT_OK, err
    assert "not run: no terminal to ask" in err and "not run (denied)" in err
    assert "The user denied" in server.chat_requests()[1].json["messages"][-1]["content"]


@pytest.mark.parametrize(
    ("typed_text", "ran", "saved"),
    [("y\n", True, False), ("a\n", True, True), ("n\n", False, False), ("maybe\nn\n", False, False)],
)
def test_the_terminal_asks(
    server: ScriptedServer,
    store: ToolsStore,
    monkeypatch: pytest.MonkeyPatch,
    typed_text: str,
    ran: bool,
    saved: bool,
) -> None:
    typed(monkeypatch, typed_text)
    server.script(tool_reply(echo("hello")), Reply(text="ok"))
    code, _out, err = ask(server, "--tools")
    assert code == EXIT_OK, err
    assert err.count(PROMPT) == typed_text.count("\n")
    told = server.chat_requests()[1].json["messages"][-1]["content"]
    assert (told == "hello") is ran
    policies = store.load().server("evil").policies
    assert (policies.get("echo") is ToolPolicy.ALLOW) is saved


def test_a_long_result_is_folded_and_a_big_one_capped(
    server: ScriptedServer, store: ToolsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    server.script(tool_reply(ScriptedCall("evil__big", "{}")), Reply(text="ok"))
    code, _out, err = ask(server, "--allow-tool", "evil__big")
    assert code == EXIT_OK, err
    assert "result (" in err and "truncated" in err
    assert len(err) < 20_000  # a 1 MB result is shown folded
    assert folded("\n".join(str(i) for i in range(20)))[-1] == "    … 12 more lines"


def test_a_model_its_server_says_cannot_call_tools_gets_none(
    server: ScriptedServer, store: ToolsStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    server.props = {"chat_template_caps": {"supports_tools": False}}
    server.script(Reply(text="No tools here."))
    code, out, err = ask(server, "--allow-tool", ECHO)
    assert code == EXIT_OK and out == "No tools here.\n"
    assert "cannot call tools: asking without them" in err
    assert "tools" not in server.chat_requests()[0].json


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("props", "said"),
    [
        ({"chat_template_caps": {"supports_tools": True}}, True),
        ({"chat_template_caps": {}}, None),
        (None, None),
    ],
)
async def test_what_the_server_says_about_tools(
    server: ScriptedServer, props: dict[str, object] | None, said: bool | None
) -> None:
    server.props = props
    async with ModelClient(Endpoint.create(server.base_url, "k")) as client:
        assert await tools_supported(client, "ai/smollm2") is said


def test_ctrl_c_during_a_call_cancels_it_and_exits_130(server: ScriptedServer, store: ToolsStore) -> None:
    server.script(tool_reply(ScriptedCall("evil__hang", "{}")), Reply(text="never asked"))
    argv = [sys.executable, "-m", "trayai.cli", "ask", "--endpoint", server.base_url, "--no-resolve"]
    lines: list[str] = []
    with subprocess.Popen(
        [*argv, "--allow-tool", "evil__hang", "Hang."],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    ) as child:
        stderr = child.stderr
        assert stderr is not None
        reader = threading.Thread(target=lambda: lines.extend(iter(stderr.readline, "")), daemon=True)
        reader.start()
        try:
            wait_until(
                lambda: any("allowed by --allow-tool" in line for line in lines), 30, "the call to start"
            )
            child.send_signal(signal.SIGINT)
            assert child.wait(15) == EXIT_INTERRUPTED, "".join(lines)
        finally:
            child.kill()
            reader.join(5)
    assert len(server.chat_requests()) == 1  # the model was not asked again
