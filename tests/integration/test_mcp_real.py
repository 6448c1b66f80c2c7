"""Real MCP servers run by the tests: mcp-server-time and mcp-server-git (PyPI, installed by the test
extra), @modelcontextprotocol/server-everything and server-filesystem (npm, installed once into
~/.cache/trayai-tests by tests/support/mcp_npm.py). Their tools listed and called through trayai's
hub and connection; a call cancelled; a server killed and restarted; Streamable HTTP and the older SSE
transport."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.support.mcp_npm import NpmServers, ensure_installed
from tests.support.ports import free_port
from tests.support.waiting import until, wait_until
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.tools.calls import ToolCallAssembler, check_arguments
from trayai.core.tools.config import HttpEndpoint, ServerConfig, StdioLaunch, ToolsConfig, parse_servers
from trayai.core.tools.hub import Backoff, ToolHub, ToolServerState
from trayai.core.tools.session import ConnectionState, ServerConnection

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.integration


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def npm() -> NpmServers:
    return ensure_installed()  # a failed install fails these tests with npm's output


def _stdio(name: str, argv: list[str]) -> ServerConfig:
    return ServerConfig(name, stdio=StdioLaunch(argv[0], tuple(argv[1:])))


@pytest.fixture
async def hub() -> AsyncIterator[ToolHub]:
    hub = ToolHub(backoff=Backoff(first=0.1, longest=1.0))
    yield hub
    await hub.close()


@pytest.mark.anyio
async def test_time_server_through_the_hub_as_the_model_calls_it(hub: ToolHub) -> None:
    hub.apply(
        ToolsConfig({"time": _stdio("time", [str(BIN / "mcp-server-time"), "--local-timezone", "UTC"])})
    )
    assert await hub.settled(60)
    assert hub.status("time").state is ToolServerState.CONNECTED, hub.status("time").reason
    names = [entry["function"]["name"] for entry in hub.openai_tools()]
    assert names == ["time__get_current_time", "time__convert_time"]

    # the model's call, streamed in fragments, checked against the real schema, then run
    assembler = ToolCallAssembler()
    assembler.feed(
        {"tool_calls": [{"index": 0, "id": "call_1", "function": {"name": "time__get_current_time"}}]}
    )
    for fragment in ('{"timez', 'one": "Asia/', 'Tokyo"}'):
        assembler.feed({"tool_calls": [{"index": 0, "function": {"arguments": fragment}}]})
    [call] = assembler.calls()
    tool = hub.lookup(call.name)
    assert tool is not None and tool.info.read_only
    check = check_arguments(call, tool.info.input_schema)
    assert check.arguments == {"timezone": "Asia/Tokyo"}
    result = await hub.call(call.name, check.arguments)
    answer = json.loads(result.text)
    assert answer["timezone"] == "Asia/Tokyo" and answer["datetime"].endswith("+09:00")
    assert not result.is_error and result.seconds < 10

    missing = check_arguments(call.__class__(0, "c", call.name, "{}"), tool.info.input_schema)
    assert missing.problem == "the arguments: 'timezone' is a required property"
    wrong = await hub.call("time__get_current_time", {"timezone": "Mars/Olympus_Mons"})
    assert wrong.is_error and "Mars/Olympus_Mons" in wrong.text  # the tool's own error, for the model


@pytest.mark.anyio
async def test_git_server_on_a_temporary_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t"}
    env["GIT_COMMITTER_EMAIL"] = "t@e"
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "."],
        ["git", "commit", "-qm", "First: hello"],
    ):
        (repo / "hello.txt").write_text("hello\n")
        subprocess.run(argv, cwd=repo, env=env, check=True, timeout=30)
    (repo / "hello.txt").write_text("hello again\n")
    connection = ServerConnection(_stdio("git", [str(BIN / "mcp-server-git"), "--repository", str(repo)]))
    await connection.start()
    try:
        names = {tool.name for tool in connection.tools}
        assert {"git_status", "git_log", "git_diff_unstaged"} <= names
        status = await connection.call("git_status", {"repo_path": str(repo)})
        assert "hello.txt" in status.text and not status.is_error
        log = await connection.call("git_log", {"repo_path": str(repo), "max_count": 5})
        assert "First: hello" in log.text
        diff = await connection.call("git_diff_unstaged", {"repo_path": str(repo)})
        assert "+hello again" in diff.text
    finally:
        await connection.close()


@pytest.mark.anyio
async def test_filesystem_server_on_a_temporary_folder(npm: NpmServers, tmp_path: Path) -> None:
    allowed = tmp_path / "allowed"
    allowed.mkdir()
    (tmp_path / "secret.txt").write_text("outside\n")
    connection = ServerConnection(_stdio("fs", npm.filesystem(allowed)))
    await connection.start()
    try:
        names = {tool.name for tool in connection.tools}
        assert {"read_text_file", "write_file", "list_directory"} <= names
        wrote = await connection.call("write_file", {"path": str(allowed / "note.md"), "content": "# Note\n"})
        assert not wrote.is_error, wrote.text
        assert (allowed / "note.md").read_text() == "# Note\n"
        read = await connection.call("read_text_file", {"path": str(allowed / "note.md")})
        assert read.text == "# Note\n"
        outside = await connection.call("read_text_file", {"path": str(tmp_path / "secret.txt")})
        assert outside.is_error and "outside\n" not in outside.text, outside.text
    finally:
        await connection.close()


@pytest.mark.anyio
async def test_everything_server_content_kinds_and_a_capped_result(npm: NpmServers) -> None:
    connection = ServerConnection(_stdio("everything", npm.everything))
    await connection.start()
    try:
        assert (await connection.call("echo", {"message": "hi"})).text == "Echo: hi"
        image = await connection.call("get-tiny-image", {})
        assert "[image: image/png," in image.text and "not shown]" in image.text  # never fetched or drawn
        links = await connection.call("get-resource-links", {"count": 2})
        assert "[resource link: demo://resource/" in links.text
        structured = await connection.call("get-structured-content", {"location": "New York"})
        assert "temperature" in structured.text
        big = await connection.call("echo", {"message": "x" * (600 * 1024)})
        assert (
            big.truncated
            and "[… truncated: the tool returned 600 KB; the first 256 KB are shown]" in big.text
        )
    finally:
        await connection.close()


@pytest.mark.anyio
async def test_progress_of_a_long_call(npm: NpmServers) -> None:
    seen: list[tuple[float, float | None]] = []

    async def progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total))

    connection = ServerConnection(_stdio("everything", npm.everything))
    await connection.start()
    try:
        result = await connection.call(
            "trigger-long-running-operation", {"duration": 0.3, "steps": 3}, progress=progress
        )
        assert "Long running operation completed" in result.text
        assert seen == [(1, 3), (2, 3), (3, 3)]
    finally:
        await connection.close()


@pytest.mark.anyio
async def test_cancel_a_long_call_and_the_server_still_answers(npm: NpmServers) -> None:
    connection = ServerConnection(_stdio("everything", npm.everything))
    await connection.start()
    try:
        call = asyncio.create_task(
            connection.call("trigger-long-running-operation", {"duration": 30, "steps": 30})
        )
        await until(lambda: bool(connection._in_flight), what="the long call in flight")
        started = time.monotonic()
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert time.monotonic() - started < 2  # Stop is immediate
        echo = await connection.call("echo", {"message": "after"}, timeout=5)
        assert echo.text == "Echo: after"  # not wedged
        await until(lambda: not connection._checks, what="the ping after the cancel")
        assert connection.state is ConnectionState.CONNECTED  # it answered the ping: kept
        with pytest.raises(TrayaiError) as slow:
            await connection.call("trigger-long-running-operation", {"duration": 10, "steps": 2}, timeout=0.5)
        assert slow.value.code is ErrorCode.TOOL_TIMEOUT
        assert (await connection.call("echo", {"message": "still"}, timeout=5)).text == "Echo: still"
    finally:
        await connection.close()
    assert connection.child is not None and connection.child.returncode is not None


@pytest.mark.anyio
async def test_a_killed_server_is_restarted(hub: ToolHub) -> None:
    hub.apply(ToolsConfig({"time": _stdio("time", [str(BIN / "mcp-server-time")])}))
    assert await hub.settled(60)
    first = hub._servers["time"].connection
    assert first is not None and first.child is not None and first.child.process is not None
    os.kill(first.child.process.pid, signal.SIGKILL)
    assert await hub.wait_until(lambda s: s[0].restarts == 1 and s[0].state is ToolServerState.CONNECTED, 60)
    result = await hub.call("time__get_current_time", {"timezone": "UTC"})
    assert json.loads(result.text)["timezone"] == "UTC"


@contextmanager
def everything_over(npm: NpmServers, mode: str, ready: str, path: str) -> Iterator[str]:
    """server-everything serving over HTTP in ``mode`` on a free port; yields its URL. Its stderr
    is read until it says ``ready`` (and shown if it never does)."""
    port = free_port()
    process = subprocess.Popen(
        [*npm.everything[:2], mode],
        env={**os.environ, "PORT": str(port)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    stderr = process.stderr
    assert stderr is not None
    said: list[str] = []

    def listening() -> bool:
        said.append(stderr.readline())
        return ready in said[-1]

    try:
        try:
            wait_until(listening, timeout=30, what=f"server-everything {mode} listening")
        except AssertionError as exc:
            raise AssertionError(f"{exc}; it said: {''.join(said)[-2000:]!r}") from None
        yield f"http://127.0.0.1:{port}{path}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        stderr.close()


@pytest.fixture
def everything_http(npm: NpmServers) -> Iterator[str]:
    with everything_over(npm, "streamableHttp", "listening on port", "/mcp") as url:
        yield url


@pytest.fixture
def everything_sse(npm: NpmServers) -> Iterator[str]:
    with everything_over(npm, "sse", "Server is running on port", "/sse") as url:
        yield url


@pytest.mark.anyio
async def test_streamable_http(everything_http: str) -> None:
    server = ServerConfig("web", http=HttpEndpoint(everything_http, {"X-Test": "1"}))
    connection = ServerConnection(server)
    await connection.start()
    try:
        assert "echo" in {tool.name for tool in connection.tools}
        assert (await connection.call("echo", {"message": "over http"})).text == "Echo: over http"
    finally:
        await connection.close()


@pytest.mark.anyio
async def test_the_older_sse_transport_through_the_hub(everything_sse: str) -> None:
    """A server made before Streamable HTTP (``"type": "sse"`` in Claude Desktop's file): connected,
    listed, called through the hub as the model would, and stopped."""
    (server,) = parse_servers(json.dumps({"mcpServers": {"old": {"type": "sse", "url": everything_sse}}}))
    hub = ToolHub()
    hub.apply(ToolsConfig({"old": server}))
    try:
        assert await hub.settled(30), hub.statuses()
        status = hub.status("old")
        assert status.state is ToolServerState.CONNECTED, status.reason
        assert "old__echo" in {tool.name for tool in hub.tools()}
        assert (await hub.call("old__echo", {"message": "over sse"})).text == "Echo: over sse"
    finally:
        await hub.close()
