"""``ToolHub``: every configured MCP server kept connected — one supervisor task each that starts it,
watches it, and restarts it with back-off after a crash (said once per streak) — its state for the
tray and Settings, and all their tools as one OpenAI ``tools`` list with names that never clash.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.wire import within
from trayai.core.redact import Redactor
from trayai.core.strenum import StrEnum
from trayai.core.tasks import TaskOwner
from trayai.core.tools.config import ServerConfig, ToolPolicy, ToolsConfig
from trayai.core.tools.listing import ToolInfo
from trayai.core.tools.names import qualified_name
from trayai.core.tools.results import ToolResult

if TYPE_CHECKING:  # the SDK (~50 MB, 0.6 s) is imported when the first server connects, not before
    from trayai.core.tools.session import Progress, ServerConnection


class ToolServerState(StrEnum):
    """A server as the tray shows it."""

    DISABLED = "disabled"
    STARTING = "starting"
    CONNECTED = "connected"
    FAILED = "failed"


@dataclass(frozen=True)
class ServerStatus:
    """One server's state, why it failed (one line), its tools while connected, restarts so far."""

    name: str
    state: ToolServerState
    reason: str = ""
    tools: tuple[ToolInfo, ...] = ()
    restarts: int = 0


@dataclass(frozen=True)
class Backoff:
    """Seconds between restarts: ``first``, doubled up to ``longest``; back to ``first`` (and said
    again) once a connection has lasted ``reset_after``."""

    first: float = 1.0
    longest: float = 60.0
    reset_after: float = 60.0


@dataclass(frozen=True)
class HubTool:
    """A tool under the name the model sees, and where it comes from."""

    name: str
    info: ToolInfo
    policy: ToolPolicy


@dataclass
class _Server:
    config: ServerConfig
    status: ServerStatus
    connection: ServerConnection | None = None
    ended: asyncio.Event = field(default_factory=asyncio.Event)


class ToolHub:
    """The servers of a :class:`ToolsConfig`, connected in the background (Qt-free, asyncio).

    ``resolve`` fills in a server's secrets (``ToolsStore.resolved``); ``on_change`` gets every new
    :class:`ServerStatus`; ``on_notice`` gets ``(server, sentence)`` once per crash streak. Secrets
    resolved are added to ``redactor``, and results pass through it.
    """

    def __init__(
        self,
        resolve: Callable[[ServerConfig], ServerConfig] = lambda server: server,
        *,
        on_change: Callable[[ServerStatus], None] | None = None,
        on_notice: Callable[[str, str], None] | None = None,
        redactor: Redactor | None = None,
        backoff: Backoff = Backoff(),
        connect_timeout: float | None = None,
    ) -> None:
        self._resolve = resolve
        self._on_change = on_change
        self._on_notice = on_notice
        self._redactor = redactor if redactor is not None else Redactor()
        self._backoff = backoff
        self._connect_timeout = connect_timeout
        self._servers: dict[str, _Server] = {}
        self._tasks = TaskOwner()
        self._changed = asyncio.Event()  # set (and replaced) at every status change
        self._names: dict[str, HubTool] = {}

    # ------------------------------------------------------------------ configuration

    def apply(self, config: ToolsConfig) -> None:
        """Follow ``config``: start new or changed enabled servers, stop removed or disabled ones.
        A change of policies alone keeps the connection."""
        for name in [name for name in self._servers if name not in config.servers]:
            self._tasks.cancel(name)
            del self._servers[name]
        for name, server in config.servers.items():
            held = self._servers.get(name)
            if (
                held is not None
                and _same_launch(held.config, server)
                and held.config.enabled == server.enabled
            ):
                held.config = server
                continue
            self._tasks.cancel(name)
            if not server.enabled:
                self._servers[name] = _Server(server, ServerStatus(name, ToolServerState.DISABLED))
                self._announce(self._servers[name].status)
                continue
            self._servers[name] = _Server(server, ServerStatus(name, ToolServerState.STARTING))
            self._announce(self._servers[name].status)
            self._tasks.exclusive(name, self._supervise(name))
        self._rename()

    async def close(self) -> None:
        """Stop every server (each bounded: stdin closed, SIGTERM, SIGKILL)."""
        await self._tasks.cancel_all()

    # ------------------------------------------------------------------ what the model and the tray see

    def statuses(self) -> list[ServerStatus]:
        return [server.status for server in self._servers.values()]

    def status(self, name: str) -> ServerStatus:
        return self._servers[name].status

    def tools(self) -> list[HubTool]:
        """Every connected server's tools under their model-facing names (those set to never left out)."""
        return [tool for tool in self._names.values() if tool.policy is not ToolPolicy.NEVER]

    def openai_tools(self) -> list[dict[str, Any]]:
        """The request's ``tools``: one ``function`` entry per tool."""
        return [
            {
                "type": "function",
                "function": {
                    "name": tool.name,
                    "description": tool.info.description,
                    "parameters": dict(tool.info.input_schema),
                },
            }
            for tool in self.tools()
        ]

    def lookup(self, name: str) -> HubTool | None:
        """The tool the model called by ``name`` (whatever its policy), or None."""
        return self._names.get(name)

    async def call(
        self,
        name: str,
        arguments: Mapping[str, Any],
        *,
        timeout: float | None = None,
        progress: Progress | None = None,
    ) -> ToolResult:
        """Run the tool called ``name`` now (the policy was decided before); its text redacted.
        ``progress`` gets the server's progress notifications (see ``ServerConnection.call``)."""
        tool = self._names.get(name)
        server = self._servers.get(tool.info.server) if tool is not None else None
        if tool is None or server is None or server.connection is None:
            raise make_error(ErrorCode.TOOL_UNAVAILABLE, f"No connected tool is called {name!r}")
        result = await server.connection.call(tool.info.name, arguments, timeout=timeout, progress=progress)
        text = self._redactor.redact_secrets(result.text)
        return result if text == result.text else replace(result, text=text)

    async def wait_until(self, ready: Callable[[list[ServerStatus]], bool], timeout: float) -> bool:
        """Wait (≤ ``timeout`` s) until ``ready(statuses)``; False when it never was."""
        deadline = time.monotonic() + timeout
        while not ready(self.statuses()):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                await within(self._changed.wait(), remaining)
            except TimeoutError:
                return False
        return True

    async def settled(self, timeout: float) -> bool:
        """Wait until no server is starting."""
        return await self.wait_until(
            lambda statuses: all(s.state is not ToolServerState.STARTING for s in statuses), timeout
        )

    # ------------------------------------------------------------------ supervision

    async def _supervise(self, name: str) -> None:
        delay, said, restarts = self._backoff.first, False, 0
        held = self._servers[name]
        try:
            while True:
                connection, error = await self._connect(held)
                if connection is None:
                    assert error is not None
                    self._set(held, ToolServerState.FAILED, _reason(error), restarts=restarts)
                    if not said:
                        self._notice(name, f"{_reason(error)}; trying again, less and less often")
                        said = True
                else:
                    connected_at = time.monotonic()
                    held.connection = connection
                    self._set(
                        held, ToolServerState.CONNECTED, tools=tuple(connection.tools), restarts=restarts
                    )
                    await held.ended.wait()
                    held.connection = None
                    why = _reason(connection.error) if connection.error is not None else "stopped"
                    if time.monotonic() - connected_at >= self._backoff.reset_after:
                        delay, said = self._backoff.first, False
                    self._set(held, ToolServerState.FAILED, why, restarts=restarts)
                    if not said:
                        self._notice(name, f"{why}; restarting it")
                        said = True
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._backoff.longest)
                restarts += 1
                self._set(held, ToolServerState.STARTING, restarts=restarts)
        finally:
            if held.connection is not None:
                await _stop_through_cancels(held.connection)
                held.connection = None

    async def _connect(self, held: _Server) -> tuple[ServerConnection | None, TrayaiError | None]:
        held.ended = asyncio.Event()
        ended = held.ended
        try:
            resolved = self._resolve(held.config)
        except TrayaiError as error:
            return None, error
        for secret in _secrets_of(resolved, held.config):
            self._redactor.add_secret(secret)
        # lazy: the MCP SDK loads with the first server, not the hub (0.71 s and 53 MB measured)
        from trayai.core.tools.session import CONNECT_TIMEOUT, ServerConnection

        connection = ServerConnection(
            resolved,
            connect_timeout=self._connect_timeout or CONNECT_TIMEOUT,
            on_ended=lambda _connection: ended.set(),
        )
        try:
            await connection.start()
        except TrayaiError as error:
            return None, error
        except asyncio.CancelledError:
            await _stop_through_cancels(connection)
            raise
        return connection, None

    def _set(
        self,
        held: _Server,
        state: ToolServerState,
        reason: str = "",
        *,
        tools: tuple[ToolInfo, ...] = (),
        restarts: int = 0,
    ) -> None:
        held.status = ServerStatus(held.config.name, state, reason, tools, restarts)
        self._rename()
        self._announce(held.status)

    def _announce(self, status: ServerStatus) -> None:
        if self._on_change is not None:
            self._on_change(status)
        self._changed.set()
        self._changed = asyncio.Event()

    def _notice(self, server: str, words: str) -> None:
        if self._on_notice is not None:
            self._on_notice(server, words)

    def _rename(self) -> None:
        """The model-facing names, in configuration order (stable while the servers' tools are)."""
        names: dict[str, HubTool] = {}
        for server in self._servers.values():
            for info in server.status.tools:
                name = qualified_name(info.server, info.name, frozenset(names))
                names[name] = HubTool(name, info, server.config.policy(info.name))
        self._names = names


async def _stop_through_cancels(connection: ServerConnection) -> None:
    """Stop ``connection`` to the end (bounded: stdin, SIGTERM, SIGKILL) even when cancelled again
    meanwhile — a server disabled, then Quit — so no stdio server outlives the app; then re-cancel."""
    stopping = asyncio.ensure_future(connection.close())
    cancelled = False
    while not stopping.done():
        try:
            await asyncio.shield(stopping)
        except asyncio.CancelledError:
            cancelled = True
    if cancelled:
        raise asyncio.CancelledError


def _same_launch(old: ServerConfig, new: ServerConfig) -> bool:
    return (old.stdio, old.http, old.timeout) == (new.stdio, new.http, new.timeout)


def _secrets_of(resolved: ServerConfig, stored: ServerConfig) -> list[str]:
    """The values the keychain filled in (what a result must never show)."""
    pairs = [(resolved.stdio.env, stored.stdio.env)] if resolved.stdio and stored.stdio else []
    if resolved.http and stored.http:
        pairs.append((resolved.http.headers, stored.http.headers))
    return [value for now, before in pairs for key, value in now.items() if before.get(key) != value]


def _reason(error: TrayaiError) -> str:
    """One line: the message, and the last line of the server's own words (its stderr) when there are some."""
    detail = (error.detail or "").strip().splitlines()
    return f"{error.message}: {detail[-1]}" if detail else error.message
