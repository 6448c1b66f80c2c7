"""One way to point a test's trayai at a scripted server (e2e tests and benchmarks share it)."""

from __future__ import annotations

from tests.support.scripted_server import ScriptedServer
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.store import ConfigStore


def configure_for(paths: AppPaths, server: ScriptedServer) -> None:
    """Save settings with one profile, "Scripted", for ``server`` and no built-in server autostart."""
    settings = Settings()
    settings.profiles = [Profile(name="Scripted", base_url=server.base_url)]
    settings.active_profile = "Scripted"
    settings.builtin_server.autostart = False
    ConfigStore(paths).save(settings)
