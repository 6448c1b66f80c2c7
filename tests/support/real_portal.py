"""A real GlobalShortcuts portal on a private D-Bus: xdg-desktop-portal, KDE's backend and kglobalaccel.

Debian 12's xdg-desktop-portal 1.16 + xdg-desktop-portal-kde 5.27 run headless on an X server:
kglobalaccel grabs the keys on the root window (its xcb plugin), so ``xdotool key`` on Xvfb reaches it
and the portal emits ``Activated``. Each process is started only after the one it needs owns its bus
name; nothing is D-Bus-activated (the bus has no service directories), so nothing outlives the bus.
"""

from __future__ import annotations

import configparser
import contextlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from jeepney import DBusAddress, new_method_call
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import DBusConnection, open_dbus_connection

from tests.support.waiting import tail, wait_for_program

SERVICES = Path("/usr/share/dbus-1/services")
KDE_PORTAL = Path("/usr/share/xdg-desktop-portal/portals/kde.portal")
# Bus name → the D-Bus service file that says which program owns it, in start order.
STACK = (
    ("org.kde.kglobalaccel", "org.kde.kglobalaccel.service"),
    ("org.freedesktop.impl.portal.desktop.kde", "org.freedesktop.impl.portal.desktop.kde.service"),
    ("org.freedesktop.portal.Desktop", "org.freedesktop.portal.Desktop.service"),
)
PACKAGES = "xdg-desktop-portal xdg-desktop-portal-kde libkf5globalaccel-bin"
BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
# KDE's BindShortcuts opens its shortcut settings (systemsettings://kcm_keys/COMPONENT) through
# Qt, which runs the first `xdg-open` on PATH: this one only writes the URL down.
XDG_OPEN = '#!/bin/sh\nprintf "%s\\n" "$*" >> "{log}"\n'


def program(service_file: str) -> str | None:
    """The Exec= program of a D-Bus service file, if the file and the program exist."""
    path = SERVICES / service_file
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path, encoding="utf-8")
    exe = parser.get("D-BUS Service", "Exec", fallback="").split(" ")[0]
    return exe if exe and Path(exe).is_file() else None


def missing() -> list[str]:
    """What this machine lacks to run the stack (empty when it can)."""
    lacking = [file for _name, file in STACK if program(file) is None]
    lacking += [str(KDE_PORTAL)] if not KDE_PORTAL.is_file() else []
    lacking += [tool for tool in ("dbus-daemon", "xdotool") if shutil.which(tool) is None]
    return lacking


@dataclass
class RealPortal:
    """The running stack: its environment (DISPLAY, the private bus), home and each program's log."""

    env: dict[str, str]
    root: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return self.env["DBUS_SESSION_BUS_ADDRESS"]

    def connect(self) -> DBusConnection:
        return open_dbus_connection(self.address)

    def log(self, name: str) -> str:
        path = self.root / "logs" / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def logs(self) -> str:
        """Every program's output, for a failure message."""
        return "\n".join(f"--- {name}\n{self.log(name)[-3000:]}" for name in self.processes)

    def version(self) -> int:
        """The GlobalShortcuts interface version the portal publishes (introspected property)."""
        with self.connect() as conn:
            call = new_method_call(
                DBusAddress(
                    "/org/freedesktop/portal/desktop",
                    bus_name="org.freedesktop.portal.Desktop",
                    interface="org.freedesktop.DBus.Properties",
                ),
                "Get",
                "ss",
                ("org.freedesktop.portal.GlobalShortcuts", "version"),
            )
            return int(conn.send_and_get_reply(call, timeout=10).body[0][1])

    def stored_shortcuts(self) -> str:
        """kglobalaccel's saved shortcuts (it writes them as they change)."""
        path = self.root / "home" / ".config" / "kglobalshortcutsrc"
        return path.read_text(encoding="utf-8") if path.exists() else ""

    def opened_urls(self) -> list[str]:
        path = self.root / "opened-urls"
        return path.read_text(encoding="utf-8").split() if path.exists() else []

    def set_foreign_shortcut(self, action_id: list[str], keys: list[int]) -> None:
        """Assign ``keys`` (Qt key codes) to an action as KDE's shortcut settings do for the user."""
        with self.connect() as conn:
            call = new_method_call(
                DBusAddress(
                    "/kglobalaccel", bus_name="org.kde.kglobalaccel", interface="org.kde.KGlobalAccel"
                ),
                "setForeignShortcut",
                "asai",
                (action_id, keys),
            )
            reply = conn.send_and_get_reply(call, timeout=10)
            assert reply.header.message_type.name == "method_return", reply.body

    def press(self, keys: str) -> None:
        subprocess.run(["xdotool", "key", keys], env=self.env, check=True, timeout=10)

    def owned(self, name: str) -> bool:
        with self.connect() as conn:
            return bool(conn.send_and_get_reply(message_bus.NameHasOwner(name), timeout=10).body[0])


def _start(stack: RealPortal, name: str, argv: list[str]) -> None:
    log = (stack.root / "logs" / f"{name}.log").open("wb")
    with log:
        stack.processes[name] = subprocess.Popen(
            argv, env=stack.env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )


def _wait_owned(stack: RealPortal, name: str) -> None:
    wait_for_program(
        stack.processes[name], lambda: stack.owned(name), f"{name} on the private bus", stack.logs
    )


@contextlib.contextmanager
def private_bus(config: Path) -> Iterator[str]:
    """A session bus of our own that activates nothing (no service directories): its address.

    A stock session bus would start the installed xdg-desktop-portal (and its backends) on the first
    call to the portal's name, outside the test's control and outliving the bus.
    """
    config.write_text(BUS_CONFIG, encoding="utf-8")
    said = config.with_name("bus.log")  # what dbus-daemon says, for a failure message
    with said.open("wb") as log:
        bus = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    assert bus.stdout is not None
    try:
        address = bus.stdout.readline().strip()  # printed once it listens; "" if it died
        assert address, f"dbus-daemon did not start; it said:\n{tail(said)}"
        yield address
    finally:
        bus.terminate()
        bus.wait(5)
        bus.stdout.close()


@contextlib.contextmanager
def real_portal(display: str, root: Path, saved_shortcuts: str = "") -> Iterator[RealPortal]:
    """Start the stack for X display ``display`` with its files under ``root``; stop it on exit.

    ``saved_shortcuts``: a kglobalshortcutsrc as the user's desktop left it (empty: a first run).
    """
    for sub in ("home/.config", "home/.local/share", "home/.cache", "run", "portals", "logs", "bin"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "run").chmod(0o700)
    shutil.copy(KDE_PORTAL, root / "portals")  # the only backend xdg-desktop-portal may pick
    opener = root / "bin" / "xdg-open"
    opener.write_text(XDG_OPEN.format(log=root / "opened-urls"), encoding="utf-8")
    opener.chmod(0o755)
    home = root / "home"
    if saved_shortcuts:
        (home / ".config" / "kglobalshortcutsrc").write_text(saved_shortcuts, encoding="utf-8")
    env = {
        "PATH": f"{root / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local/share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_RUNTIME_DIR": str(root / "run"),
        "XDG_CURRENT_DESKTOP": "KDE",  # xdg-desktop-portal 1.16 picks backends by their UseIn=
        "XDG_DESKTOP_PORTAL_DIR": str(root / "portals"),
        "DISPLAY": display,
        "QT_QPA_PLATFORM": "xcb",
        "LANG": "C.UTF-8",
    }
    stack = RealPortal(env, root)
    with private_bus(root / "bus.conf") as address:
        env["DBUS_SESSION_BUS_ADDRESS"] = address
        try:
            for name, service in STACK:  # each only once the one before it owns its name
                exe = program(service)
                assert exe is not None, f"{service} is missing: apt-get install {PACKAGES}"
                _start(stack, name, [exe])
                _wait_owned(stack, name)
            yield stack
        finally:
            _stop(stack)


def _stop(stack: RealPortal) -> None:
    for proc in reversed(stack.processes.values()):
        proc.terminate()
    for proc in stack.processes.values():
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


__all__ = ["PACKAGES", "RealPortal", "missing", "private_bus", "real_portal"]
