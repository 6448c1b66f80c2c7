"""A stdio MCP server as a child process, with the limits the SDK's own transport does not have: a line
larger than :data:`MAX_LINE` (a flood) or anything on stdout that is not JSON-RPC (a banner, junk)
ends the connection with a recorded :class:`Fault`; stderr is kept in a bounded :class:`StderrLog`.

It yields the SDK's stream pair, so ``mcp.ClientSession`` runs on it unchanged. The child gets the
user's environment plus the configured ``env``, runs from an argv list (never a shell), in its own
process group, and is stopped as MCP says: stdin closed, then SIGTERM, then SIGKILL, each bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio
import anyio.abc
from mcp.client._transport import TransportStreams
from mcp.shared.message import SessionMessage
from mcp_types import jsonrpc_message_adapter

from trayai.core.error_catalog import ErrorCode
from trayai.core.tools.config import StdioLaunch

MAX_LINE = 16 * 1024 * 1024  # one JSON-RPC message; a result is cut to 256 KB later, but images are large
STDERR_BYTES = 64 * 1024  # what is kept of the server's stderr (its last lines)
EXIT_GRACE = 1.0  # seconds a server gets to exit after its stdin closes, then again after SIGTERM
_JUNK_SHOWN = 200


@dataclass(frozen=True)
class Fault:
    """Why trayai itself ended a connection: a flood or junk on stdout (with what it was)."""

    code: ErrorCode
    detail: str


class StderrLog:
    """The last :data:`STDERR_BYTES` of a server's stderr: what it said before failing."""

    def __init__(self, limit: int = STDERR_BYTES) -> None:
        self._chunks: deque[bytes] = deque()
        self._size = 0
        self._limit = limit

    def add(self, chunk: bytes) -> None:
        self._chunks.append(chunk)
        self._size += len(chunk)
        while self._size > self._limit and len(self._chunks) > 1:
            self._size -= len(self._chunks.popleft())
        if self._size > self._limit:  # one huge chunk: keep its end
            only = self._chunks.pop()[-self._limit :]
            self._chunks.append(only)
            self._size = len(only)

    def text(self) -> str:
        return b"".join(self._chunks).decode("utf-8", errors="replace")

    def tail(self, lines: int = 5) -> str:
        """The last non-empty lines, for an error message."""
        kept = [line for line in self.text().splitlines() if line.strip()]
        return "\n".join(kept[-lines:])


class StdioChild:
    """One running stdio server: its process, stderr log, the fault that ended it, and ``ended`` (set
    when its stdout closes or trayai stops reading it) — the connection's way to notice a crash."""

    def __init__(self, launch: StdioLaunch, ended: anyio.Event) -> None:
        self.launch = launch
        self.stderr = StderrLog()
        self.fault: Fault | None = None
        self.ended = ended
        self.stderr_done = anyio.Event()  # its stderr closed: every word it said is in ``stderr``
        self.process: anyio.abc.Process | None = None

    @property
    def returncode(self) -> int | None:
        return None if self.process is None else self.process.returncode

    @asynccontextmanager
    async def streams(self) -> AsyncIterator[TransportStreams]:
        """Start the server and yield the SDK's (read, write) streams; stop it on the way out."""
        self.process = process = await anyio.open_process(
            self.launch.argv,
            env={**os.environ, **self.launch.env},
            cwd=self.launch.cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        incoming_in, incoming = anyio.create_memory_object_stream[SessionMessage | Exception](0)
        outgoing, outgoing_out = anyio.create_memory_object_stream[SessionMessage](0)
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(self._read_stdout, process, incoming_in)
            tasks.start_soon(self._read_stderr, process)
            tasks.start_soon(self._write_stdin, process, outgoing_out)
            try:
                yield incoming, outgoing
            finally:
                with anyio.CancelScope(shield=True):
                    outgoing.close()
                    incoming.close()
                    await stop_process(process)
                tasks.cancel_scope.cancel()

    async def _read_stdout(
        self, process: anyio.abc.Process, sink: anyio.abc.ObjectSendStream[SessionMessage | Exception]
    ) -> None:
        assert process.stdout is not None
        buffer = bytearray()
        scanned = 0  # bytes of ``buffer`` known to hold no newline
        try:
            async with sink:
                async for chunk in process.stdout:
                    buffer += chunk
                    while (end := buffer.find(b"\n", scanned)) >= 0:
                        line = bytes(buffer[:end])
                        del buffer[: end + 1]
                        scanned = 0
                        if line.strip() and not await self._deliver(line, sink):
                            return
                    scanned = len(buffer)
                    if scanned > MAX_LINE:
                        self.fault = Fault(
                            ErrorCode.TOOL_FLOOD, f"a message over {MAX_LINE // (1024 * 1024)} MB on stdout"
                        )
                        return
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            pass
        finally:
            self.ended.set()

    async def _deliver(
        self, line: bytes, sink: anyio.abc.ObjectSendStream[SessionMessage | Exception]
    ) -> bool:
        try:
            message = jsonrpc_message_adapter.validate_json(line, by_name=False)
        except ValueError:
            shown = line[:_JUNK_SHOWN].decode("utf-8", errors="replace")
            self.fault = Fault(ErrorCode.TOOL_PROTOCOL, f"not JSON-RPC on stdout: {shown!r}")
            return False
        await sink.send(SessionMessage(message))
        return True

    async def _read_stderr(self, process: anyio.abc.Process) -> None:
        assert process.stderr is not None
        try:
            with contextlib.suppress(anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
                async for chunk in process.stderr:
                    self.stderr.add(chunk)
        finally:
            self.stderr_done.set()

    async def _write_stdin(
        self, process: anyio.abc.Process, source: anyio.abc.ObjectReceiveStream[SessionMessage]
    ) -> None:
        assert process.stdin is not None
        try:
            async with source:
                async for message in source:
                    data = message.message.model_dump_json(by_alias=True, exclude_unset=True)
                    await process.stdin.send(data.encode() + b"\n")
        except (anyio.ClosedResourceError, anyio.BrokenResourceError, OSError):
            self.ended.set()  # the server closed its stdin: it is as good as gone


async def stop_process(process: anyio.abc.Process, grace: float = EXIT_GRACE) -> None:
    """Close stdin, wait ``grace``; SIGTERM the process group, wait; SIGKILL it. Never hangs."""
    if process.stdin is not None:
        with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
            await process.stdin.aclose()
    for step in ("wait", "terminate", "kill"):
        if step != "wait":
            _signal_group(process, hard=step == "kill")
        with anyio.move_on_after(grace):
            while process.returncode is None:
                await anyio.sleep(0.01)
        if process.returncode is not None:
            break
    if hasattr(os, "killpg"):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # its children, when the leader is gone already
    for pipe in (process.stdout, process.stderr):
        if pipe is not None:
            with contextlib.suppress(OSError, anyio.BrokenResourceError, anyio.ClosedResourceError):
                await pipe.aclose()
    with anyio.move_on_after(grace):
        await process.wait()
    # anyio's pipe wrappers do not close asyncio's subprocess transport (it would warn when collected,
    # and a grandchild holding a pipe keeps it open): close it, as the SDK's own transport does.
    transport = getattr(getattr(process, "_process", None), "_transport", None)
    close = getattr(transport, "close", None)
    if callable(close):
        with contextlib.suppress(PermissionError):
            close()


def _signal_group(process: anyio.abc.Process, *, hard: bool) -> None:
    """SIGTERM (or SIGKILL) the server's whole process group; the process alone where there are none."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if hasattr(os, "killpg"):
            os.killpg(process.pid, signal.SIGKILL if hard else signal.SIGTERM)
        elif hard:
            process.kill()
        else:
            process.terminate()
