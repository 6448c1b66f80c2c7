"""Single instance: one trayai per user; later invocations forward their command and exit.

One JSON line each way (``{"command": "chat"}`` → ``{"ok": true}``); limits: docs/architecture.md.
Besides the plain words in ``COMMANDS``, ``prompt:action:NAME`` runs a quick prompt action: the name
is checked by ``core/actions.py`` (bounded, one line, no controls) before the app sees it; and
``target:{json}`` retargets the running app for this run (checked by ``core/runtarget.py``).
A request may carry ``"launch": {"xdg_activation_token": …, "desktop_startup_id": …}`` — the
launcher's focus grant for the window it summons (``core/launch.py``). An older trayai ignores the
key and a request without it means no grant, so both sides stay compatible.
"""

from __future__ import annotations

import json
import logging
import os
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from trayai.core.actions import action_from_command
from trayai.core.launch import LaunchContext
from trayai.core.runtarget import target_from_command

log = logging.getLogger(__name__)

COMMANDS = ("show", "chat", "prompt", "settings", "quit")
CONNECT_TIMEOUT_MS = 1000
MAX_LINE = 4096  # commands are a few dozen bytes
MAX_CONNECTIONS = 16
IDLE_MS = 5000


def socket_name(runtime_dir: Path) -> str:
    """A per-user socket path: in the runtime/data dir, so tests and users never collide."""
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    if os.name == "nt":  # named pipes live in their own namespace
        return f"trayai-{uid}"
    return str(runtime_dir / "trayai.sock")


@dataclass(frozen=True)
class InstanceRequest:
    """One accepted request: the command and the launcher's focus grant that came with it."""

    command: str
    launch: LaunchContext = field(default_factory=LaunchContext)


def send_command(
    name: str,
    command: str,
    timeout_ms: int = CONNECT_TIMEOUT_MS,
    *,
    launch: LaunchContext | None = None,
) -> bool:
    """Forward ``command`` (with ``launch``, if any) to a running instance; False if none answers
    (blocking, no event loop)."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return False
    request: dict[str, object] = {"command": command}
    if launch is not None and not launch.empty:
        request["launch"] = launch.to_wire()
    sock.write((json.dumps(request) + "\n").encode())
    # flush() may already have written everything, in which case waitForBytesWritten() is False.
    if not sock.flush() and sock.bytesToWrite() > 0:
        sock.waitForBytesWritten(timeout_ms)
    answered = sock.waitForReadyRead(timeout_ms * 3)
    reply = bytes(sock.readAll().data()) if answered else b""
    sock.disconnectFromServer()
    try:
        return bool(json.loads(reply or b"{}").get("ok"))
    except ValueError:
        return False


class _Connection:
    """One client: what it has sent so far (never more than ``MAX_LINE``) and its deadline."""

    def __init__(self, sock: QLocalSocket, timer: QTimer) -> None:
        self.sock = sock
        self.timer = timer
        self.buffer = bytearray()


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
        self._open: OrderedDict[QLocalSocket, _Connection] = OrderedDict()  # oldest first
        self._server = QLocalServer(self)
        # A Unix socket on Linux/macOS, a named pipe on Windows: either way for this user only.
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)

    @property
    def open_connections(self) -> int:
        return len(self._open)

    def listen(self) -> bool:
        """Start listening; replaces a stale socket. False if another live instance owns it."""
        if self._server.listen(self.name):
            return True
        if send_command(self.name, "ping"):
            return False
        log.info("removing stale instance socket %s", self.name)
        QLocalServer.removeServer(self.name)
        return self._server.listen(self.name)

    def close(self) -> None:
        for sock in list(self._open):
            self._drop(sock)
        self._server.close()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            while len(self._open) >= self._max_connections:  # evict the oldest, not the newcomer
                self._drop(next(iter(self._open)), "too many connections")
            sock.setReadBufferSize(MAX_LINE + 1)  # Qt itself never buffers more than a line
            timer = QTimer(sock)
            timer.setSingleShot(True)
            timer.timeout.connect(lambda s=sock: self._drop(s, "idle"))
            timer.start(self._idle_ms)
            self._open[sock] = _Connection(sock, timer)
            sock.readyRead.connect(lambda s=sock: self._on_ready(s))
            sock.disconnected.connect(lambda s=sock: self._forget(s))
            sock.disconnected.connect(sock.deleteLater)
            if sock.bytesAvailable():
                self._on_ready(sock)

    def _on_ready(self, sock: QLocalSocket) -> None:
        conn = self._open.get(sock)
        if conn is None:
            return
        conn.buffer += bytes(sock.read(MAX_LINE + 1 - len(conn.buffer)).data())
        end = conn.buffer.find(b"\n")
        if end < 0:
            if len(conn.buffer) > MAX_LINE:
                self._drop(sock, "line too long")
            return
        request = _parse_request(bytes(conn.buffer[:end]))
        command = request.command if request is not None else ""
        ok = request is not None and (
            command in COMMANDS
            or command == "ping"
            or action_from_command(command) is not None
            or target_from_command(command) is not None
        )
        self._forget(sock)
        sock.write((json.dumps({"ok": ok}) + "\n").encode())
        sock.flush()
        sock.disconnectFromServer()  # one command per connection; deleted once disconnected
        if ok and request is not None and command != "ping":
            self.command_received.emit(command)
            self.request_received.emit(request)
        elif not ok:
            log.debug("instance socket: refused a malformed command")

    def _drop(self, sock: QLocalSocket, reason: str = "") -> None:
        if reason:
            log.debug("instance socket: dropping a client (%s)", reason)
        self._forget(sock)
        sock.abort()
        sock.deleteLater()

    def _forget(self, sock: QLocalSocket) -> None:
        conn = self._open.pop(sock, None)
        if conn is not None:
            conn.timer.stop()


def _parse_request(line: bytes) -> InstanceRequest | None:
    """The request on one line, or None when it is not one (not JSON, or a malformed ``launch``)."""
    try:
        data = json.loads(line)
        command = str(data.get("command", ""))
    except (ValueError, AttributeError):
        return None
    if "launch" not in data:
        return InstanceRequest(command)
    launch = LaunchContext.from_wire(data["launch"])
    return None if launch is None else InstanceRequest(command, launch)
