"""One MCP server connected through the official SDK (``mcp.ClientSession``): started, initialised, its
tools listed, each call bounded (timeout, result cap) and every way it fails turned into a typed
``TrayaiError`` (``TOOL_*``). A call that timed out or was cancelled is followed by a ping: a server
that no longer answers is stopped (the hub restarts it), so it is never left wedged.

The SDK needs its context managers entered and left in one task, so an owner task holds them open for
the connection's life; calls come from any task on the same asyncio loop.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any, Protocol

import anyio
import mcp_types
from mcp import ClientSession
from mcp.client._transport import TransportStreams
from mcp.shared.exceptions import MCPError

import trayai
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.wire import within
from trayai.core.strenum import StrEnum
from trayai.core.tools.config import ServerConfig
from trayai.core.tools.listing import ToolInfo, tool_info
from trayai.core.tools.results import ToolResult, result_text
from trayai.core.tools.stdio import StdioChild

CONNECT_TIMEOUT = 30.0  # start-up, initialize and the tool list
PING_TIMEOUT = 5.0  # after a cancelled call: answer this, or be restarted
MAX_TOOL_PAGES = 20
SSE_IDLE = 24 * 3600.0  # seconds an SSE stream may stay silent: an idle server sends nothing
START_GRACE = 2.0  # past the handshake's deadline: start() gives up on a server that never got that far


class Progress(Protocol):
    """Told each progress notification of a call: how much is done, of how much, and the server's words."""

    async def __call__(self, progress: float, total: float | None, message: str | None) -> None: ...


class ConnectionState(StrEnum):
    """Where one connection is: starting, connected, failed (``error`` says why), closed by trayai."""

    STARTING = "starting"
    CONNECTED = "connected"
    FAILED = "failed"
    CLOSED = "closed"


class ServerConnection:
    """One server, connected once (a new connection is a new object: the hub makes them).

    ``config`` must be resolved (secrets filled in, :meth:`ToolsStore.resolved`). ``on_ended`` is
    called once when the connection ends for any reason, after ``state`` and ``error`` are set.
    """

    def __init__(
        self,
        config: ServerConfig,
        *,
        connect_timeout: float = CONNECT_TIMEOUT,
        on_ended: Callable[[ServerConnection], None] | None = None,
    ) -> None:
        self.config = config
        self.connect_timeout = connect_timeout
        self.state = ConnectionState.STARTING
        self.error: TrayaiError | None = None
        self.tools: list[ToolInfo] = []
        self.server_version = ""
        self.child: StdioChild | None = None
        self._on_ended = on_ended
        self._session: ClientSession | None = None
        self._owner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop: anyio.Event | None = None
        self._closing = False
        self._checks: set[asyncio.Task[None]] = set()
        self._in_flight: list[str] = []  # the tools being called now: what a crash is said to be "during"

    @property
    def name(self) -> str:
        return self.config.name

    async def start(self) -> None:
        """Connect, initialise and list the tools; a ``TOOL_SERVER_FAILED`` error says why not."""
        self._stop = anyio.Event()
        if self.config.stdio is not None:
            self.child = StdioChild(self.config.stdio, ended=self._stop)
        self._owner = asyncio.create_task(self._own(), name=f"mcp:{self.name}")
        try:
            # The handshake has its own deadline; this one also covers what comes before it (an SSE
            # client waits for the server's endpoint event on entry, under a day-long read timeout).
            await within(self._ready.wait(), self.connect_timeout + START_GRACE)
        except TimeoutError:
            self.error = self.error or await self._failed(
                f"did not finish starting within {self.connect_timeout:g} s"
            )
            self._owner.cancel()
            await asyncio.wait({self._owner})
        if self.state is not ConnectionState.CONNECTED:
            raise self.error or make_error(
                ErrorCode.TOOL_UNAVAILABLE, f"Tool server {self.name!r} was closed while starting"
            )

    async def close(self) -> None:
        """Stop the server (bounded: stdin closed, SIGTERM, SIGKILL) and wait until it is gone; one
        still starting is not waited for (its handshake may take ``connect_timeout``)."""
        self._closing = True
        for check in list(self._checks):
            check.cancel()
        if self._stop is not None:
            self._stop.set()
        if self._owner is not None:
            if self.state is ConnectionState.STARTING:
                self._owner.cancel()
            await asyncio.wait({self._owner})  # its own outcome is in state/error; ours may still be a cancel

    async def call(
        self,
        tool: str,
        arguments: Mapping[str, Any],
        *,
        timeout: float | None = None,
        progress: Progress | None = None,
    ) -> ToolResult:
        """Call ``tool``; a result the tool marks as an error is still a result (the model reads it).
        ``progress(done, total, message)`` gets the server's progress notifications, for a card."""
        session = self._session
        if session is None or self.state is not ConnectionState.CONNECTED:
            raise make_error(
                ErrorCode.TOOL_UNAVAILABLE, f"Tool server {self.name!r} is not connected ({self.state})"
            )
        seconds = timeout if timeout is not None else self.config.timeout
        started = time.perf_counter()
        self._in_flight.append(tool)
        try:
            result = await within(
                session.call_tool(tool, dict(arguments), progress_callback=progress), seconds
            )
        except TimeoutError:
            self._check_alive()
            raise make_error(
                ErrorCode.TOOL_TIMEOUT, f"{self.name} · {tool} did not answer within {seconds:g} s"
            ) from None
        except asyncio.CancelledError:
            self._check_alive()
            raise
        except MCPError as exc:
            if exc.code == mcp_types.CONNECTION_CLOSED or self._ended():
                raise await self._gone(f"during {tool}") from None
            return ToolResult(self.name, tool, f"Error: {exc.error.message}", is_error=True)
        except Exception as exc:  # noqa: BLE001 - a result the SDK cannot read (wrong shape, bad schema)
            if self._ended():
                raise await self._gone(f"during {tool}") from None
            raise make_error(
                ErrorCode.TOOL_PROTOCOL,
                f"{self.name} · {tool} answered in a shape MCP does not allow",
                detail=f"{type(exc).__name__}: {exc}"[:500],
            ) from None
        finally:
            self._in_flight.remove(tool)
        text, truncated = result_text(result)
        return ToolResult(
            self.name,
            tool,
            text,
            is_error=bool(result.is_error),
            truncated=truncated,
            seconds=time.perf_counter() - started,
        )

    async def _own(self) -> None:
        try:
            async with (
                self._streams() as (read, write),
                ClientSession(
                    read,
                    write,
                    client_info=mcp_types.Implementation(name="trayai", version=trayai.__version__),
                ) as session,
            ):
                await within(self._handshake(session), self.connect_timeout)
                self._session = session
                self.state = ConnectionState.CONNECTED
                self._ready.set()
                assert self._stop is not None
                await self._stop.wait()
                self._session = None
                if not self._closing and self.error is None:
                    self.error = await self._gone(self._when())
        except BaseException as exc:  # every way it ends is said; cancellations go on
            leaf = _leaf(exc)
            if not isinstance(leaf, Exception):
                raise
            if self.error is None and not self._closing:
                self.error = await self._describe(leaf)
        finally:
            self._session = None
            self.state = ConnectionState.CLOSED if self._closing else ConnectionState.FAILED
            if self.state is ConnectionState.FAILED and self.error is None:
                self.error = make_error(ErrorCode.TOOL_SERVER_FAILED, f"Tool server {self.name!r} stopped")
            self._ready.set()
            if self._on_ended is not None:
                self._on_ended(self)

    def _when(self) -> str:
        return f"during {self._in_flight[-1]}" if self._in_flight else "while idle"

    async def _describe(self, exc: Exception) -> TrayaiError:
        if self.state is ConnectionState.CONNECTED:
            return await self._gone(self._when())
        if isinstance(exc, TimeoutError):
            return await self._failed(f"did not finish starting within {self.connect_timeout:g} s")
        if isinstance(exc, OSError):
            return await self._failed(f"cannot be started: {exc.strerror or exc}")
        if isinstance(exc, MCPError) and exc.code != mcp_types.CONNECTION_CLOSED:
            return await self._failed(f"refused to start: {exc.error.message}")
        if self.child is not None:
            await self._exit_status()
            code = self.child.returncode
            why = "closed the connection" if code is None else f"exited (exit code {code})"
            return await self._failed(f"{why} while starting")
        return await self._failed(f"could not be reached: {type(exc).__name__}: {exc}"[:300])

    @asynccontextmanager
    async def _streams(self) -> AsyncIterator[TransportStreams]:
        if self.child is not None:
            async with self.child.streams() as streams:
                yield streams
            return
        assert self.config.http is not None
        if self.config.http.sse:
            async with self._sse_streams() as streams:
                yield streams
            return
        # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
        import httpx2

        # lazy: mcp is loaded only when used: start-up time and memory
        from mcp.client.streamable_http import streamable_http_client

        client = httpx2.AsyncClient(
            headers=dict(self.config.http.headers),
            timeout=httpx2.Timeout(30.0, read=self.config.timeout + 5.0),
            follow_redirects=False,
        )
        async with client, streamable_http_client(self.config.http.url, http_client=client) as streams:
            yield streams

    @asynccontextmanager
    async def _sse_streams(self) -> AsyncIterator[TransportStreams]:
        """The older HTTP+SSE transport: an event stream that stays open (idle for as long as the
        server is: a dead one is found by the next call's timeout and ping) and a POST per message."""
        # lazy: mcp is loaded only when used: start-up time and memory
        from mcp.client.sse import sse_client

        assert self.config.http is not None
        async with sse_client(
            self.config.http.url,
            headers=dict(self.config.http.headers),
            timeout=30.0,
            sse_read_timeout=SSE_IDLE,
        ) as (read, write):
            yield read, write

    async def _handshake(self, session: ClientSession) -> None:
        init = await session.initialize()
        self.server_version = f"{init.server_info.name} {init.server_info.version}".strip()
        tools: list[ToolInfo] = []
        cursor: str | None = None
        for _ in range(MAX_TOOL_PAGES):
            params = mcp_types.PaginatedRequestParams(cursor=cursor) if cursor else None
            page = await session.list_tools(params=params)
            tools += [tool_info(self.name, tool) for tool in page.tools]
            cursor = page.next_cursor
            if not cursor:
                break
        self.tools = tools

    def _ended(self) -> bool:
        return self._stop is not None and self._stop.is_set() and not self._closing

    async def _gone(self, when: str) -> TrayaiError:
        """The error for a server that went away: its fault (flood, junk) or its exit, with stderr."""
        if self.error is not None:
            return self.error
        child = self.child
        if child is not None and child.fault is not None:
            words = "sent too much" if child.fault.code is ErrorCode.TOOL_FLOOD else "broke the protocol"
            self.error = make_error(
                child.fault.code, f"{self.name} {words} {when}", detail=child.fault.detail
            )
            return self.error
        await self._exit_status()
        code = child.returncode if child is not None else None
        status = f" (exit code {code})" if code is not None else ""
        if self.error is None:  # the call and the owner task may both get here: one error for both
            self.error = make_error(
                ErrorCode.TOOL_SERVER_EXITED,
                f"Tool server {self.name!r} exited {when}{status}",
                detail=self._stderr(),
            )
        return self.error

    async def _exit_status(self) -> None:
        """Wait (≤ 1 s) for the child's exit status and last stderr words: they arrive just after its
        stdout closes."""
        if self.child is not None and self.child.ended.is_set():
            with anyio.move_on_after(1.0):
                while self.child.returncode is None:
                    await anyio.sleep(0.01)
                await self.child.stderr_done.wait()

    async def _failed(self, why: str) -> TrayaiError:
        if self.child is not None and self.child.fault is not None:
            return await self._gone("while starting")
        return make_error(
            ErrorCode.TOOL_SERVER_FAILED, f"Tool server {self.name!r} {why}", detail=self._stderr()
        )

    def _stderr(self) -> str | None:
        return (self.child.stderr.tail() or None) if self.child is not None else None

    def _check_alive(self) -> None:
        """After an abandoned call: a server that does not answer a ping is stopped (and restarted)."""
        session = self._session
        if session is None or self._closing:
            return

        async def ping() -> None:
            try:
                await within(session.send_ping(), PING_TIMEOUT)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - no answer, whatever the reason: restart it
                if not self._closing and self._stop is not None and not self._stop.is_set():
                    self.error = make_error(
                        ErrorCode.TOOL_TIMEOUT,
                        f"Tool server {self.name!r} stopped answering after a cancelled call: restarted",
                        detail=self._stderr(),
                    )
                    self._stop.set()

        task = asyncio.create_task(ping(), name=f"mcp-ping:{self.name}")
        self._checks.add(task)
        task.add_done_callback(self._checks.discard)


def _leaf(exc: BaseException) -> BaseException:
    """The first real failure inside anyio's exception groups (cancellations of siblings skipped).
    Groups are told by their ``exceptions`` (``BaseExceptionGroup`` is a 3.11 name)."""
    cancelled = (asyncio.CancelledError, anyio.get_cancelled_exc_class())
    while isinstance(inner := getattr(exc, "exceptions", None), tuple) and inner:
        exc = next((e for e in inner if not isinstance(e, cancelled)), inner[0])
    return exc
