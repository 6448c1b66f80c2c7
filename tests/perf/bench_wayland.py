"""``trayai prompt`` → quick prompt mapped, floating and focused on Wayland (headless sway): p50/p95.

The real app runs with QT_QPA_PLATFORM=wayland under sway (tests/support/wayland.py, waybar as its
tray). Each summon sends the ``prompt`` command to the running instance's socket, exactly the line
``trayai prompt`` sends, and the time runs until sway itself reports the prompt focused (a ``window``
event on its IPC, subscribed to); Esc (wtype) hides it between summons. Also measured: the whole
``trayai prompt`` command (a Python process start included), and a baseline in the same run: a minimal
PySide6 window shown by the same kind of socket command. Prints JSON.
Usage: ``python tests/perf/bench_wayland.py [--quick]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.appconfig import configure_for
from tests.support.scripted_server import ScriptedServer
from tests.support.sway import SUBSCRIBE, WINDOW_EVENT, SwayIpc
from tests.support.wayland import WaylandDesktop, wayland_desktop
from trayai.core.paths import AppPaths

PROMPT_TITLE = "Quick prompt"
BASELINE_TITLE = "Baseline window"
# The baseline: the least a PySide6 app can do for the same summon (a fixed-size window, so it floats
# too), shown when a line arrives on its local socket, hidden by Esc.
BASELINE = """
import sys
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtNetwork import QLocalServer
from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget
app = QApplication(sys.argv[:1])
app.setDesktopFileName("trayai-baseline")
window = QWidget()
window.setWindowTitle("Baseline window")
QVBoxLayout(window).addWidget(QLineEdit())
window.setFixedSize(680, 160)
QShortcut(QKeySequence("Esc"), window).activated.connect(window.hide)
server = QLocalServer()
server.listen(sys.argv[1])
def answer(sock):
    sock.readAll()
    window.show()
    window.raise_()
    window.activateWindow()
    sock.write(b'{"ok": true}\\n')
    sock.flush()
def connected():
    sock = server.nextPendingConnection()
    sock.readyRead.connect(lambda: answer(sock))
server.newConnection.connect(connected)
print("ready", flush=True)
app.exec()
"""


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def send_line(path: str, command: str) -> None:
    """What ``trayai prompt`` writes to the running instance (one JSON line), and its answer read."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(10)
        sock.connect(path)
        sock.sendall((json.dumps({"command": command}) + "\n").encode())
        if b"true" not in sock.recv(4096):
            raise RuntimeError(f"{path} refused {command!r}")


class WindowEvents:
    """sway's window events (new, focus, close…) as they happen, on a subscribed IPC connection."""

    def __init__(self, swaysock: str) -> None:
        self.ipc = SwayIpc(swaysock)
        self.ipc.sock.settimeout(30)
        if not self.ipc.call(SUBSCRIBE, '["window"]').get("success"):
            raise RuntimeError("sway refused the subscription")

    def wait(self, change: str, title: str) -> dict[str, Any]:
        """The next ``change`` event for a window whose title starts with ``title``."""
        while True:
            kind, event = self.ipc.receive()
            container = event.get("container") or {}
            name = str(container.get("name") or "")
            if kind == WINDOW_EVENT and event.get("change") == change and name.startswith(title):
                return dict(container)

    def close(self) -> None:
        self.ipc.close()


def summons(
    desk: WaylandDesktop, events: WindowEvents, title: str, summon: Callable[[], object], count: int
) -> tuple[list[float], bool]:
    """Milliseconds from each summon to sway's focus event; whether every one was floating."""
    latencies, floating = [], True
    for _ in range(count):
        started = time.perf_counter()
        summon()
        container = events.wait("focus", title)
        latencies.append((time.perf_counter() - started) * 1000)
        floating = floating and container.get("type") == "floating_con"
        desk.key("Escape")
        events.wait("close", title)
    return latencies, floating


def figures_of(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(statistics.median(values), 1),
        "p95": round(pct(values, 0.95), 1),
        "max": round(max(values), 1),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="5 summons of each kind instead of 20")
    count = 5 if parser.parse_args(argv).quick else 20
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        server = stack.enter_context(ScriptedServer())
        base = {k: v for k, v in os.environ.items() if not k.startswith(("LOCAL_", "DISPLAY"))}
        base.update(
            TRAYAI_CONFIG_DIR=f"{tmp}/config", TRAYAI_DATA_DIR=f"{tmp}/data", XDG_DATA_HOME=f"{tmp}/xdg"
        )
        desk = stack.enter_context(wayland_desktop(base))
        desk.start_tray_host()
        paths = AppPaths.from_env(desk.env)
        configure_for(paths, server)
        log = paths.log_dir / "trayai.log"

        def wait_log(text: str) -> None:
            deadline = time.monotonic() + 30
            while text not in (log.read_text() if log.exists() else ""):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"timed out waiting for {text!r}; the app logged:\n{log.read_text()}")
                time.sleep(0.01)

        app = subprocess.Popen(
            [sys.executable, "-m", "trayai.cli"],
            env=desk.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        stack.callback(app.kill)
        wait_log("first poll: ready")
        events = WindowEvents(desk.env["SWAYSOCK"])
        stack.callback(events.close)
        instance = str(paths.data_dir / "trayai.sock")
        first, _ = summons(desk, events, PROMPT_TITLE, lambda: send_line(instance, "prompt"), 1)
        by_socket, floating = summons(
            desk, events, PROMPT_TITLE, lambda: send_line(instance, "prompt"), count
        )
        by_cli, cli_floating = summons(
            desk,
            events,
            PROMPT_TITLE,
            lambda: subprocess.run([sys.executable, "-m", "trayai.cli", "prompt"], env=desk.env, check=True),
            count,
        )
        subprocess.run([sys.executable, "-m", "trayai.cli", "quit"], env=desk.env, timeout=30, check=False)
        app.wait(15)

        baseline_socket = f"{tmp}/baseline.sock"
        baseline = subprocess.Popen(
            [sys.executable, "-c", BASELINE, baseline_socket],
            env=desk.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        stack.callback(baseline.kill)
        assert baseline.stdout is not None and baseline.stdout.readline().strip() == "ready"
        summons(desk, events, BASELINE_TITLE, lambda: send_line(baseline_socket, "show"), 1)  # warm-up
        base_ms, base_floating = summons(
            desk, events, BASELINE_TITLE, lambda: send_line(baseline_socket, "show"), count
        )
        baseline.kill()
        baseline.communicate(timeout=10)
    socket_figures = figures_of(by_socket)
    figures = {
        "benchmark": "wayland_prompt",
        "compositor": "sway 1.7 headless (pixman), waybar tray",
        "summons": count,
        "first_summon_ms": round(first[0], 1),
        "command_to_focused_ms": socket_figures,
        "trayai_prompt_cli_to_focused_ms": figures_of(by_cli),
        "baseline_minimal_pyside6_ms": figures_of(base_ms),
        "ratio_to_baseline_p50": round(statistics.median(by_socket) / statistics.median(base_ms), 2),
        "floating": {"prompt": floating and cli_floating, "baseline": base_floating},
        "target_ms_p95": 150,
        "meets_target": {
            "command_to_focused": socket_figures["p95"] < 150,
            "trayai_prompt_cli": pct(by_cli, 0.95) < 150,
        },
        "includes": "instance socket round trip, show, Wayland map, sway focus event (CLI: Python start too)",
    }
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
