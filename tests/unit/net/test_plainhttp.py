"""core/net/plainhttp.py against a loopback server that answers exactly the bytes each test gives it."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import Callable

import pytest

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.net.plainhttp import PlainHttp, PlainProtocolError
from trayai.core.net.transport import MAX_RESPONSE_BYTES, ResponseTooLarge

Answer = Callable[[bytes], bytes]  # the request's head → the raw response


class RawServer:
    """Reads one request head per exchange and writes what ``answer`` returns; counts connections."""

    def __init__(self, answer: Answer, *, close_after: bool = False) -> None:
        self.answer = answer
        self.close_after = close_after
        self.connections = 0
        self.requests: list[bytes] = []
        self.port = 0
        self._server: asyncio.AbstractServer | None = None

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":")[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length")
                    ),
                    0,
                )
                body = await reader.readexactly(length) if length else b""
                self.requests.append(head + body)
                writer.write(self.answer(head))
                await writer.drain()
                if self.close_after:
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()


def response(body: bytes, *headers: str, status: str = "200 OK") -> bytes:
    lines = [f"HTTP/1.1 {status}", *headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


async def read_all(http: PlainHttp, url: str, method: str = "GET") -> tuple[int, bytes]:
    async with http.stream(method, url) as reply:
        return reply.status_code, await reply.aread()


@pytest.mark.anyio
async def test_chunked_bodies_with_extensions_and_trailers_are_joined_and_the_connection_kept() -> None:
    chunked = b"4;ext=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: yes\r\n\r\n"
    async with RawServer(lambda _h: response(chunked, "Transfer-Encoding: chunked")) as server:
        http = PlainHttp(connect_timeout=2.0)
        for _ in range(3):
            assert await read_all(http, f"{server.url}/v1/models") == (200, b"Wikipedia")
        await http.aclose()
    assert server.connections == 1


@pytest.mark.anyio
async def test_connection_close_and_read_to_end_bodies_are_not_reused() -> None:
    async with RawServer(lambda _h: response(b"whole body", "Connection: close"), close_after=True) as server:
        http = PlainHttp(connect_timeout=2.0)
        for _ in range(2):
            assert await read_all(http, f"{server.url}/x") == (200, b"whole body")
        await http.aclose()
    assert server.connections == 2


@pytest.mark.anyio
async def test_interim_100_continue_is_skipped_and_204_has_no_body() -> None:
    answers = iter(
        [
            b"HTTP/1.1 100 Continue\r\n\r\n" + response(b"ok", "Content-Length: 2"),
            response(b"", status="204 No Content"),
        ]
    )
    async with RawServer(lambda _h: next(answers)) as server:
        http = PlainHttp(connect_timeout=2.0)
        assert await read_all(http, f"{server.url}/a") == (200, b"ok")
        assert await read_all(http, f"{server.url}/b") == (204, b"")
        await http.aclose()
    assert server.connections == 1


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("raw", "words"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n", "not an HTTP/1.1 status line"),
        (response(b"zz\r\n", "Transfer-Encoding: chunked"), "bad chunk size"),
        (response(b"abc", "Content-Length: 10"), "before the body ended"),
        (response(b"", "Content-Length: -1"), "bad Content-Length"),
        (b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 70_000 + b"\r\n\r\n", "longer than 64 KB"),
        (b"HTTP/1.1 200 OK\r\n" + b"X: y\r\n" * 300 + b"\r\n", "header lines"),
        (b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n", "garbled header"),
    ],
)
async def test_broken_http_is_a_protocol_error_saying_what(raw: bytes, words: str) -> None:
    async with RawServer(lambda _h: raw, close_after=True) as server:
        http = PlainHttp(connect_timeout=2.0)
        with pytest.raises(PlainProtocolError, match=words):
            await read_all(http, f"{server.url}/v1/models")
        await http.aclose()


@pytest.mark.anyio
async def test_a_gzip_body_is_decoded_and_a_bomb_stops_at_the_cap() -> None:
    small = gzip.compress(b'{"data": []}')
    bomb = gzip.compress(b"\0" * (MAX_RESPONSE_BYTES + 1_000_000))
    bodies = iter([small, bomb])

    def answer(_head: bytes) -> bytes:
        body = next(bodies)
        return response(body, "Content-Encoding: gzip", f"Content-Length: {len(body)}")

    async with RawServer(answer) as server:
        http = PlainHttp(connect_timeout=2.0)
        assert await read_all(http, f"{server.url}/a") == (200, b'{"data": []}')
        with pytest.raises(ResponseTooLarge):
            await read_all(http, f"{server.url}/b")
        await http.aclose()


@pytest.mark.anyio
async def test_requests_say_who_they_are_ask_for_identity_and_send_json() -> None:
    async with RawServer(lambda _h: response(b"{}", "Content-Length: 2")) as server:
        http = PlainHttp(connect_timeout=2.0)
        async with http.stream(
            "POST", f"{server.url}/api/show?x=1", headers={"Authorization": "Bearer k"}, json={"model": "m"}
        ) as reply:
            assert reply.status_code == 200
            assert reply.headers.get("Content-Length") == "2"  # any case
        await http.aclose()
    sent = server.requests[0]
    assert sent.startswith(b"POST /api/show?x=1 HTTP/1.1\r\n")
    for header in (
        f"Host: 127.0.0.1:{server.port}",
        "Accept-Encoding: identity",
        "Authorization: Bearer k",
        "Content-Type: application/json",
    ):
        assert header.encode() in sent
    assert sent.endswith(b'\r\n\r\n{"model": "m"}')


@pytest.mark.anyio
async def test_the_model_client_uses_plain_http_for_a_direct_server_and_maps_its_errors() -> None:
    async with (
        RawServer(lambda _h: b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nab", close_after=True) as server,
        ModelClient(Endpoint.create(f"{server.url}/v1", "k")) as client,
    ):
        with pytest.raises(TrayaiError) as caught:
            await client.list_models()
    assert caught.value.code is ErrorCode.NETWORK
    assert "before the body ended" in (caught.value.detail or "")
