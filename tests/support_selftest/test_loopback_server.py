"""The loopback server base every test server stands on: it serves once started, stops at once (no
poll interval), cuts connections a handler still holds, and names itself when something breaks."""

from __future__ import annotations

import http.client
import http.server
import socket
import threading
import time

import pytest

from tests.support.loopback_server import LoopbackHTTPServer, LoopbackServer
from tests.support.waiting import wait_until


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: LoopbackHTTPServer

    def log_message(self, format: str, *args: object) -> None:
        return

    def do_GET(self) -> None:
        if self.path == "/boom":
            raise ValueError("a bug in the fake")
        if self.path == "/hold":  # answers headers, then waits for bytes the client never sends
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            self.wfile.flush()
            self.rfile.read(1)  # only a cut connection ends this wait
            return
        body = b"hello"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Echo(LoopbackServer):
    def __init__(self, name: str = "echo test server", port: int = 0) -> None:
        super().__init__(name, port=port)

    def make_server(self, address: tuple[str, int]) -> LoopbackHTTPServer:
        return LoopbackHTTPServer(address, _Handler, self)


def get(port: int, path: str = "/") -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def test_serves_once_started_and_stops_without_waiting_for_a_poll() -> None:
    server = _Echo()
    with server:
        assert get(server.port) == (200, b"hello")
        assert server.connections.accepted == 1
        started = time.monotonic()
    stopped_in = time.monotonic() - started
    assert not server.running
    assert stopped_in < 0.04, f"stop took {stopped_in * 1000:.0f} ms"  # serve_forever's poll took 50
    with pytest.raises(AssertionError, match="start\\(\\) the echo test server first"):
        _ = server.port


def test_stop_cuts_a_connection_a_handler_still_holds() -> None:
    server = _Echo().start()
    client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    client.sendall(b"GET /hold HTTP/1.1\r\nHost: x\r\n\r\n")
    assert client.recv(64).startswith(b"HTTP/1.1 200")
    server.stop()  # the handler waits on its client: only cutting the connection ends it
    client.settimeout(5)
    leftover = b""
    while chunk := client.recv(64):
        leftover += chunk
    client.close()
    assert b"hello" not in leftover


def test_a_handler_bug_is_printed_under_the_servers_name(capfd: pytest.CaptureFixture[str]) -> None:
    with _Echo() as server:
        with pytest.raises((http.client.RemoteDisconnected, ConnectionError)):
            get(server.port, "/boom")
        wait_until(lambda: server.handler_errors, what="the handler's error recorded")
    assert "ValueError: a bug in the fake" in server.handler_errors[0]
    err = capfd.readouterr().err
    assert "echo test server: a request from" in err and "ValueError: a bug in the fake" in err


def test_a_loop_that_fails_says_so_at_stop(capfd: pytest.CaptureFixture[str]) -> None:
    server = _Echo("broken test server").start()
    httpd = server._httpd
    assert httpd is not None
    failing = threading.Event()

    def broken_accept() -> None:
        failing.set()
        raise RuntimeError("the accept loop broke")

    httpd.handle_request = broken_accept  # type: ignore[method-assign]
    socket.create_connection(("127.0.0.1", server.port), timeout=10).close()  # wakes the loop
    wait_until(failing.is_set, what="the loop to meet the broken accept")
    with pytest.raises(AssertionError, match="broken test server: its loop failed"):
        server.stop()
    assert "RuntimeError: the accept loop broke" in capfd.readouterr().err


def test_a_port_asked_for_is_the_one_served() -> None:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()

    with _Echo("fixed-port server", port) as server:
        assert server.port == port and get(port) == (200, b"hello")
