"""Real desktops for end-to-end tests: X11 (Xvfb, a private D-Bus session, optionally a tray host) and
Wayland (headless sway, see tests/support/wayland.py).

Screenshots go to ``tests/artifacts/`` (ignored by git) for a person to look at.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import pytest

from tests.support.apphost import HostProcesses
from tests.support.waiting import tail, wait_for_program
from tests.support.wayland import WaylandDesktop, WaylandUnavailable, wayland_desktop
from tests.support.xvfb import start_xvfb

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TOOLS = ("Xvfb", "xdotool", "trayer", "dbus-daemon", "import", "xwininfo")


@dataclass
class Desktop(HostProcesses):
    display: str
    env: dict[str, str]
    log_dir: Path  # what the desktop's programs (trayer) print, for a failure message
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def start_tray_host(self) -> None:
        """trayer, ready once its panel is mapped (it exiting first, or never mapping, shows its output)."""
        log_path = self.log_dir / "trayer.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [
                    "trayer",
                    "--edge",
                    "top",
                    "--align",
                    "right",
                    "--widthtype",
                    "request",
                    "--height",
                    "24",
                    "--transparent",
                    "false",
                    "--tint",
                    "0xdddddd",
                    "--SetDockType",
                    "true",
                ],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        self.processes.append(proc)
        wait_for_program(
            proc,
            lambda: '"panel": ("panel" "trayer")' in self.run("xwininfo", "-root", "-tree", check=False),
            "trayer's panel to be mapped",
            lambda: tail(log_path),
        )

    def windows(self) -> list[tuple[str, str, int, int, int, int]]:
        """(id, name, width, height, abs_x, abs_y) of every window named trayai."""
        rows = []
        for raw in self.run("xwininfo", "-root", "-tree").splitlines():
            line = raw.strip()
            if '"trayai":' not in line:
                continue
            wid, rest = line.split(" ", 1)
            geometry = rest.split(")")[-1].split()
            size, absolute = geometry[0], geometry[1]
            w, h = (int(v) for v in size.split("+")[0].split("x"))
            ax, ay = (int(v) for v in absolute.lstrip("+").split("+"))
            rows.append((wid, rest, w, h, ax, ay))
        return rows

    def screenshot(self, name: str) -> Path:
        ARTIFACTS.mkdir(exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.run("import", "-window", "root", str(path))
        return path


@pytest.fixture
def desktop(tmp_path: Path) -> Iterator[Desktop]:
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"end-to-end tests need {', '.join(missing)}: run `bash resources/bootstrap.sh --test`")
    xvfb, number = start_xvfb()
    env = dict(os.environ)
    env.update({"DISPLAY": f":{number}", "QT_QPA_PLATFORM": "xcb"})
    env.pop("WAYLAND_DISPLAY", None)
    bus = subprocess.run(
        ["dbus-daemon", "--session", "--fork", "--print-address=1", "--print-pid=1"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    ).stdout.split()
    env["DBUS_SESSION_BUS_ADDRESS"], bus_pid = bus[0], int(bus[1])
    logs = tmp_path / "desktop-logs"
    logs.mkdir()
    desk = Desktop(f":{number}", env, logs, [xvfb])
    try:
        yield desk
    finally:
        for proc in reversed(desk.processes):
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
        with contextlib.suppress(ProcessLookupError):
            os.kill(bus_pid, 15)


class AppHost(Protocol):
    """Where the e2e helpers (running_app, quit_app) start trayai: an X11 ``Desktop`` or Wayland."""

    env: dict[str, str]

    def launch_trayai(self) -> subprocess.Popen[str]: ...


@pytest.fixture
def wayland() -> Iterator[WaylandDesktop]:
    """Headless sway (as the unprivileged test user when run as root), a private bus; no tray host yet."""
    try:
        with wayland_desktop(dict(os.environ)) as session:
            yield session
    except WaylandUnavailable as exc:
        pytest.fail(str(exc))
