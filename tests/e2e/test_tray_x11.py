"""End-to-end on a real X server: the icon in a real tray, the menu clicked, a model switched."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from tests.e2e.conftest import AppHost, Desktop
from tests.support.appconfig import configure_for
from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import wait_until
from trayai.core.paths import AppPaths

configure = configure_for  # the e2e tests' name for it


@contextlib.contextmanager
def running_app(desktop: AppHost, server: ScriptedServer, paths: AppPaths) -> Iterator[subprocess.Popen[str]]:
    """trayai configured for ``server``, started on ``desktop``, killed if a test leaves it running."""
    configure(paths, server)
    app = desktop.launch_trayai()
    try:
        yield app
    finally:
        if app.poll() is None:
            app.kill()
        app.communicate(timeout=10)  # reap it and close its pipes


def log_text(paths: AppPaths) -> str:
    log = paths.log_dir / "trayai.log"
    return log.read_text() if log.exists() else ""


def quit_app(desktop: AppHost, app: subprocess.Popen[str]) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "trayai.cli", "quit"],
        env=desktop.env,
        timeout=20,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert app.wait(10) == 0
    assert time.monotonic() - started < 5


def test_icon_in_a_real_tray_menu_and_model_switch(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    server.models = ["ai/smollm2", "ai/qwen3"]
    desktop.start_tray_host()
    with running_app(desktop, server, paths) as app:
        wait_until(lambda: "tray=True" in log_text(paths), what="the tray icon")
        icons = [w for w in desktop.windows() if w[2] <= 32 and w[3] <= 32 and w[2] > 4]
        assert icons, desktop.windows()  # embedded in trayer's panel, icon-sized
        _, _, w, h, x, y = icons[0]
        wait_until(lambda: "first poll: ready" in log_text(paths), timeout=15, what="the first poll")
        desktop.screenshot("tray-icon")
        desktop.run("xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "3")

        def menu_open() -> bool:
            return any(win[2] > 150 and win[3] > 150 for win in desktop.windows())

        wait_until(menu_open, what="the menu")
        shot = desktop.screenshot("tray-menu")
        assert shot.stat().st_size > 1000
        menus = {win[0] for win in desktop.windows()}
        desktop.run("xdotool", "key", "m")  # &Model opens the model submenu
        wait_until(lambda: {win[0] for win in desktop.windows()} - menus, timeout=15, what="the submenu")
        desktop.screenshot("tray-model-submenu")
        desktop.run("xdotool", "key", "Down", "Return")  # the second model
        config = paths.config_file

        def switched() -> bool:
            return config.exists() and "ai/qwen3" in config.read_text()

        wait_until(switched, what="the model choice to be saved")
        assert json.loads(config.read_text())["profiles"][0]["model"] == "ai/qwen3"
        desktop.run("xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "1")
        wait_until(lambda: "chat window shown" in log_text(paths), what="left click to open the chat")
        quit_app(desktop, app)


def test_without_a_tray_host_the_status_window_appears(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    with running_app(desktop, server, paths) as app:
        wait_until(lambda: "tray=False" in log_text(paths), what="start-up without a tray")
        wait_until(lambda: any(w[2] >= 300 for w in desktop.windows()), what="the status window")
        wait_until(lambda: "first poll: ready" in log_text(paths), timeout=15, what="the first poll")
        shot: Path = desktop.screenshot("status-window")
        assert shot.stat().st_size > 1000
        assert "no system tray available" in log_text(paths)
        quit_app(desktop, app)


def test_a_tray_that_appears_later_takes_the_icon(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    """trayai autostarted before the panel: it starts in the status window, then moves to the tray."""
    with running_app(desktop, server, paths) as app:
        wait_until(lambda: "tray=False" in log_text(paths), what="start-up without a tray")
        wait_until(lambda: any(w[2] >= 300 for w in desktop.windows()), what="the status window")
        desktop.start_tray_host()
        wait_until(lambda: "a system tray appeared" in log_text(paths), timeout=20, what="the tray")

        def only_icon() -> bool:
            wins = [w for w in desktop.windows() if w[2] > 4 and w[3] > 4]
            return bool(wins) and all(w[2] <= 32 for w in wins)

        wait_until(only_icon, what="the status window to give way to the icon")
        desktop.screenshot("tray-appeared-later")
        quit_app(desktop, app)
