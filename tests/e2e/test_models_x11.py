"""End-to-end on a real X server with a real tray host: unload a model from Model ▸ and watch the
server and trayai agree that it is gone."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.conftest import Desktop
from tests.e2e.test_tray_x11 import log_text, quit_app
from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from tests.support.waiting import wait_until
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.store import ConfigStore


def test_unload_a_model_from_the_tray_menu(desktop: Desktop, paths: AppPaths) -> None:
    models = [FakeModel("llama3.2:latest", loaded=True), FakeModel("qwen3:8b")]
    with FakeBackend(Kind.OLLAMA, models) as fake:
        settings = Settings()
        settings.profiles = [Profile(name="Ollama", base_url=fake.base_url, model="llama3.2:latest")]
        settings.active_profile = "Ollama"
        settings.builtin_server.autostart = False
        ConfigStore(paths).save(settings)
        desktop.start_tray_host()
        app = desktop.launch_trayai()
        try:
            wait_until(lambda: "tray=True" in log_text(paths), what="the tray icon")
            wait_until(
                lambda: f"loaded on {fake.base_url}: llama3.2:latest" in log_text(paths),
                timeout=15,
                what="trayai to see the loaded model",
            )
            icons = [w for w in desktop.windows() if 4 < w[2] <= 32 and w[3] <= 32]
            assert icons, desktop.windows()
            _, _, w, h, x, y = icons[0]
            desktop.run("xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "3")
            wait_until(
                lambda: any(win[2] > 150 and win[3] > 150 for win in desktop.windows()), what="the menu"
            )
            before = {win[0] for win in desktop.windows()}
            desktop.run("xdotool", "key", "m")  # &Model
            wait_until(lambda: {win[0] for win in desktop.windows()} - before, timeout=15, what="Model ▸")
            shot: Path = desktop.screenshot("tray-model-states")
            assert shot.stat().st_size > 1000
            opened = {win[0] for win in desktop.windows()}
            desktop.run("xdotool", "key", "u")  # &Unload ▸
            wait_until(lambda: {win[0] for win in desktop.windows()} - opened, timeout=15, what="Unload ▸")
            desktop.screenshot("tray-model-unload")
            desktop.run("xdotool", "key", "Return")  # its only entry: llama3.2:latest
            wait_until(lambda: not fake.models["llama3.2:latest"].loaded, timeout=15, what="the unload")
            wait_until(
                lambda: f"loaded on {fake.base_url}: nothing" in log_text(paths),
                timeout=15,
                what="trayai to see that nothing is loaded",
            )
            unloads = [r for r in fake.requests if r.path == "/api/generate"]
            assert [r.json for r in unloads] == [{"model": "llama3.2:latest", "keep_alive": 0}]
            quit_app(desktop, app)
        finally:
            if app.poll() is None:
                app.kill()
            app.communicate(timeout=10)
