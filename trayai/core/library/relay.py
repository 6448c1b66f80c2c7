"""One request passed to an engine child and its answer passed back, bytes as they come.

The child gets the client's request on a fresh connection with ``Connection: close``, so its answer
ends where its bytes end; the client gets the child's status, headers and body unchanged (chunked SSE
included, each piece written as soon as it is read), on a connection it may keep. Closing the child's
connection is how a cancelled request stops generating (llama.cpp notices on its next write).
"""

from __future__ import annotations

import asyncio

from trayai.core.library.httpserve import MAX_HEAD_BYTES, ClientConnection, HttpRefusal, Request
from trayai.core.loopback import HOST

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
        "expect",
    }
)
_BACKLOG = 256 * 1024  # bytes queued for a slow client before the child is read no further


class UpstreamUnreachable(ConnectionError):
    """The child refused the connection or closed it before a response head (it has exited)."""


def upstream_head(request: Request, port: int, body: bytes) -> bytes:
    """The request as the child receives it: the client's end-to-end headers, our framing."""
    lines = [f"{request.method} {request.target} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in request.raw_headers if name.lower() not in _HOP_BY_HOP]
    lines += [f"Content-Length: {len(body)}", "Connection: close"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


async def relay(request: Request, port: int, client: ClientConnection, body: bytes | None = None) -> bool:
    """Send ``request`` (with ``body`` if given) to the child on ``port``; stream its answer to
    ``client``. Returns whether the client connection may be kept for another request."""
    payload = request.body if body is None else body
    loop = asyncio.get_running_loop()
    pipe = _Pipe(client, keep_alive=request.keep_alive, with_body=request.method != "HEAD")
    try:
        transport, _ = await loop.create_connection(lambda: pipe, HOST, port)
    except OSError as exc:
        raise UpstreamUnreachable(f"the engine on port {port} refused the connection: {exc}") from exc
    try:
        transport.write(upstream_head(request, port, payload) + payload)
        await asyncio.shield(pipe.finished)
    finally:
        transport.abort()  # at the end a no-op; on a cancel the child sees the hang-up and stops
    if pipe.failure is not None:
        raise pipe.failure
    return pipe.keep


class _Pipe(asyncio.Protocol):
    """The child's side of a relay: its response head rewritten for the client, then every piece
    written to the client from ``data_received`` itself (no task switch per SSE event). When the
    client reads slower than the child writes, reading from the child pauses until it drains."""

    def __init__(self, client: ClientConnection, *, keep_alive: bool, with_body: bool) -> None:
        self.client = client
        self.keep_alive = keep_alive
        self.with_body = with_body
        self.keep = False
        self.failure: Exception | None = None
        self.finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._head = bytearray()
        self._head_sent = False
        self._transport: asyncio.Transport | None = None
        self._draining: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        if self._head_sent:
            if self.with_body:
                self._forward(data)
            return
        self._head += data
        end = self._head.find(b"\r\n\r\n")
        if end < 0:
            if len(self._head) > MAX_HEAD_BYTES:
                self._finish(HttpRefusal(502, f"the engine's answer head exceeds {MAX_HEAD_BYTES} bytes"))
            return
        head, rest = bytes(self._head[: end + 4]), bytes(self._head[end + 4 :])
        self._head.clear()
        client_head, framed = _client_head(head, keep_alive=self.keep_alive)
        self.keep = self.keep_alive and framed
        self._head_sent = True
        self._forward(client_head + rest if self.with_body else client_head)

    def _forward(self, data: bytes) -> None:
        writer = self.client.writer
        writer.write(data)
        transport = self._transport
        if (
            transport is not None
            and writer.transport.get_write_buffer_size() > _BACKLOG
            and not self._draining
        ):
            transport.pause_reading()
            self._draining = asyncio.create_task(self._drain(transport))

    async def _drain(self, transport: asyncio.Transport) -> None:
        try:
            await self.client.writer.drain()
        except (ConnectionError, OSError) as exc:
            self._finish(exc)
            return
        finally:
            self._draining = None
        transport.resume_reading()

    def eof_received(self) -> bool:
        self._finish(None)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(exc)

    def _finish(self, exc: Exception | None) -> None:
        if self.finished.done():
            return
        if not self._head_sent and not isinstance(exc, HttpRefusal):
            self.failure = UpstreamUnreachable("the engine closed the connection without answering")
        elif isinstance(exc, HttpRefusal):
            self.failure = exc
        self.finished.set_result(None)


def _client_head(head: bytes, *, keep_alive: bool) -> tuple[bytes, bool]:
    """The child's response head for the client, and whether the body is framed (so the client's
    connection can outlive it): chunked or a Content-Length, else it ends when the child closes."""
    lines = head.decode("latin-1").split("\r\n")
    kept = [lines[0]]
    framed = False
    status = lines[0].split(" ", 2)[1] if lines[0].count(" ") >= 1 else ""
    for line in lines[1:]:
        if not line:
            continue
        name = line.partition(":")[0].strip().lower()
        if name in ("connection", "keep-alive"):
            continue
        if name in ("content-length", "transfer-encoding"):
            framed = True
        kept.append(line)
    if status in ("204", "304") or status.startswith("1"):
        framed = True
    kept.append(f"Connection: {'keep-alive' if keep_alive and framed else 'close'}")
    return ("\r\n".join(kept) + "\r\n\r\n").encode("latin-1"), framed
