"""HTTP/1.1 on asyncio streams for direct ``http://`` connections: the tray's polls without httpx2.

The tray asks a local server small questions every few seconds (``/v1/models``, ``/props``,
``/api/ps``…). httpx2 and what it pulls in (anyio, httpcore2, h11, idna, email…) is a fifth of
the tray's memory, so polls and model management on a plain, unproxied connection go through
this module; TLS, proxies and the OpenAI SDK's streams stay with httpx2 (``ModelClient.fetch``
picks). It keeps the guarantees of core/net/transport.py: a request dropped before any response
byte is sent once more on a fresh connection, bodies are decoded here (gzip/deflate) and capped,
and only same-origin redirects are followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json as jsonlib
import logging
import select
import zlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from trayai.core.net.transport import MAX_REDIRECTS, MAX_RESPONSE_BYTES, ResponseTooLarge
from trayai.core.net.urls import host_port
from trayai.core.net.wire import within

# The resend rule's one logger, whichever client resent (tests and users look for it there).
log = logging.getLogger("trayai.core.net.transport")

MAX_HEAD_BYTES = 64 * 1024  # status line + headers: a server sending more is not an HTTP server
MAX_HEADER_LINES = 200
_STEP = 1 << 20  # decoded bytes per piece handed on (a bomb never sits in memory whole)
_READ = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
_NO_BODY = (204, 304)


class PlainProtocolError(ConnectionError):
    """The server broke HTTP/1.1: a garbled status line or header, a bad chunk, a body cut short."""


class PlainConnectTimeout(TimeoutError):
    """The server did not accept the connection within the endpoint's connect timeout."""


class _DroppedUnanswered(Exception):
    """A pooled connection closed or reset before any byte of the response (safe to send again)."""


class Headers(dict[str, str]):
    """Response headers by lower-case name (a repeated header's values joined by ", ")."""

    def get(self, name: str, default: Any = None) -> Any:
        return super().get(name.lower(), default)


@dataclass(frozen=True)
class _Origin:
    host: str
    port: int

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == 80 else f"{host}:{self.port}"


def _origin_of(url: str) -> tuple[_Origin, str]:
    parts = urlsplit(url)
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"not a plain http URL: {url[:200]}")
    target = parts.path or "/"
    if parts.query:
        target += f"?{parts.query}"
    return _Origin(parts.hostname, parts.port or 80), target


class _Connection:
    """One TCP connection to a server, kept alive between requests while the server allows."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def stale(self) -> bool:
        """Closed by the server while idle: at EOF, closing, or readable (an idle connection has
        nothing to read but its end), checked now since the loop may not have seen it yet."""
        if self.reader.at_eof() or self.writer.is_closing():
            return True
        sock = self.writer.get_extra_info("socket")
        if sock is None:
            return False
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return True
        return bool(readable)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class PlainResponse:
    """A response being read: ``status_code``, ``headers``, then its (decoded, capped) body."""

    def __init__(
        self,
        conn: _Connection,
        origin: _Origin,
        status: int,
        headers: Headers,
        *,
        head: bool,
        pool: PlainHttp,
    ) -> None:
        self.status_code = status
        self._conn: _Connection | None = conn
        self._pool = pool
        self._origin = origin
        encoding = headers.get("content-encoding", "identity").strip().lower()
        self._decoder: Any = None
        if encoding in ("gzip", "x-gzip"):
            self._decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif encoding == "deflate":
            self._decoder = zlib.decompressobj()
        self._keep = "close" not in headers.get("connection", "").lower()
        self._chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        length = headers.get("content-length")  # the wire's length: read before it is dropped below
        if self._decoder is not None:  # what the caller sees is the decoded body
            headers.pop("content-encoding", None)
            headers.pop("content-length", None)
        self.headers = headers
        self._remaining: int | None = None
        if head or status in _NO_BODY or 100 <= status < 200:
            self._remaining = 0
        elif not self._chunked and length is not None:
            try:
                self._remaining = int(length)
            except ValueError:
                raise PlainProtocolError(f"a bad Content-Length: {length[:40]!r}") from None
            if self._remaining < 0:
                raise PlainProtocolError(f"a bad Content-Length: {length[:40]!r}")
        elif not self._chunked:
            self._keep = False  # the body runs to the end of the connection
        self._seen = 0
        self._done = False

    @property
    def encoding(self) -> str | None:
        """The charset the Content-Type names, when Python knows it (else the caller picks)."""
        # lazy: codecs is loaded only when used: start-up time and memory
        import codecs

        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                try:
                    return codecs.lookup(value.strip().strip('"')).name
                except LookupError:
                    return None
        return None

    async def aiter_raw(self) -> AsyncIterator[bytes]:
        """The body in pieces as it arrives: decoded when compressed, stopped at the cap."""
        async for piece in self._wire():
            if self._decoder is None:
                yield self._count(piece)
                continue
            yield self._count(self._decoder.decompress(piece, _STEP))
            while self._decoder.unconsumed_tail:
                yield self._count(self._decoder.decompress(self._decoder.unconsumed_tail, _STEP))
        if self._decoder is not None:
            yield self._count(self._decoder.flush())

    async def aread(self) -> bytes:
        return b"".join([piece async for piece in self.aiter_raw()])

    def _count(self, data: bytes) -> bytes:
        self._seen += len(data)
        if self._seen > MAX_RESPONSE_BYTES:
            raise ResponseTooLarge(MAX_RESPONSE_BYTES)
        return data

    async def _wire(self) -> AsyncIterator[bytes]:
        """The body's bytes as framed on the wire (Content-Length, chunked, or to the end)."""
        conn = self._conn
        if conn is None or self._done:
            return
        reader = conn.reader
        try:
            if self._chunked:
                async for piece in self._chunks(reader):
                    yield piece
            elif self._remaining is not None:
                while self._remaining > 0:
                    piece = await reader.read(min(_READ, self._remaining))
                    if not piece:
                        raise PlainProtocolError("the server closed the connection before the body ended")
                    self._remaining -= len(piece)
                    yield piece
            else:
                while piece := await reader.read(_READ):
                    yield piece
        except asyncio.LimitOverrunError:
            raise PlainProtocolError("a chunk header longer than 64 KB") from None
        except asyncio.IncompleteReadError:
            raise PlainProtocolError("the server closed the connection before the body ended") from None
        self._done = True

    @staticmethod
    async def _chunks(reader: asyncio.StreamReader) -> AsyncIterator[bytes]:
        while True:
            line = await reader.readuntil(b"\n")
            size_text = line.split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError:
                raise PlainProtocolError(f"a bad chunk size: {size_text[:40]!r}") from None
            if size < 0:
                raise PlainProtocolError("a negative chunk size")
            if size == 0:
                break
            while size > 0:
                piece = await reader.read(min(_READ, size))
                if not piece:
                    raise PlainProtocolError("the server closed the connection inside a chunk")
                size -= len(piece)
                yield piece
            await reader.readuntil(b"\n")  # the CRLF after the chunk
        for _ in range(MAX_HEADER_LINES):  # trailers, then the blank line
            if not (await reader.readuntil(b"\n")).strip():
                return
        raise PlainProtocolError("too many trailer lines")

    def release(self) -> None:
        """Give the connection back to the pool when its response was read whole, else close it."""
        conn, self._conn = self._conn, None
        if conn is None:
            return
        if self._done and self._keep:
            self._pool.give_back(self._origin, conn)
        else:
            conn.close()


class PlainHttp:
    """A small pool of kept-alive HTTP/1.1 connections to plain ``http://`` servers.

    ``retries`` counts requests sent again because a server dropped them unanswered.
    """

    def __init__(self, *, connect_timeout: float | None, max_idle: int = 16) -> None:
        self.connect_timeout = connect_timeout
        self.max_idle = max_idle
        self.retries = 0
        self._idle: dict[_Origin, list[_Connection]] = {}

    @contextlib.asynccontextmanager
    async def stream(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
    ) -> AsyncIterator[PlainResponse]:
        """Send one request (following same-origin redirects) and yield its response to read."""
        body = None
        sent_headers = dict(headers or {})
        if json is not None:
            body = jsonlib.dumps(json).encode()
            sent_headers["Content-Type"] = "application/json"
        response = await self._send(method, url, sent_headers, body)
        try:
            for _ in range(MAX_REDIRECTS):
                follow = self._redirect(method, url, response)
                if follow is None:
                    break
                await response.aread()  # small, capped: read so the connection can be reused
                response.release()
                url = follow
                response = await self._send(method, url, sent_headers, body)
            yield response
        finally:
            response.release()

    @staticmethod
    def _redirect(method: str, url: str, response: PlainResponse) -> str | None:
        location: str | None = response.headers.get("location")
        if response.status_code not in _REDIRECTS or not location:
            return None
        target = urljoin(url, location)
        here, there = urlsplit(url), urlsplit(target)
        if (here.scheme, here.hostname, here.port) != (there.scheme, there.hostname, there.port):
            return None  # reported by the caller, with where it pointed
        if method != "GET" and response.status_code not in (307, 308):
            return None  # 301/302/303 would turn a POST into a GET: not an answer to it
        return target

    async def _send(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> PlainResponse:
        origin, target = _origin_of(url)
        lines = [
            f"{method} {target} HTTP/1.1",
            f"Host: {origin.netloc}",
            "User-Agent: trayai",
            "Accept-Encoding: identity",
            "Connection: keep-alive",
        ]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        if body is not None or method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(body or b'')}")
        request = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (body or b"")
        conn = self._pooled(origin)
        if conn is not None:
            try:
                return await self._exchange(conn, origin, request, method)
            except _DroppedUnanswered as exc:
                self.retries += 1
                log.warning(
                    "%s dropped the request before answering (%s); sent it again on a fresh connection",
                    host_port(url),
                    exc,
                )
        conn = await self._connect(origin)
        try:
            return await self._exchange(conn, origin, request, method)
        except _DroppedUnanswered as exc:
            raise PlainProtocolError(f"the server answered nothing: {exc}") from exc.__cause__

    async def _exchange(
        self, conn: _Connection, origin: _Origin, request: bytes, method: str
    ) -> PlainResponse:
        try:
            try:
                conn.writer.write(request)
                await conn.writer.drain()
            except (ConnectionResetError, BrokenPipeError) as exc:
                raise _DroppedUnanswered("the connection was reset") from exc
            status, headers = await self._read_head(conn.reader)
            return PlainResponse(conn, origin, status, headers, head=method == "HEAD", pool=self)
        except BaseException:
            conn.close()
            raise

    async def _read_head(self, reader: asyncio.StreamReader) -> tuple[int, Headers]:
        received = 0
        while True:
            try:
                line = await reader.readuntil(b"\n")
            except (ConnectionResetError, BrokenPipeError) as exc:
                if received == 0:
                    raise _DroppedUnanswered("the connection was reset") from exc
                raise
            except asyncio.IncompleteReadError as exc:
                if received == 0 and not exc.partial:
                    raise _DroppedUnanswered("the connection was closed") from exc
                raise PlainProtocolError("the server closed the connection mid-header") from None
            except asyncio.LimitOverrunError:
                raise PlainProtocolError("a status line longer than 64 KB") from None
            received += len(line)
            status = _status_of(line)
            headers = await _read_headers(reader, received)
            if status == 100 or 102 <= status < 200:
                continue  # informational: the real answer follows
            return status, headers

    def _pooled(self, origin: _Origin) -> _Connection | None:
        idle = self._idle.get(origin, [])
        while idle:
            conn = idle.pop()
            if not conn.stale():
                return conn
            conn.close()
        return None

    async def _connect(self, origin: _Origin) -> _Connection:
        opening = asyncio.open_connection(origin.host, origin.port, limit=MAX_HEAD_BYTES)
        if self.connect_timeout is None:
            reader, writer = await opening
        else:
            try:
                reader, writer = await within(opening, self.connect_timeout)
            except asyncio.TimeoutError:
                raise PlainConnectTimeout(
                    f"{origin.netloc} did not accept the connection in {self.connect_timeout:g} s"
                ) from None
        return _Connection(reader, writer)

    def give_back(self, origin: _Origin, conn: _Connection) -> None:
        idle = self._idle.setdefault(origin, [])
        if len(idle) >= self.max_idle:
            conn.close()
            return
        idle.append(conn)

    async def aclose(self) -> None:
        for idle in self._idle.values():
            for conn in idle:
                conn.close()
        self._idle.clear()


def _status_of(line: bytes) -> int:
    parts = line.decode("latin-1").split(None, 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit() or len(parts[1]) != 3:
        raise PlainProtocolError(f"not an HTTP/1.1 status line: {line[:80]!r}")
    return int(parts[1])


async def _read_headers(reader: asyncio.StreamReader, received: int) -> Headers:
    headers = Headers()
    for _ in range(MAX_HEADER_LINES):
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.LimitOverrunError:
            raise PlainProtocolError("a header line longer than 64 KB") from None
        except asyncio.IncompleteReadError:
            raise PlainProtocolError("the server closed the connection mid-header") from None
        received += len(line)
        if received > MAX_HEAD_BYTES:
            raise PlainProtocolError("more than 64 KB of headers")
        text = line.decode("latin-1").rstrip("\r\n")
        if not text:
            return headers
        name, sep, value = text.partition(":")
        if not sep or not name.strip() or name != name.strip():
            raise PlainProtocolError(f"a garbled header line: {text[:80]!r}")
        key = name.lower()
        value = value.strip()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    raise PlainProtocolError(f"more than {MAX_HEADER_LINES} header lines")
