"""One way to run a test HTTP server on loopback: its thread, port, readiness, stop and failures.

Why: the scripted server, the fake backends, the fake Hub and the TLS test each started a
``ThreadingHTTPServer`` in a thread and stopped it through ``serve_forever``'s poll, so every stop
waited up to a poll interval (50 ms × every unit test that used a server). Here the loop wakes at
once on a socket pair, open connections are cut so no handler thread outlives its server, and a
failure says which server it was. Standard library only.
"""

from __future__ import annotations

import selectors
import socket
import sys
import threading
import traceback
from abc import ABC, abstractmethod
from http.server import ThreadingHTTPServer
from socketserver import BaseRequestHandler
from typing import Any, TypeVar

# How long start() waits for the thread's loop and stop() for its end: only a broken server takes it.
THREAD_DEADLINE = 10.0

_Started = TypeVar("_Started", bound="LoopbackServer")


class OpenConnections:
    """The connections a server accepted and has not closed: cut at stop (a streaming handler blocked
    on a slow client would otherwise keep its thread, and its port, past the test)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self.accepted = 0

    def add(self, conn: socket.socket) -> None:
        with self._lock:
            self.accepted += 1
            self._sockets.add(conn)

    def discard(self, conn: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(conn)

    def cut_all(self) -> None:
        with self._lock:
            sockets = list(self._sockets)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed by its handler: nothing left to cut
                continue


class LoopbackHTTPServer(ThreadingHTTPServer):
    """The HTTP server half: daemon handler threads, TCP_NODELAY (a streamed token leaves at once),
    accepted connections tracked, and clients hanging up (tests do it on purpose) kept quiet."""

    daemon_threads = True
    allow_reuse_address = True
    timeout = 0  # handle_request() is called only when the listening socket is readable: never block
    quiet_errors: tuple[type[BaseException], ...] = (ConnectionError, OSError)

    def __init__(
        self, address: tuple[str, int], handler: type[BaseRequestHandler], owner: LoopbackServer
    ) -> None:
        self.owner = owner
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        conn, addr = super().get_request()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.owner.connections.add(conn)
        return conn, addr

    def shutdown_request(self, request: Any) -> None:
        self.owner.connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client gone is normal; anything else is a bug in the fake, printed under its name (pytest
        shows it with the test that failed) and kept in ``owner.handler_errors``."""
        if isinstance(sys.exc_info()[1], self.quiet_errors):
            return
        text = traceback.format_exc()
        self.owner.handler_errors.append(text)
        sys.stderr.write(f"{self.owner.name}: a request from {client_address} failed:\n{text}")


class LoopbackServer(ABC):
    """The lifecycle half, the base of every test server: ``with Sub() as server:`` starts it on a free
    port (or the one asked) and waits until it serves; leaving stops it, its connections cut. A
    subclass builds its ``LoopbackHTTPServer`` in ``make_server``; one with its own threads extends
    ``stop()`` (its handlers see ``stopping`` set)."""

    def __init__(self, name: str, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.name = name
        self.stopping = threading.Event()  # handlers that stream or wait end when it is set
        self.connections = OpenConnections()
        self.handler_errors: list[str] = []
        self._host = host
        self._requested_port = port
        self._httpd: LoopbackHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._wake: tuple[socket.socket, socket.socket] | None = None
        self._ready = threading.Event()
        self._loop_failure: str | None = None

    @abstractmethod
    def make_server(self, address: tuple[str, int]) -> LoopbackHTTPServer:
        """The subclass's HTTP server on ``address`` (its own handler and settings)."""

    # ------------------------------------------------------------------ lifecycle

    @property
    def running(self) -> bool:
        return self._httpd is not None

    def start(self: _Started) -> _Started:
        if self._httpd is not None:
            return self
        self.stopping.clear()
        self._ready.clear()
        self._loop_failure = None
        self._httpd = self.make_server((self._host, self._requested_port))
        self._wake = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()
        if not self._ready.wait(THREAD_DEADLINE):
            raise AssertionError(
                f"{self.name}: its thread did not start serving within {THREAD_DEADLINE:g} s"
            )
        self._raise_loop_failure()
        return self

    def stop(self) -> None:
        httpd, thread, wake = self._httpd, self._thread, self._wake
        if httpd is None or thread is None or wake is None:
            return
        self.stopping.set()
        wake[1].send(b"\0")
        thread.join(THREAD_DEADLINE)
        self.connections.cut_all()
        httpd.server_close()
        for end in wake:
            end.close()
        self._httpd = self._thread = self._wake = None
        if thread.is_alive():
            raise AssertionError(f"{self.name}: its thread did not stop within {THREAD_DEADLINE:g} s")
        self._raise_loop_failure()

    def __enter__(self: _Started) -> _Started:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses

    @property
    def host(self) -> str:
        return self._host

    @property
    def port(self) -> int:
        assert self._httpd is not None, f"start() the {self.name} first"
        return int(self._httpd.server_address[1])

    # ------------------------------------------------------------------ the thread

    def _serve(self) -> None:
        """Accept until woken: ``serve_forever`` would only notice a stop at its next poll."""
        httpd, wake = self._httpd, self._wake
        assert httpd is not None and wake is not None
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(httpd, selectors.EVENT_READ)
                selector.register(wake[0], selectors.EVENT_READ)
                self._ready.set()
                while True:
                    ready = [key.fileobj for key, _ in selector.select()]
                    if wake[0] in ready:
                        return
                    httpd.handle_request()
        except Exception:  # noqa: BLE001 - any failure of the loop is reported, with its traceback, by stop()
            self._loop_failure = traceback.format_exc()
            sys.stderr.write(f"{self.name}: its loop failed:\n{self._loop_failure}")
        finally:
            self._ready.set()  # a loop that failed before serving must not leave start() waiting

    def _raise_loop_failure(self) -> None:
        if self._loop_failure is not None:
            raise AssertionError(f"{self.name}: its loop failed:\n{self._loop_failure}")
