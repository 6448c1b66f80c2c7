"""A running trayai is reached from where there is no display: the check is only for a new GUI."""

from __future__ import annotations

import os

from tests.ui.test_single_instance import app_env, start_app, trayai, wait_for_log
from trayai.core.paths import AppPaths


def test_prompt_without_a_session_forwards_to_the_running_app(paths: AppPaths) -> None:
    env = app_env(paths)
    first = start_app(env)
    try:
        wait_for_log(paths, "startup: tray shown")
        bare = {k: v for k, v in env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
        bare["QT_QPA_PLATFORM"] = "xcb"  # would abort (134) if this process made a QApplication
        for command in ("prompt", "chat", "settings"):
            result = trayai(command, env=bare)
            assert result.returncode == 0, result.stderr
            assert "graphical session" not in result.stderr
        log = wait_for_log(paths, "forwarded 'settings'")
        assert "forwarded 'prompt'" in log and "forwarded 'chat'" in log
        assert trayai("quit", env=bare).returncode == 0
        assert first.wait(10) == 0
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate(timeout=10)
    assert "DISPLAY" not in os.environ  # conftest scrubbed the developer's session from this process
