"""`trayai prompt` from a Wayland launcher: the running app hands the launcher's token to the
compositor (a real one: sway, headless), seen on the wire with WAYLAND_DEBUG.

Qt's xdg-shell plugin reads $XDG_ACTIVATION_TOKEN when the window is shown and sends
xdg_activation_v1.activate(token, surface); the app must have put the forwarded token there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.e2e.test_tray_x11 import configure, log_text
from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import tail, wait_for_program, wait_until
from trayai.core.paths import AppPaths

NOBODY = 65534  # sway refuses to run as root: the compositor runs as nobody, its clients as us


@dataclass
class Compositor:
    env: dict[str, str]


@pytest.fixture
def sway() -> Iterator[Compositor]:
    if shutil.which("sway") is None or shutil.which("setpriv") is None:
        pytest.fail("needs sway and setpriv (util-linux): apt-get install sway")
    # nobody must reach these: not under pytest's root-only tmp folder
    home = Path(tempfile.mkdtemp(prefix="trayai-sway-"))
    home.chmod(0o755)
    runtime = home / "runtime"
    runtime.mkdir(mode=0o700)
    os.chown(runtime, NOBODY, NOBODY)
    config = home / "sway.conf"
    config.write_text("output HEADLESS-1 resolution 1024x600\n")
    compositor_env = {
        "PATH": os.environ["PATH"],
        "HOME": str(runtime),
        "XDG_RUNTIME_DIR": str(runtime),
        "WLR_BACKENDS": "headless",
        "WLR_LIBINPUT_NO_DEVICES": "1",
        "WLR_RENDERER": "pixman",
    }
    sway_log = home / "sway.log"  # what sway says, for a failure message
    with sway_log.open("wb") as log:
        proc = subprocess.Popen(
            [
                "setpriv",
                f"--reuid={NOBODY}",
                f"--regid={NOBODY}",
                "--clear-groups",
                "sway",
                "-c",
                str(config),
            ],
            env=compositor_env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        sockets = wait_for_program(
            proc,
            lambda: sorted(runtime.glob("wayland-[0-9]")),
            "sway's Wayland socket",
            lambda: tail(sway_log),
        )
        socket_path = sockets[0]
        env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
        env.update(
            {
                "XDG_RUNTIME_DIR": str(runtime),
                "WAYLAND_DISPLAY": socket_path.name,
                "QT_QPA_PLATFORM": "wayland",
            }
        )
        yield Compositor(env)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(home, ignore_errors=True)


def test_the_forwarded_token_reaches_the_compositor(
    sway: Compositor, server: ScriptedServer, paths: AppPaths, tmp_path: Path
) -> None:
    configure(paths, server)
    wire = tmp_path / "wayland-debug.txt"
    with wire.open("w") as out:
        app = subprocess.Popen(
            [sys.executable, "-m", "trayai.cli"],
            env={**sway.env, "WAYLAND_DEBUG": "client"},
            stdout=subprocess.DEVNULL,
            stderr=out,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_until(lambda: "startup: tray shown" in log_text(paths), 30, "the app on sway")
        token = "launcher-token-e2e-17"
        second = subprocess.run(
            [sys.executable, "-m", "trayai.cli", "prompt"],
            env={**sway.env, "XDG_ACTIVATION_TOKEN": token},
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 0, second.stderr
        activate = f'.activate("{token}", wl_surface@'
        wait_until(lambda: activate in wire.read_text(errors="replace"), 15, "the token on the wire")
        plain = subprocess.run([sys.executable, "-m", "trayai.cli", "chat"], env=sway.env, timeout=30)
        assert plain.returncode == 0
        wait_until(lambda: "chat window shown" in log_text(paths), 15, "the chat window")
        assert wire.read_text(errors="replace").count(f'"{token}"') == 1  # used once, then gone
        quit_ = subprocess.run([sys.executable, "-m", "trayai.cli", "quit"], env=sway.env, timeout=30)
        assert quit_.returncode == 0
        assert app.wait(15) == 0
    finally:
        if app.poll() is None:
            app.kill()
            app.wait(10)
