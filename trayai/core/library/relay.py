"""One request passed to an engine child and its answer passed back, bytes as they come.

The child gets the client's request on a fresh connection with ``Connection: close``, so its answer
ends where its bytes end; the client gets the child's status, headers and body unchanged (chunked SSE
included, each piece written as soon as it is read), on a connection it may keep. Closing the child's
connection is how a cancelled request stops generating (llama.cpp notices on its next write).
"""

from __future__ import annotations

import asyncio
import contextlib

from trayai.core.embedded import HOST
from trayai.core.library.httpserve import MAX_HEAD_BYTES, ClientConnection, HttpRefusal, Request

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
_READ = 64 * 1024


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
    try:
        reader, writer = await asyncio.open_connection(HOST, port)
    except OSError as exc:
        raise UpstreamUnreachable(f"the engine on port {port} refused the connection: {exc}") from exc
    try:
        writer.write(upstream_head(request, port, payload) + payload)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            raise UpstreamUnreachable(f"the engine on port {port} closed without answering") from exc
        except asyncio.LimitOverrunError:
            raise HttpRefusal(502, f"the engine's answer head exceeds {MAX_HEAD_BYTES} bytes") from None
        status_head, framed = _client_head(head, keep_alive=request.keep_alive)
        keep = request.keep_alive and framed
        await client.send(status_head)
        if request.method != "HEAD":
            while data := await reader.read(_READ):
                client.writer.write(data)
                await client.writer.drain()
        return keep
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


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
