"""The one GET a download reads its bytes from: HTTP/1.1 on a :class:`ThreadedSocket` (4 MiB reads on a
thread of its own), redirects followed with the token dropped when the origin changes (the Hub sends
files through a CDN).

Why not httpx2 (as elsewhere): through h11 and 64 KiB reads it tops out near 250 MB/s on loopback,
0.4× curl of the same file; asyncio's streams reached 0.56–0.86× (tests/perf/bench_library.py).
With a proxy configured for the URL's scheme the request goes through httpx2, which knows proxies.
"""

from __future__ import annotations

import contextlib
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from trayai.core.library.socketthread import BrokenTransfer, ThreadedSocket

__all__ = ["MAX_REDIRECTS", "BrokenTransfer", "RawResponse", "Timeouts", "stream_get"]

MAX_REDIRECTS = 5
_MAX_HEAD = 64 * 1024
_MAX_LINE = 4 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)

Reader = Callable[[memoryview], Awaitable[int]]


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    _reader: Reader = field(repr=False)

    async def readinto(self, buffer: memoryview) -> int:
        """The next bytes of the body into ``buffer`` (what arrived within a tenth of a second, up to
        its length); 0 at the end of the body."""
        return await self._reader(buffer)


@dataclass(frozen=True)
class Timeouts:
    connect: float = 15.0
    read: float = 30.0


@contextlib.asynccontextmanager
async def stream_get(url: str, headers: Mapping[str, str], timeouts: Timeouts) -> AsyncIterator[RawResponse]:
    """GET ``url`` and yield the final response (after redirects) with its body still to read."""
    if _proxied(url):
        async with _httpx2_get(url, headers, timeouts) as response:
            yield response
        return
    sent = dict(headers)
    for _ in range(MAX_REDIRECTS + 1):
        connection = await _connect(url, timeouts)
        try:
            status, answer = await connection.run(_exchange, connection, url, sent)
            location = answer.get("location")
            if status in _REDIRECTS and location:
                target = urljoin(url, location)
                if _origin(target) != _origin(url):
                    sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
                url = target
                continue
            yield RawResponse(status, answer, _body(connection, answer))
            return
        finally:
            await connection.close()
    raise BrokenTransfer(f"more than {MAX_REDIRECTS} redirects")


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        parts.port or (443 if parts.scheme == "https" else 80),
    )


def _proxied(url: str) -> bool:
    scheme, host, _ = _origin(url)
    return scheme in urllib.request.getproxies() and not urllib.request.proxy_bypass(host)


async def _connect(url: str, timeouts: Timeouts) -> ThreadedSocket:
    scheme, host, port = _origin(url)
    if scheme not in ("http", "https"):
        raise BrokenTransfer(f"not an http(s) URL: {url[:200]}")
    return await ThreadedSocket.open(
        host, port, tls=scheme == "https", connect=timeouts.connect, read=timeouts.read
    )


def _exchange(connection: ThreadedSocket, url: str, headers: Mapping[str, str]) -> tuple[int, dict[str, str]]:
    """On the connection's thread: the request out, the answer's status and headers back."""
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [
        f"{name}: {value}" for name, value in headers.items() if name.lower() not in ("host", "connection")
    ]
    connection.send(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    head = connection.read_until(b"\r\n\r\n", _MAX_HEAD)
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    try:
        status = int(status_line.split(" ", 2)[1])
    except (IndexError, ValueError) as exc:
        raise BrokenTransfer(f"not an HTTP status line: {status_line[:80]!r}") from exc
    answer: dict[str, str] = {}
    for line in header_lines:
        name, sep, value = line.partition(":")
        if sep:
            key = name.strip().lower()
            answer[key] = f"{answer[key]}, {value.strip()}" if key in answer else value.strip()
    return status, answer


def _body(connection: ThreadedSocket, headers: Mapping[str, str]) -> Reader:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunked = _Chunked(connection)
        return lambda buffer: connection.run(chunked.readinto, buffer)
    length = headers.get("content-length")
    return _Sized(connection, int(length) if length and length.isdigit() else None).readinto


class _Sized:
    """A body of ``Content-Length`` bytes, or until the server closes when it gave none."""

    def __init__(self, connection: ThreadedSocket, left: int | None) -> None:
        self.connection = connection
        self.left = left

    async def readinto(self, buffer: memoryview) -> int:
        if self.left is not None:
            buffer = buffer[: self.left]
        if not buffer:
            return 0
        got = await self.connection.run(self.connection.readinto, buffer)
        if self.left is not None:
            if not got:
                raise BrokenTransfer(
                    f"the connection closed with {self.left} bytes of the answer still to come"
                )
            self.left -= got
        return got


class _Chunked:
    """On the connection's thread: a chunked body's bytes into the caller's buffer (one chunk may be
    the whole file, or a few bytes); 0 at its end."""

    def __init__(self, connection: ThreadedSocket) -> None:
        self.connection = connection
        self.left = 0  # bytes of the current chunk still to read
        self.started = False
        self.ended = False

    def readinto(self, buffer: memoryview) -> int:
        if not self.left:
            if self.ended:
                return 0
            if self.started:
                self._expect(b"\r\n")
            self.started = True
            size_line = self.connection.read_until(b"\r\n", _MAX_LINE)
            try:
                self.left = int(size_line.split(b";")[0].strip() or b"0", 16)
            except ValueError as exc:
                raise BrokenTransfer("the chunked answer was garbled") from exc
            if not self.left:
                self.ended = True
                return 0
        got = self.connection.readinto(buffer[: self.left])
        if not got:
            raise BrokenTransfer("the chunked answer was cut")
        self.left -= got
        return got

    def _expect(self, data: bytes) -> None:
        if self.connection.read_exactly(len(data)) != data:
            raise BrokenTransfer("the chunked answer was garbled")


@contextlib.asynccontextmanager
async def _httpx2_get(url: str, headers: Mapping[str, str], timeouts: Timeouts) -> AsyncIterator[RawResponse]:
    """Through a proxy: httpx2 (slower, but it speaks CONNECT and proxy auth); its errors as ours."""
    # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
    import httpx2

    timeout = httpx2.Timeout(timeouts.read, connect=timeouts.connect)
    try:
        async with (
            httpx2.AsyncClient(follow_redirects=True, timeout=timeout) as client,
            client.stream("GET", url, headers=dict(headers)) as response,
        ):
            pieces = response.aiter_raw()
            left = b""

            async def readinto(buffer: memoryview) -> int:
                nonlocal left
                try:
                    while not left:
                        left = await anext(pieces)
                except StopAsyncIteration:
                    return 0
                except httpx2.TransportError as exc:
                    raise BrokenTransfer(f"{type(exc).__name__}: {exc}") from exc
                got = min(len(buffer), len(left))
                buffer[:got], left = left[:got], left[got:]
                return got

            yield RawResponse(
                response.status_code, {k.lower(): v for k, v in response.headers.items()}, readinto
            )
    except httpx2.TransportError as exc:
        raise BrokenTransfer(f"{type(exc).__name__}: {exc}") from exc
