"""rawget.py over a raw loopback socket: a chunked body read into small buffers, a body cut short, a read
deadline, and a cancelled read that wakes at once and closes the connection (the server sees it)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from trayai.core.library.rawget import BrokenTransfer, RawResponse, Timeouts, stream_get


class RawServer:
    """Accepts connections on loopback and answers each with ``answer`` bytes, then holds it open
    (``hold``) or closes; records when the client hung up."""

    def __init__(self, answer: bytes, *, hold: bool = False) -> None:
        self.answer = answer
        self.hold = hold
        self.client_gone = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}/file.gguf"

    def _serve(self) -> None:
        with contextlib.suppress(OSError):  # closed by the test
            connection, _ = self._listener.accept()
            with connection:
                connection.recv(65536)  # the request head
                connection.sendall(self.answer)
                if self.hold:
                    while connection.recv(65536):
                        pass
                    self.client_gone.set()

    def close(self) -> None:
        self._listener.close()


@pytest.fixture
def servers() -> Iterator[list[RawServer]]:
    made: list[RawServer] = []
    yield made
    for server in made:
        server.close()


async def read_all(response: RawResponse, size: int) -> bytes:
    buffer = memoryview(bytearray(size))
    out = bytearray()
    while got := await response.readinto(buffer):
        out += buffer[:got]
    return bytes(out)


@pytest.mark.anyio
async def test_a_chunked_body_arrives_whole_through_small_buffers(servers: list[RawServer]) -> None:
    body = bytes(range(256)) * 40
    pieces = [body[:1], body[1:5000], body[5000:5003], body[5003:]]
    chunked = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"
    server = RawServer(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + chunked)
    servers.append(server)
    async with stream_get(server.url, {}, Timeouts()) as response:
        assert response.status == 200
        assert await read_all(response, 7) == body


@pytest.mark.anyio
async def test_a_body_cut_short_is_a_broken_transfer(servers: list[RawServer]) -> None:
    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 400)
    servers.append(server)
    async with stream_get(server.url, {}, Timeouts()) as response:
        with pytest.raises(BrokenTransfer, match="600 bytes of the answer still to come"):
            await read_all(response, 4096)


@pytest.mark.anyio
async def test_a_silent_server_times_out_after_the_read_deadline(servers: list[RawServer]) -> None:
    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", hold=True)
    servers.append(server)
    began = time.monotonic()
    async with stream_get(server.url, {}, Timeouts(connect=5, read=0.3)) as response:
        with pytest.raises(TimeoutError):
            await read_all(response, 4096)
    assert time.monotonic() - began < 3


@pytest.mark.anyio
async def test_a_cancelled_read_wakes_at_once_and_closes_the_connection(servers: list[RawServer]) -> None:
    server = RawServer(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nabc", hold=True)
    servers.append(server)
    reading = asyncio.Event()

    async def download() -> None:
        async with stream_get(server.url, {}, Timeouts(read=60)) as response:
            buffer = memoryview(bytearray(4096))
            assert await response.readinto(buffer) == 3
            reading.set()
            await response.readinto(buffer)  # blocks: nothing more comes

    task = asyncio.create_task(download())
    await asyncio.wait_for(reading.wait(), 10)
    began = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - began < 1
    assert await asyncio.to_thread(server.client_gone.wait, 5)


@pytest.mark.anyio
async def test_a_refused_connection_is_an_os_error(servers: list[RawServer]) -> None:
    server = RawServer(b"")
    servers.append(server)
    server.close()
    with pytest.raises(OSError):
        async with stream_get(server.url, {}, Timeouts(connect=2)):
            pass
