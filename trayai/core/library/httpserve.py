"""The server side of HTTP/1.1 on asyncio streams, as the on-demand front needs it: a request read
with every part bounded (head, body, chunks), ``Expect: 100-continue`` honoured, the peer's
disconnect noticed while an answer is pending, and JSON or OpenAI-shaped error answers written.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

MAX_HEAD_BYTES = 64 * 1024
MAX_HEADER_LINES = 100
_READ = 64 * 1024
_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    411: "Length Required",
    413: "Payload Too Large",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class HttpRefusal(Exception):
    """A request the front answers itself with ``status`` (malformed, too large) and then closes."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class Request:
    """One request as read: method, target, headers by lower-case name, the whole body."""

    method: str
    target: str
    version: str
    headers: dict[str, str]
    body: bytes = b""
    raw_headers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    def query(self, name: str) -> str | None:
        values = parse_qs(urlsplit(self.target).query).get(name)
        return values[0] if values else None

    @property
    def keep_alive(self) -> bool:
        connection = self.headers.get("connection", "").lower()
        if self.version == "HTTP/1.0":
            return "keep-alive" in connection
        return "close" not in connection


class ClientConnection:
    """One client's connection: reads requests from a buffer it refills, writes answers."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self._buffer = bytearray()
        self._eof = False

    async def _fill(self) -> bool:
        if self._eof:
            return False
        data = await self.reader.read(_READ)
        if not data:
            self._eof = True
            return False
        self._buffer += data
        return True

    async def _until(self, marker: bytes, limit: int, what: str) -> bytes | None:
        """Bytes up to and including ``marker``; None at a clean end before any byte."""
        while (end := self._buffer.find(marker)) < 0:
            if len(self._buffer) > limit:
                raise HttpRefusal(431, f"the {what} is larger than {limit} bytes")
            if not await self._fill():
                if self._buffer:
                    raise HttpRefusal(400, f"the connection ended inside the {what}")
                return None
        chunk = bytes(self._buffer[: end + len(marker)])
        del self._buffer[: end + len(marker)]
        return chunk

    async def _exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            if not await self._fill():
                raise HttpRefusal(400, "the connection ended inside the body")
        chunk = bytes(self._buffer[:size])
        del self._buffer[:size]
        return chunk

    async def read_request(self, max_body: int) -> Request | None:
        """The next request (None when the client closed between requests)."""
        head = await self._until(b"\r\n\r\n", MAX_HEAD_BYTES, "request head")
        if head is None:
            return None
        request = _parse_head(head)
        if request.headers.get("expect", "").lower() == "100-continue":
            self.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        if "chunked" in request.headers.get("transfer-encoding", "").lower():
            request.body = await self._chunked_body(max_body)
        elif "content-length" in request.headers:
            length = _length(request.headers["content-length"])
            if length > max_body:
                raise HttpRefusal(413, f"the request body is larger than {max_body} bytes")
            request.body = await self._exactly(length)
        elif request.method in ("POST", "PUT", "PATCH"):
            raise HttpRefusal(411, "a request body needs a Content-Length (or chunked encoding)")
        return request

    async def _chunked_body(self, max_body: int) -> bytes:
        body = bytearray()
        while True:
            line = await self._until(b"\r\n", 4096, "chunk size line")
            if line is None:
                raise HttpRefusal(400, "the connection ended inside a chunked body")
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise HttpRefusal(400, "a chunk size is not a hex number") from None
            if size == 0:
                while await self._until(b"\r\n", 4096, "trailer") not in (b"\r\n", None):
                    pass  # trailers carry nothing the engine needs
                return bytes(body)
            if len(body) + size > max_body:
                raise HttpRefusal(413, f"the request body is larger than {max_body} bytes")
            body += await self._exactly(size)
            await self._exactly(2)

    async def wait_disconnect(self) -> None:
        """Return when the client closes its side (bytes it sends meanwhile are kept for later)."""
        while await self._fill():
            if len(self._buffer) > MAX_HEAD_BYTES:  # a pipelining client: stop listening, keep going
                await asyncio.Event().wait()

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()

    async def send_json(
        self, status: int, payload: Any, *, keep_alive: bool, extra: dict[str, str] | None = None
    ) -> None:
        body = json.dumps(payload).encode()
        head = [
            f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}",
            "Content-Type: application/json; charset=utf-8",
            f"Content-Length: {len(body)}",
            f"Connection: {'keep-alive' if keep_alive else 'close'}",
            *(f"{name}: {value}" for name, value in (extra or {}).items()),
        ]
        await self.send(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)


def openai_error(message: str, kind: str, code: str, **extra: Any) -> dict[str, Any]:
    """The body OpenAI's API (and its clients) use for an error."""
    return {"error": {"message": message, "type": kind, "param": None, "code": code, **extra}}


def _parse_head(head: bytes) -> Request:
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpRefusal(400, "the request line is not HTTP/1.x")
    method, target, version = parts
    headers: dict[str, str] = {}
    raw: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        if len(raw) >= MAX_HEADER_LINES:
            raise HttpRefusal(431, f"more than {MAX_HEADER_LINES} header lines")
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise HttpRefusal(400, "a header line is malformed")
        value = value.strip()
        raw.append((name, value))
        key = name.lower()
        headers[key] = f"{headers[key]}, {value}" if key in headers else value
    return Request(method, target, version, headers, raw_headers=raw)


def _length(value: str) -> int:
    if not value.strip().isdigit():
        raise HttpRefusal(400, "Content-Length is not a number")
    return int(value)
