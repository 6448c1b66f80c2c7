"""Hostile MCP servers (tests/support/hostile_mcp.py): every way a server misbehaves ends that call with
a typed error, in bounded time and memory, and never leaves a process behind."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import psutil
import pytest

from tests.support.hostile_mcp import ARGV
from tests.support.waiting import until
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.tools import session as session_module
from trayai.core.tools.config import ServerConfig, StdioLaunch
from trayai.core.tools.results import MAX_RESULT_BYTES
from trayai.core.tools.session import ConnectionState, ServerConnection


def hostile(*flags: str, timeout: float = 60.0) -> ServerConfig:
    return ServerConfig("hostile", stdio=StdioLaunch(ARGV[0], (*ARGV[1:], *flags)), timeout=timeout)


@pytest.fixture
async def connection() -> AsyncIterator[ServerConnection]:
    connection = ServerConnection(hostile(), connect_timeout=10)
    await connection.start()
    yield connection
    await connection.close()
    assert connection.child is not None and connection.child.returncode is not None  # no process left


async def _fails(connection: ServerConnection, tool: str, code: ErrorCode, bound: float) -> TrayaiError:
    started = time.monotonic()
    with pytest.raises(TrayaiError) as failed:
        await connection.call(tool, {}, timeout=1.0)
    assert failed.value.code is code, failed.value.message
    assert time.monotonic() - started < bound
    return failed.value


@pytest.mark.anyio
async def test_a_well_behaved_call_and_its_tools(connection: ServerConnection) -> None:
    assert connection.state is ConnectionState.CONNECTED and connection.server_version == "hostile 1.0"
    assert [tool.name for tool in connection.tools] == [
        "echo",
        "hang",
        "flood",
        "crash",
        "junk",
        "bad",
        "big",
    ]
    result = await connection.call("echo", {"text": "hi"})
    assert (result.text, result.is_error, result.truncated) == ("hi", False, False)
    unknown = await connection.call("nope", {})
    assert unknown.is_error and "no tool nope" in unknown.text  # a JSON-RPC error is a result the model reads


@pytest.mark.anyio
async def test_crash_mid_call(connection: ServerConnection) -> None:
    error = await _fails(connection, "crash", ErrorCode.TOOL_SERVER_EXITED, 5.0)
    assert "exited during crash (exit code 3)" in error.message
    assert error.detail == "hostile: crashing on purpose mid-call"  # its stderr, said with the error
    await until(lambda: connection.state is ConnectionState.FAILED, what="the connection ended")
    assert connection.error is error


@pytest.mark.anyio
async def test_junk_on_stdout(connection: ServerConnection) -> None:
    error = await _fails(connection, "junk", ErrorCode.TOOL_PROTOCOL, 5.0)
    assert "broke the protocol during junk" in error.message
    assert "This banner is not JSON-RPC" in (error.detail or "")


@pytest.mark.anyio
async def test_a_result_mcp_does_not_allow(connection: ServerConnection) -> None:
    error = await _fails(connection, "bad", ErrorCode.TOOL_PROTOCOL, 5.0)
    assert "answered in a shape MCP does not allow" in error.message
    assert (await connection.call("echo", {"text": "still here"})).text == "still here"  # the stream is fine


@pytest.mark.anyio
async def test_flood_is_cut_in_bounded_memory(connection: ServerConnection) -> None:
    before = psutil.Process().memory_info().rss
    error = await _fails(connection, "flood", ErrorCode.TOOL_FLOOD, 15.0)
    grown = psutil.Process().memory_info().rss - before
    assert "sent too much during flood" in error.message and "over 16 MB" in (error.detail or "")
    assert grown < 120 * 1024 * 1024, grown  # the server wrote 64 MB; we keep at most one 16 MB line


@pytest.mark.anyio
async def test_a_big_result_is_capped(connection: ServerConnection) -> None:
    result = await connection.call("big", {})
    assert result.truncated and len(result.text.encode()) < MAX_RESULT_BYTES + 200
    assert "[… truncated: the tool returned 1024 KB; the first 256 KB are shown]" in result.text


@pytest.mark.anyio
async def test_hang_times_out_then_the_wedged_server_is_stopped(
    connection: ServerConnection, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(session_module, "PING_TIMEOUT", 0.5)
    error = await _fails(connection, "hang", ErrorCode.TOOL_TIMEOUT, 5.0)
    assert error.message == "hostile · hang did not answer within 1 s"
    await until(
        lambda: connection.state is ConnectionState.FAILED, timeout=10, what="the wedged server stopped"
    )
    assert (
        connection.error is not None
        and "stopped answering after a cancelled call" in connection.error.message
    )
    assert connection.child is not None
    await until(
        lambda: connection.child is not None and connection.child.returncode is not None, what="its exit"
    )


@pytest.mark.anyio
async def test_cancel_a_hanging_call(connection: ServerConnection, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_module, "PING_TIMEOUT", 0.5)
    call = asyncio.create_task(connection.call("hang", {}))
    await until(lambda: connection._in_flight == ["hang"], what="the call in flight")
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    await until(
        lambda: connection.state is ConnectionState.FAILED, timeout=10, what="the wedged server stopped"
    )


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("flag", "code", "words", "bound"),
    [
        ("--exit-at-start", ErrorCode.TOOL_SERVER_FAILED, "exited (exit code 2) while starting", 5.0),
        ("--junk-at-start", ErrorCode.TOOL_PROTOCOL, "broke the protocol while starting", 5.0),
        ("--silent-at-start", ErrorCode.TOOL_SERVER_FAILED, "did not finish starting within 1 s", 6.0),
    ],
)
async def test_start_up_faults(flag: str, code: ErrorCode, words: str, bound: float) -> None:
    connection = ServerConnection(hostile(flag), connect_timeout=1.0)
    started = time.monotonic()
    with pytest.raises(TrayaiError) as failed:
        await connection.start()
    assert failed.value.code is code and words in failed.value.message, failed.value.message
    assert time.monotonic() - started < bound
    assert connection.state is ConnectionState.FAILED
    assert connection.child is not None and connection.child.returncode is not None
    if flag == "--exit-at-start":
        assert failed.value.detail == "hostile: refusing to start"


@pytest.mark.anyio
async def test_a_command_that_does_not_exist() -> None:
    connection = ServerConnection(ServerConfig("nope", stdio=StdioLaunch("/nonexistent/mcp-server")))
    with pytest.raises(TrayaiError) as failed:
        await connection.start()
    assert failed.value.code is ErrorCode.TOOL_SERVER_FAILED
    assert failed.value.message == "Tool server 'nope' cannot be started: No such file or directory"


@pytest.mark.anyio
async def test_the_env_is_the_users_plus_the_configured_one(monkeypatch: pytest.MonkeyPatch) -> None:
    """The echo server is Python: it sees PATH (the user's) and the configured variable."""
    monkeypatch.setenv("TRAYAI_TEST_USER_VAR", "from-user")
    code = "import os,sys; sys.stderr.write(os.environ['TRAYAI_TEST_USER_VAR'] + os.environ['ADDED']); sys.exit(1)"
    launch = StdioLaunch(ARGV[0], ("-c", code), {"ADDED": "+configured"})
    connection = ServerConnection(ServerConfig("env", stdio=launch))
    with pytest.raises(TrayaiError) as failed:
        await connection.start()
    assert failed.value.detail == "from-user+configured"


@pytest.mark.anyio
async def test_calling_a_closed_connection_says_so(connection: ServerConnection) -> None:
    await connection.close()
    assert connection.state is ConnectionState.CLOSED
    with pytest.raises(TrayaiError) as failed:
        await connection.call("echo", {})
    assert failed.value.code is ErrorCode.TOOL_UNAVAILABLE


@pytest.mark.anyio
async def test_closing_a_server_that_is_still_starting_does_not_wait_for_it() -> None:
    connection = ServerConnection(hostile("--silent-at-start"), connect_timeout=60)
    starting = asyncio.create_task(connection.start())
    await until(lambda: connection.child is not None and connection.child.process is not None, what="spawned")
    started = time.monotonic()
    await connection.close()
    assert time.monotonic() - started < 5
    assert connection.state is ConnectionState.CLOSED
    assert connection.child is not None and connection.child.returncode is not None
    with pytest.raises(TrayaiError) as closed:
        await starting
    assert closed.value.message == "Tool server 'hostile' was closed while starting"
