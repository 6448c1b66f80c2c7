"""Is there a graphical session this process can open windows on? Decided before Qt is asked.

Qt aborts the whole process (exit 134, "could not load the Qt platform plugin") when its platform
plugin finds no display, so the GUI commands look first: a connect to the X server's socket with the
X11 setup handshake (so a server that refuses us counts as none) or to the Wayland socket — the
places libxcb and libwayland would go, for well under a millisecond on a local socket.
"""

from __future__ import annotations

import os
import re
import socket
import struct
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import AppError

X_TCP_PORT = 6000
CONNECT_TIMEOUT = 2.0  # a TCP display across a network: Qt itself would hang far longer
X_SOCKET_DIR = "/tmp/.X11-unix"  # noqa: S108 - where every X server on Unix puts its socket
# Platform plugins that talk to a display server; every other one (offscreen, minimal, vnc, eglfs,
# linuxfb, …) needs none, so nothing is checked for it.
X11_PLUGINS = frozenset({"xcb"})
HINT = (
    "start it from your desktop session, or set DISPLAY / WAYLAND_DISPLAY; "
    "the CLI commands (ask, models, status, …) work without one"
)


class NoDisplay(AppError):
    """No display server this process could open a window on; ``message`` says why."""

    code = ErrorCode.NO_DISPLAY

    def __init__(self, why: str) -> None:
        super().__init__(f"no graphical session: {why}", HINT)
        self.why = why


@dataclass(frozen=True)
class XDisplay:
    """``DISPLAY`` taken apart the way libxcb does: ``[protocol/][host]:number[.screen]``."""

    protocol: str | None
    host: str
    number: int

    @property
    def local(self) -> bool:
        return self.host == "" and self.protocol in (None, "unix")


def parse_x_display(value: str) -> XDisplay | None:
    """The parts of a ``DISPLAY`` value, or None when libxcb could not parse it either."""
    protocol: str | None = None
    rest = value
    if "/" in rest and not rest.startswith("/"):
        protocol, rest = rest.split("/", 1)
    match = re.fullmatch(r"(\[[^\]]*\]|.*?)(:{1,2})(\d+)(?:\.\d+)?", rest)
    if match is None or match.group(2) == "::":  # DECnet: not something we can check
        return None
    host = match.group(1).strip("[]")
    if host == "unix":
        host, protocol = "", protocol or "unix"
    return XDisplay(protocol, host, int(match.group(3)))


def _open_x_socket(display: XDisplay) -> socket.socket:
    """A connected socket to the X server, trying what libxcb tries in the same order."""
    errors: list[str] = []
    if display.local:
        path = f"{X_SOCKET_DIR}/X{display.number}"
        addresses = [f"\0{path}", path] if sys.platform.startswith("linux") else [path]
        for address in addresses:  # Linux servers also listen on an abstract socket
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.settimeout(CONNECT_TIMEOUT)
            try:
                sock.connect(address)
                return sock
            except OSError as exc:
                sock.close()
                errors.append(f"{path}: {exc.strerror or exc}")
        if display.protocol == "unix":
            raise OSError("; ".join(errors[-1:]))
    host = display.host or "localhost"
    try:
        return socket.create_connection((host, X_TCP_PORT + display.number), timeout=CONNECT_TIMEOUT)
    except OSError as exc:
        where = f"{host}:{X_TCP_PORT + display.number}"
        raise OSError("; ".join([*errors[-1:], f"{where}: {exc.strerror or exc}"])) from exc


def _xauth_file(env: Mapping[str, str]) -> Path | None:
    if env.get("XAUTHORITY"):
        return Path(env["XAUTHORITY"])
    home = env.get("HOME")
    return Path(home) / ".Xauthority" if home else None


FAMILY_INTERNET, FAMILY_INTERNET6, FAMILY_LOCAL, FAMILY_WILD = 0, 6, 256, 65535


def read_xauth(data: bytes) -> list[tuple[int, bytes, bytes, bytes, bytes]]:
    """The records of an Xauthority file: (family, address, display number, name, data)."""
    records = []
    offset = 0
    try:
        while offset < len(data):
            (family,) = struct.unpack_from(">H", data, offset)
            offset += 2
            fields = []
            for _ in range(4):
                (length,) = struct.unpack_from(">H", data, offset)
                fields.append(data[offset + 2 : offset + 2 + length])
                offset += 2 + length
            records.append((family, fields[0], fields[1], fields[2], fields[3]))
    except struct.error:  # a truncated file: what was read is all libXau would use too
        pass
    return records


def peer_address(sock: socket.socket) -> tuple[int, bytes]:
    """The Xauthority (family, address) of the server at the other end of ``sock``, chosen as libxcb
    does: a Unix socket or a loopback address is this host by name, any other by its IP address."""
    local = (FAMILY_LOCAL, socket.gethostname().encode())
    if sock.family == socket.AF_INET:
        packed = socket.inet_aton(sock.getpeername()[0])
        return local if packed[0] == 127 else (FAMILY_INTERNET, packed)
    if sock.family == socket.AF_INET6:
        packed = socket.inet_pton(socket.AF_INET6, sock.getpeername()[0])
        if packed[:12] == b"\0" * 10 + b"\xff\xff":  # an IPv4 address in IPv6 clothing
            return local if packed[12] == 127 else (FAMILY_INTERNET, packed[12:])
        return local if packed == b"\0" * 15 + b"\1" else (FAMILY_INTERNET6, packed)
    return local


def _cookie(sock: socket.socket, display: XDisplay, env: Mapping[str, str]) -> tuple[bytes, bytes]:
    """The MIT-MAGIC-COOKIE-1 libxcb would send to the server on ``sock`` (empty when none)."""
    path = _xauth_file(env)
    try:
        records = read_xauth(path.read_bytes()) if path is not None else []
    except OSError:
        return b"", b""
    number = str(display.number).encode()
    family, address = peer_address(sock)
    for record_family, record_address, record_number, name, data in records:
        if name != b"MIT-MAGIC-COOKIE-1" or record_number not in (number, b""):
            continue
        if record_family == FAMILY_WILD or (record_family, record_address) == (family, address):
            return name, data
    return b"", b""


def _pad(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def x_server_refusal(sock: socket.socket, name: bytes, data: bytes) -> str | None:
    """Send the X11 connection setup; None when the server accepts, else its reason for refusing."""
    request = struct.pack("<BxHHHHxx", 0x6C, 11, 0, len(name), len(data)) + _pad(name) + _pad(data)
    sock.sendall(request)
    head = _recv_exactly(sock, 8)
    status, reason_length = head[0], head[1]
    if status == 1:
        return None
    if status == 0:  # Failed: the reason follows the 8-byte header
        reason = _recv_exactly(sock, reason_length).decode("latin-1", "replace").strip()
        return reason or "no reason given"
    return "it asks for an authentication protocol trayai does not speak"


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise OSError("the server closed the connection during the handshake")
        data += chunk
    return data


def x11_problem(env: Mapping[str, str], keep: list[socket.socket] | None = None) -> str | None:
    """None when an X server accepts us at ``$DISPLAY``, else why not; the accepted connection is
    added to ``keep`` (else closed)."""
    value = env.get("DISPLAY", "")
    if not value:
        return "DISPLAY is not set"
    display = parse_x_display(value)
    if display is None:
        return f"DISPLAY={value} is not a display name like :0 or host:0"
    try:
        sock = _open_x_socket(display)
    except OSError as exc:
        return f"no X server at DISPLAY={value} ({exc})"
    try:
        refusal = x_server_refusal(sock, *_cookie(sock, display, env))
    except OSError as exc:
        sock.close()
        return f"the X server at DISPLAY={value} did not complete the handshake ({exc})"
    if refusal is not None:
        sock.close()
        return f"the X server at DISPLAY={value} refused the connection: {refusal}"
    if keep is None:
        sock.close()
    else:
        keep.append(sock)
    return None


def wayland_socket(env: Mapping[str, str]) -> str | None:
    """The socket path libwayland would connect to, or None when it could not name one."""
    name = env.get("WAYLAND_DISPLAY") or "wayland-0"
    if name.startswith("/"):
        return name
    runtime = env.get("XDG_RUNTIME_DIR")
    return str(Path(runtime) / name) if runtime else None


def wayland_problem(env: Mapping[str, str]) -> str | None:
    """None when a Wayland compositor accepts a connection, else why not."""
    if env.get("WAYLAND_SOCKET"):  # a socket handed over by the compositor itself
        return None
    path = wayland_socket(env)
    if path is None:
        return "XDG_RUNTIME_DIR is not set, so there is no Wayland socket to find"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(CONNECT_TIMEOUT)
    try:
        sock.connect(path)
    except BlockingIOError:
        return None  # its backlog is full: a busy compositor, but one is there
    except OSError as exc:
        return f"no Wayland compositor at {path} ({exc.strerror or exc})"
    finally:
        sock.close()
    return None


def platform_candidates(env: Mapping[str, str]) -> list[str]:
    """The platform plugins Qt will try, in order (QGuiApplication's own choice, Qt 6)."""
    chosen = env.get("QT_QPA_PLATFORM", "")
    if not chosen:
        wayland_session = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE") == "wayland"
        chosen = "wayland;xcb" if wayland_session else "xcb"
    return [part.split(":", 1)[0].strip().lower() for part in chosen.split(";") if part.strip()]


def display_problem(
    env: Mapping[str, str] | None = None,
    platform: str = sys.platform,
    keep: list[socket.socket] | None = None,
) -> str | None:
    """None when Qt will find a display (or needs none), else why it will not, in words; an X
    connection that was accepted is added to ``keep`` (see :func:`holding_display`), else closed."""
    if platform == "darwin" or platform.startswith(("win", "cygwin")):
        return None  # Cocoa and Windows always have their window system: nothing to check
    env = os.environ if env is None else env
    reasons: list[str] = []
    for plugin in platform_candidates(env):
        if plugin in X11_PLUGINS:
            problem = x11_problem(env, keep)
        elif plugin.startswith("wayland"):  # wayland, wayland-egl, wayland-brcm
            problem = wayland_problem(env)
        else:
            return None  # offscreen, minimal, vnc, eglfs, …: Qt needs no display server for it
        if problem is None:
            return None
        reasons.append(problem)
    explicit = env.get("QT_QPA_PLATFORM")
    prefix = f"QT_QPA_PLATFORM={explicit}: " if explicit else ""
    if not explicit and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return "neither DISPLAY nor WAYLAND_DISPLAY is set"
    return prefix + "; ".join(dict.fromkeys(reasons))


@contextmanager
def holding_display(env: Mapping[str, str] | None = None, platform: str = sys.platform) -> Iterator[None]:
    """Raise :class:`NoDisplay` when creating the QApplication would abort for want of a display;
    else keep the probe's X connection open while the body connects Qt.

    Why: an X server whose last client leaves resets itself and hangs up on whoever connects
    meanwhile — on a bare Xvfb the probe leaving just before Qt arrives made Qt abort after all.
    """
    kept: list[socket.socket] = []
    try:
        problem = display_problem(env, platform, kept)
        if problem is not None:
            raise NoDisplay(problem)
        yield
    finally:
        for sock in kept:
            sock.close()


__all__ = ["NoDisplay", "display_problem", "holding_display", "parse_x_display"]
