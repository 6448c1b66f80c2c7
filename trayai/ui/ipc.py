"""Single instance: one trayai per user; later invocations forward their command and exit.

The protocol (socket name, request line, ``launch`` grant) is ``core/instance.py``; this is the
listening side in the Qt loop. On Linux and macOS it is a Unix socket watched by QSocketNotifier
(QtNetwork's local sockets cost the tray ~2.8 MB); on Windows, Qt's named pipes.
"""

from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import socket
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from trayai.core.actions import action_from_command
from trayai.core.errors import AppError
from trayai.core.instance import (
    COMMANDS,
    CONNECT_TIMEOUT,
    MAX_LINE,
    UNIX_SOCKETS,
    InstanceRequest,
    parse_request,
    reply_ok,
    request_line,
    send_unix,
    socket_name,
)
from trayai.core.launch import LaunchContext
from trayai.core.runtarget import target_from_command

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_MS = int(CONNECT_TIMEOUT * 1000)
MAX_CONNECTIONS = 16
IDLE_MS = 5000


def send_command(
    name: str,
    command: str,
    timeout_ms: int = CONNECT_TIMEOUT_MS,
    *,
    launch: LaunchContext | None = None,
) -> bool:
    """Forward ``command`` (with ``launch``, if any) to a running instance; False if none answers
    (blocking, no event loop)."""
    line = request_line(command, launch)
    if UNIX_SOCKETS:
        return send_unix(name, line, timeout_ms / 1000)
    # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
    from PySide6.QtNetwork import QLocalSocket  # pragma: no cover - Windows

    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write(line)
    # flush() may already have written everything, in which case waitForBytesWritten() is False.
    if not sock.flush() and sock.bytesToWrite() > 0:
        sock.waitForBytesWritten(timeout_ms)
    answered = sock.waitForReadyRead(timeout_ms * 3)
    reply = bytes(sock.readAll().data()) if answered else b""
    sock.disconnectFromServer()
    return reply_ok(reply.split(b"\n", 1)[0])


class InstanceSocketError(AppError):
    """The instance socket cannot be made for a reason other than another trayai holding it."""


class _Peer(QObject):
    """One connected client, whatever carries it: bytes in, one reply out, then closed."""

    def __init__(self, on_ready: Callable[[_Peer], None], on_gone: Callable[[_Peer], None]) -> None:
        super().__init__()
        self._on_ready = on_ready
        self._on_gone = on_gone
        self.buffer = bytearray()
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)

    def read(self, limit: int) -> bytes:
        raise NotImplementedError

    def reply(self, data: bytes) -> None:
        raise NotImplementedError

    def abort(self) -> None:
        raise NotImplementedError


class _UnixPeer(_Peer):
    def __init__(
        self, sock: socket.socket, on_ready: Callable[[_Peer], None], on_gone: Callable[[_Peer], None]
    ) -> None:
        super().__init__(on_ready, on_gone)
        self._sock: socket.socket | None = sock
        sock.setblocking(False)
        self._notifier = QSocketNotifier(sock.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(lambda *_: self._on_ready(self))

    def read(self, limit: int) -> bytes:
        """Up to ``limit`` bytes now; at the end of the stream (or an error) the peer is gone."""
        if self._sock is None:
            return b""
        try:
            data = self._sock.recv(max(1, limit))
        except BlockingIOError:
            return b""
        except OSError:
            data = b""
        if not data:
            self.abort()
            self._on_gone(self)
        return data

    def reply(self, data: bytes) -> None:
        if self._sock is not None:
            with contextlib.suppress(OSError):  # a client that left does not get its answer
                self._sock.send(data)  # a few bytes into an empty socket buffer: never partial
        self.abort()

    def abort(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            self._notifier.setEnabled(False)
            sock.close()
        self.deleteLater()


class _QtPeer(_Peer):  # pragma: no cover - Windows
    def __init__(
        self, sock: Any, on_ready: Callable[[_Peer], None], on_gone: Callable[[_Peer], None]
    ) -> None:
        super().__init__(on_ready, on_gone)
        self._sock = sock
        sock.setReadBufferSize(MAX_LINE + 1)  # Qt itself never buffers more than a line
        sock.readyRead.connect(lambda: self._on_ready(self))
        sock.disconnected.connect(lambda: self._on_gone(self))
        sock.disconnected.connect(sock.deleteLater)

    def read(self, limit: int) -> bytes:
        return bytes(self._sock.read(limit).data())

    def reply(self, data: bytes) -> None:
        self._sock.write(data)
        self._sock.flush()
        self._sock.disconnectFromServer()  # deleted once disconnected

    def abort(self) -> None:
        self._sock.abort()
        self._sock.deleteLater()
        self.deleteLater()


class InstanceServer(QObject):
    """Listens for commands from later ``trayai`` invocations: one line per connection."""

    command_received = Signal(str)  # every valid command
    request_received = Signal(object)  # the same, as an InstanceRequest (with its launch context)

    def __init__(
        self,
        name: str,
        parent: QObject | None = None,
        *,
        idle_ms: int = IDLE_MS,
        max_connections: int = MAX_CONNECTIONS,
    ) -> None:
        super().__init__(parent)
        self.name = name
        self._idle_ms = idle_ms
        self._max_connections = max_connections
        self._open: OrderedDict[_Peer, None] = OrderedDict()  # oldest first
        self._listener: socket.socket | None = None
        self._notifier: QSocketNotifier | None = None
        self._qt_server: Any = None

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def listen(self) -> bool:
        """Start listening; replaces a stale socket. False if another live instance owns it."""
        if self._bind():
            return True
        if send_command(self.name, "ping"):
            return False
        log.info("removing stale instance socket %s", self.name)
        self._remove_stale()
        return self._bind()

    def _bind(self) -> bool:
        if not UNIX_SOCKETS:  # pragma: no cover - Windows
            return self._bind_qt()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old_umask = os.umask(0o077)  # for this user only, from the first instant
        try:
            listener.bind(self.name)
        except OSError as exc:
            listener.close()
            if exc.errno in (errno.EADDRINUSE, errno.EEXIST):
                return False
            raise InstanceSocketError(
                f"cannot make the instance socket {self.name}: {exc.strerror or exc}",
                "Check that the data folder is writable (TRAYAI_DATA_DIR) and its path is short "
                "(a Unix socket path has at most 107 bytes).",
            ) from exc
        finally:
            os.umask(old_umask)
        listener.listen(64)  # a burst of launchers waits in the backlog, not refused
        listener.setblocking(False)
        self._listener = listener
        self._notifier = QSocketNotifier(listener.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._accept)
        return True

    def _remove_stale(self) -> None:
        if UNIX_SOCKETS:
            with contextlib.suppress(FileNotFoundError):
                Path(self.name).unlink()
        else:  # pragma: no cover - Windows
            # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
            from PySide6.QtNetwork import QLocalServer

            QLocalServer.removeServer(self.name)

    def _bind_qt(self) -> bool:  # pragma: no cover - Windows
        # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
        from PySide6.QtNetwork import QLocalServer

        if self._qt_server is None:
            self._qt_server = QLocalServer(self)
            # A named pipe for this user only.
            self._qt_server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
            self._qt_server.newConnection.connect(self._accept_qt)
        return bool(self._qt_server.listen(self.name))

    def close(self) -> None:
        for peer in list(self._open):
            self._drop(peer)
        if self._notifier is not None:
            self._notifier.setEnabled(False)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
            with contextlib.suppress(FileNotFoundError):
                Path(self.name).unlink()
        if self._qt_server is not None:  # pragma: no cover - Windows
            self._qt_server.close()

    def _accept(self, *_args: object) -> None:
        while self._listener is not None:
            try:
                sock, _ = self._listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:  # out of descriptors: the client is refused, the server lives
                log.warning("instance socket: cannot accept a client (%s)", exc)
                return
            self._adopt(_UnixPeer(sock, self._on_ready, self._forget))

    def _accept_qt(self) -> None:  # pragma: no cover - Windows
        while self._qt_server.hasPendingConnections():
            sock = self._qt_server.nextPendingConnection()
            peer = _QtPeer(sock, self._on_ready, self._forget)
            self._adopt(peer)
            if sock.bytesAvailable():
                self._on_ready(peer)

    def _adopt(self, peer: _Peer) -> None:
        while len(self._open) >= self._max_connections:  # evict the oldest, not the newcomer
            self._drop(next(iter(self._open)), "too many connections")
        peer.timer.timeout.connect(lambda: self._drop(peer, "idle"))
        peer.timer.start(self._idle_ms)
        self._open[peer] = None

    def _on_ready(self, peer: _Peer) -> None:
        if peer not in self._open:
            return
        peer.buffer += peer.read(MAX_LINE + 1 - len(peer.buffer))
        end = peer.buffer.find(b"\n")
        if end < 0:
            if len(peer.buffer) > MAX_LINE:
                self._drop(peer, "line too long")
            return
        request = parse_request(bytes(peer.buffer[:end]))
        command = request.command if request is not None else ""
        ok = request is not None and (
            command in COMMANDS
            or command == "ping"
            or action_from_command(command) is not None
            or target_from_command(command) is not None
        )
        self._forget(peer)
        peer.reply((json.dumps({"ok": ok}) + "\n").encode())  # one command per connection
        if ok and request is not None and command != "ping":
            self.command_received.emit(command)
            self.request_received.emit(request)
        elif not ok:
            log.debug("instance socket: refused a malformed command")

    def _drop(self, peer: _Peer, reason: str = "") -> None:
        if reason:
            log.debug("instance socket: dropping a client (%s)", reason)
        self._forget(peer)
        peer.abort()

    def _forget(self, peer: _Peer) -> None:
        if peer in self._open:
            del self._open[peer]
            peer.timer.stop()


__all__ = [
    "COMMANDS",
    "MAX_CONNECTIONS",
    "InstanceRequest",
    "InstanceServer",
    "send_command",
    "socket_name",
]
