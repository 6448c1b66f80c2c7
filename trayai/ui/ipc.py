"""Single instance: one trayai per user; later invocations forward their command to it and exit.

Why QLocalServer: it is a Unix socket on Linux/macOS and a named pipe on Windows, with
``UserAccessOption`` restricting it to the current user. The protocol is one JSON line each way:
``{"command": "chat"}`` → ``{"ok": true}``. A socket left behind by a crashed instance is detected (no
one answers) and replaced.

Signals of :class:`InstanceServer`: ``command_received(str)`` for every valid command.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger(__name__)

COMMANDS = ("show", "chat", "prompt", "settings", "quit")
CONNECT_TIMEOUT_MS = 1000


def socket_name(runtime_dir: Path) -> str:
    """A per-user socket path: in the runtime/data dir, so tests and users never collide."""
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    if os.name == "nt":  # named pipes live in their own namespace
        return f"trayai-{uid}"
    return str(runtime_dir / "trayai.sock")


def send_command(name: str, command: str, timeout_ms: int = CONNECT_TIMEOUT_MS) -> bool:
    """Forward ``command`` to a running instance; False if none answers (blocking, no event loop)."""
    sock = QLocalSocket()
    sock.connectToServer(name)
    if not sock.waitForConnected(timeout_ms):
        return False
    sock.write((json.dumps({"command": command}) + "\n").encode())
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


class InstanceServer(QObject):
    """Listens for commands from later ``trayai`` invocations."""

    command_received = Signal(str)

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)

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
        self._server.close()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._on_ready(s))
            sock.disconnected.connect(sock.deleteLater)

    def _on_ready(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            return
        line = bytes(sock.readLine().data())
        try:
            command = str(json.loads(line).get("command", ""))
        except (ValueError, AttributeError):
            command = ""
        ok = command in COMMANDS or command == "ping"
        sock.write((json.dumps({"ok": ok}) + "\n").encode())
        sock.flush()
        if ok and command != "ping":
            self.command_received.emit(command)
