"""LocalServerController without the engine: new settings apply from the next start."""

from __future__ import annotations

from typing import Any

from trayai.core.embedded import EmbeddedServer
from trayai.core.paths import AppPaths
from trayai.core.settings.config import BuiltinServerSettings
from trayai.ui.local_server import LocalServerController


def test_reconfigure_a_server_we_do_not_run_only_stores_the_settings(paths: AppPaths, run: Any) -> None:
    paths.ensure()
    controller = LocalServerController(EmbeddedServer(BuiltinServerSettings(), paths.server_log_file))
    states: list[str] = []
    controller.state_changed.connect(states.append)
    new = BuiltinServerSettings(port=18123)
    assert run(controller.reconfigure(new)) is False  # nothing to start again
    assert controller.server.settings is new and controller.server.port == 18123
    assert states == []  # not stopped: it was not ours
