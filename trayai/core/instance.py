"""The single-instance protocol, without Qt: where the socket is, what a request says, how to send one.

One JSON line each way (``{"command": "chat"}`` → ``{"ok": true}``); limits: docs/architecture.md.
Besides the plain words in ``COMMANDS``, ``prompt:action:NAME`` runs a quick prompt action: the name
is checked by ``core/actions.py`` (bounded, one line, no controls) before the app sees it; and
``target:{json}`` retargets the running app for this run (checked by ``core/runtarget.py``).
A request may carry ``"launch": {"xdg_activation_token": …, "desktop_startup_id": …}`` — the
launcher's focus grant for the window it summons (``core/launch.py``). An older trayai ignores the
key and a request without it means no grant, so both sides stay compatible.

Sending is plain ``socket`` on Linux and macOS, so ``trayai prompt`` reaches a running app without
loading Qt (ui/ipc.py is the listening side; on Windows both sides use Qt's named pipes).
"""

from __future__ import annotations

import json
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from trayai.core.launch import LaunchContext

COMMANDS = ("show", "chat", "prompt", "settings", "quit")
CONNECT_TIMEOUT = 1.0  # seconds
MAX_LINE = 4096  # commands are a few dozen bytes
UNIX_SOCKETS = os.name != "nt"


def socket_name(runtime_dir: Path) -> str:
    """A per-user socket path: in the runtime/data dir, so tests and users never collide."""
    uid = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    if not UNIX_SOCKETS:  # named pipes live in their own namespace
        return f"trayai-{uid}"
    return str(runtime_dir / "trayai.sock")


@dataclass(frozen=True)
class InstanceRequest:
    """One accepted request: the command and the launcher's focus grant that came with it."""

    command: str
    launch: LaunchContext = field(default_factory=LaunchContext)


def request_line(command: str, launch: LaunchContext | None = None) -> bytes:
    request: dict[str, object] = {"command": command}
    if launch is not None and not launch.empty:
        request["launch"] = launch.to_wire()
    return (json.dumps(request) + "\n").encode()


def parse_request(line: bytes) -> InstanceRequest | None:
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


def reply_ok(reply: bytes) -> bool:
    try:
        return bool(json.loads(reply or b"{}").get("ok"))
    except (ValueError, AttributeError):
        return False


def send_unix(path: str, line: bytes, timeout: float = CONNECT_TIMEOUT) -> bool:
    """Send one request line to the app listening at ``path``; False if none answers "ok".

    Blocking, with a deadline: connecting within ``timeout``, the answer within three times that.
    """
    deadline = time.monotonic() + timeout * 4
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(path)
            sock.sendall(line)
            reply = b""
            while b"\n" not in reply and len(reply) <= MAX_LINE:
                sock.settimeout(max(0.01, deadline - time.monotonic()))
                chunk = sock.recv(MAX_LINE)
                if not chunk:
                    break
                reply += chunk
    except OSError:  # no socket, refused, reset, timed out: nobody answers
        return False
    return reply_ok(reply.split(b"\n", 1)[0])
