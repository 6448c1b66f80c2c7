"""ToolHub: servers supervised (states, restart with back-off said once), tools under names that never
clash, policies applied without reconnecting."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import pytest

from tests.support.hostile_mcp import ARGV
from tests.support.waiting import until
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.redact import Redactor
from trayai.core.tools.config import ServerConfig, StdioLaunch, ToolPolicy, ToolsConfig
from trayai.core.tools.hub import Backoff, ServerStatus, ToolHub, ToolServerState

FAST = Backoff(first=0.05, longest=0.2, reset_after=60.0)


def hostile(name: str, *flags: str, **fields: object) -> ServerConfig:
    return ServerConfig(name, stdio=StdioLaunch(ARGV[0], (*ARGV[1:], *flags)), **fields)  # type: ignore[arg-type]


class Recorder:
    def __init__(self) -> None:
        self.changes: list[ServerStatus] = []
        self.notices: list[tuple[str, str]] = []

    def change(self, status: ServerStatus) -> None:
        self.changes.append(status)

    def notice(self, server: str, words: str) -> None:
        self.notices.append((server, words))


@pytest.fixture
def seen() -> Recorder:
    return Recorder()


@pytest.fixture
async def hub(seen: Recorder) -> AsyncIterator[ToolHub]:
    hub = ToolHub(on_change=seen.change, on_notice=seen.notice, backoff=FAST, connect_timeout=10)
    yield hub
    await hub.close()


def _connected_after(restarts: int) -> Callable[[list[ServerStatus]], bool]:
    return lambda statuses: (
        statuses[0].state is ToolServerState.CONNECTED and statuses[0].restarts == restarts
    )


def _states(hub: ToolHub) -> dict[str, ToolServerState]:
    return {status.name: status.state for status in hub.statuses()}


@pytest.mark.anyio
async def test_two_servers_tools_namespaced_and_called(hub: ToolHub) -> None:
    hub.apply(ToolsConfig({"a": hostile("a"), "b": hostile("b"), "off": hostile("off", enabled=False)}))
    assert await hub.settled(15)
    assert _states(hub) == {"a": "connected", "b": "connected", "off": "disabled"}
    names = [entry["function"]["name"] for entry in hub.openai_tools()]
    assert names[:2] == ["a__echo", "a__hang"] and "b__echo" in names and len(names) == 14
    entry = hub.openai_tools()[0]
    assert entry["type"] == "function" and entry["function"]["description"] == "misbehaves: echo"
    assert entry["function"]["parameters"]["properties"] == {"text": {"type": "string"}}
    assert (await hub.call("b__echo", {"text": "from b"})).server == "b"
    with pytest.raises(TrayaiError) as missing:
        await hub.call("off__echo", {})
    assert missing.value.code is ErrorCode.TOOL_UNAVAILABLE


@pytest.mark.anyio
async def test_a_crash_is_restarted_with_back_off_and_said_once(hub: ToolHub, seen: Recorder) -> None:
    hub.apply(ToolsConfig({"h": hostile("h")}))
    assert await hub.settled(15)
    for restarts in (1, 2):
        with pytest.raises(TrayaiError) as crashed:
            await hub.call("h__crash", {})
        assert crashed.value.code is ErrorCode.TOOL_SERVER_EXITED
        assert await hub.wait_until(_connected_after(restarts), 15)
    failed = [s for s in seen.changes if s.state is ToolServerState.FAILED]
    assert (
        failed
        and "exited during crash (exit code 3): hostile: crashing on purpose mid-call" in failed[0].reason
    )
    assert seen.notices == [
        (
            "h",
            "Tool server 'h' exited during crash (exit code 3): hostile: crashing on purpose mid-call; restarting it",
        )
    ]
    assert (await hub.call("h__echo", {"text": "back"})).text == "back"


@pytest.mark.anyio
async def test_a_server_that_cannot_start_keeps_failing_quietly(hub: ToolHub, seen: Recorder) -> None:
    hub.apply(ToolsConfig({"x": hostile("x", "--exit-at-start")}))
    assert await hub.wait_until(lambda s: s[0].restarts >= 3, 15)
    assert hub.status("x").state in (ToolServerState.FAILED, ToolServerState.STARTING)
    reasons = {s.reason for s in seen.changes if s.state is ToolServerState.FAILED}
    assert reasons == {"Tool server 'x' exited (exit code 2) while starting: hostile: refusing to start"}
    assert seen.notices == [
        (
            "x",
            "Tool server 'x' exited (exit code 2) while starting: hostile: refusing to start; trying again, less and less often",
        )
    ]
    assert hub.openai_tools() == []


@pytest.mark.anyio
async def test_policies_follow_without_reconnecting_and_never_hides_a_tool(hub: ToolHub) -> None:
    hub.apply(ToolsConfig({"h": hostile("h")}))
    assert await hub.settled(15)
    before = hub.status("h")
    hub.apply(
        ToolsConfig({"h": hostile("h", policies={"crash": ToolPolicy.NEVER, "echo": ToolPolicy.ALLOW})})
    )
    assert hub.status("h") is before  # the same connection
    names = [tool.name for tool in hub.tools()]
    assert "h__crash" not in names and "h__echo" in names
    crash = hub.lookup("h__crash")
    assert crash is not None and crash.policy is ToolPolicy.NEVER  # still found, to refuse by name
    echo = hub.lookup("h__echo")
    assert echo is not None and echo.policy is ToolPolicy.ALLOW


@pytest.mark.anyio
async def test_disable_and_remove_stop_the_server(hub: ToolHub) -> None:
    hub.apply(ToolsConfig({"h": hostile("h"), "g": hostile("g")}))
    assert await hub.settled(15)
    hub.apply(ToolsConfig({"h": hostile("h", enabled=False)}))
    assert _states(hub) == {"h": "disabled"}
    assert hub.openai_tools() == []
    await until(lambda: not hub._tasks.live(), what="supervisors ended")


@pytest.mark.anyio
async def test_secrets_it_resolved_are_redacted_from_results(seen: Recorder) -> None:
    def resolve(server: ServerConfig) -> ServerConfig:
        assert server.stdio is not None
        return server.with_values("env", {"API_TOKEN": "sk-tool-secret-42"})

    stored = hostile("h").with_values("env", {"API_TOKEN": "${keychain}"})
    redactor = Redactor()
    hub = ToolHub(resolve, redactor=redactor, backoff=FAST)
    try:
        hub.apply(ToolsConfig({"h": stored}))
        assert await hub.settled(15)
        result = await hub.call("h__echo", {"text": "the key is sk-tool-secret-42"})
        assert result.text == "the key is [redacted]"
    finally:
        await hub.close()
