"""The one GET a download reads its bytes from: HTTP/1.1 on asyncio streams, megabyte reads, redirects
followed with the token dropped when the origin changes (the Hub sends files through a CDN).

Why not httpx2 (as elsewhere): through h11 and 64 KiB reads it tops out near 250 MB/s on loopback,
0.4× curl of the same file (tests/perf/bench_library.py); asyncio's own streams read as fast as curl.
With a proxy configured for the URL's scheme the request goes through httpx2, which knows proxies.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import urllib.request
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from trayai.core.net.wire import within

MAX_REDIRECTS = 5
_READ = 1 << 20
_MAX_HEAD = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)


class BrokenTransfer(ConnectionError):
    """The connection broke or the server broke HTTP: retryable, from the bytes already on disk."""


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    _chunks: AsyncIterator[bytes] = field(repr=False)

    def chunks(self) -> AsyncIterator[bytes]:
        return self._chunks


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
        reader, writer = await _connect(url, timeouts)
        try:
            status, answer = await _exchange(reader, writer, url, sent, timeouts)
            location = answer.get("location")
            if status in _REDIRECTS and location:
                target = urljoin(url, location)
                if _origin(target) != _origin(url):
                    sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
                url = target
                continue
            yield RawResponse(status, answer, _body(reader, answer, timeouts))
            return
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
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


async def _connect(url: str, timeouts: Timeouts) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    scheme, host, port = _origin(url)
    if scheme not in ("http", "https"):
        raise BrokenTransfer(f"not an http(s) URL: {url[:200]}")
    context = ssl.create_default_context() if scheme == "https" else None
    return await within(asyncio.open_connection(host, port, ssl=context, limit=_READ), timeouts.connect)


async def _exchange(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    url: str,
    headers: Mapping[str, str],
    timeouts: Timeouts,
) -> tuple[int, dict[str, str]]:
    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    lines = [f"GET {target} HTTP/1.1", f"Host: {parts.netloc}", "Connection: close"]
    lines += [
        f"{name}: {value}" for name, value in headers.items() if name.lower() not in ("host", "connection")
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    await writer.drain()
    try:
        head = await within(reader.readuntil(b"\r\n\r\n"), timeouts.read)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as exc:
        raise BrokenTransfer("the server closed or sent no HTTP answer") from exc
    if len(head) > _MAX_HEAD:
        raise BrokenTransfer("the server's answer head is too large")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
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


async def _body(
    reader: asyncio.StreamReader, headers: Mapping[str, str], timeouts: Timeouts
) -> AsyncIterator[bytes]:
    if "chunked" in headers.get("transfer-encoding", "").lower():
        async for piece in _chunked(reader, timeouts):
            yield piece
        return
    length = headers.get("content-length")
    left = int(length) if length and length.isdigit() else None
    while left is None or left > 0:
        data = await within(reader.read(_READ if left is None else min(_READ, left)), timeouts.read)
        if not data:
            if left is not None:
                raise BrokenTransfer(f"the connection closed with {left} bytes of the answer still to come")
            return
        if left is not None:
            left -= len(data)
        yield data


async def _chunked(reader: asyncio.StreamReader, timeouts: Timeouts) -> AsyncIterator[bytes]:
    try:
        while True:
            size_line = await within(reader.readuntil(b"\r\n"), timeouts.read)
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                return
            yield await within(reader.readexactly(size), timeouts.read)
            await within(reader.readexactly(2), timeouts.read)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError) as exc:
        raise BrokenTransfer("the chunked answer was cut or garbled") from exc


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

            async def chunks() -> AsyncIterator[bytes]:
                try:
                    async for piece in response.aiter_raw():
                        yield piece
                except httpx2.TransportError as exc:
                    raise BrokenTransfer(f"{type(exc).__name__}: {exc}") from exc

            yield RawResponse(
                response.status_code, {k.lower(): v for k, v in response.headers.items()}, chunks()
            )
    except httpx2.TransportError as exc:
        raise BrokenTransfer(f"{type(exc).__name__}: {exc}") from exc
