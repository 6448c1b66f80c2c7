"""`trayai --endpoint URL` on a real X server: the tray starts on that endpoint for this run, and a
second `trayai --endpoint …` retargets the running one; nothing is saved."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.e2e.conftest import Desktop
from tests.e2e.test_tray_x11 import log_text, quit_app
from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import wait_until
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.store import ConfigStore


def test_endpoint_for_this_run_and_a_second_trayai_retargets(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    settings = Settings()
    settings.profiles = [Profile(name="Saved", base_url="http://127.0.0.1:9/v1")]  # nothing listens
    settings.active_profile = "Saved"
    settings.builtin_server.autostart = False
    ConfigStore(paths).save(settings)
    saved = paths.config_file.read_text()
    desktop.start_tray_host()
    app = subprocess.Popen(
        [sys.executable, "-m", "trayai.cli", "--endpoint", server.base_url],
        env=desktop.env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: "first poll: ready" in log_text(paths), timeout=20, what="ready on --endpoint")
        with ScriptedServer() as other:
            other.models = ["ai/qwen3"]
            done = subprocess.run(
                [sys.executable, "-m", "trayai.cli", "--endpoint", other.base_url, "--model", "ai/qwen3"],
                env=desktop.env,
                timeout=20,
                capture_output=True,
                text=True,
            )
            assert done.returncode == 0, done.stderr
            wait_until(lambda: "retargeted for this run" in log_text(paths), what="the retarget")
            wait_until(
                lambda: any(r.path == "/v1/models" for r in other.requests), what="polls of the new one"
            )
        assert paths.config_file.read_text() == saved  # this run only
        assert json.loads(saved)["active_profile"] == "Saved"
        quit_app(desktop, app)
    finally:
        if app.poll() is None:
            app.kill()
        app.communicate(timeout=10)
