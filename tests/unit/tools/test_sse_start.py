"""An SSE tool server that opens its event stream and then never says where to post (no ``endpoint``
event) is given up on within the start-up deadline, with a reason — not left "starting" for the
day-long idle timeout the stream itself runs under."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import pytest

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.tools.config import HttpEndpoint, ServerConfig
from trayai.core.tools.session import START_GRACE, ConnectionState, ServerConnection

HEADERS = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n"


@pytest.fixture
def silent_sse() -> Iterator[str]:
    """A loopback server whose every GET gets event-stream headers, then nothing, until the test ends."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    done = threading.Event()
    held: list[socket.socket] = []

    def serve() -> None:
        listener.settimeout(0.05)
        while not done.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.recv(65536)  # the request
            conn.sendall(HEADERS)
            held.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/sse"
    finally:
        done.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()


@pytest.mark.anyio
async def test_an_sse_server_that_never_names_its_endpoint_fails_in_time(silent_sse: str) -> None:
    connection = ServerConnection(
        ServerConfig("mute", http=HttpEndpoint(silent_sse, sse=True)), connect_timeout=1.0
    )
    started = time.monotonic()
    with pytest.raises(TrayaiError) as failed:
        await connection.start()
    took = time.monotonic() - started
    assert failed.value.code is ErrorCode.TOOL_SERVER_FAILED
    assert "did not finish starting within 1 s" in failed.value.message
    assert took < 1.0 + START_GRACE + 2.0, took
    assert connection.state is ConnectionState.FAILED
    await connection.close()  # nothing left to stop: returns at once
