"""A running tray retargeted by a second `trayai --endpoint …`: this run only, nothing saved, and
the menu says who fixed the endpoint."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import until
from tests.ui.test_app import settings_for, submenu
from trayai.core.paths import AppPaths
from trayai.core.runtarget import RunTarget
from trayai.core.status import ServerState


def test_a_retarget_command_moves_the_running_tray_for_this_run_only(
    server: ScriptedServer, make_app: Any, run: Any, paths: AppPaths
) -> None:
    settings = settings_for(server)
    settings.active_profile = "Nowhere"  # the saved choice points at a dead port…
    app = make_app(settings)

    said: list[str] = []
    tell = app.tray.message

    def recorded(title: str, text: str) -> None:
        said.append(title)
        tell(title, text)

    app.tray.message = recorded

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.state is ServerState.UNREACHABLE)
        saved = paths.config_file.read_text()
        app.commands.handle(RunTarget(None, server.base_url, "ai/smollm2").command())  # …a second trayai
        await until(lambda: app.monitor.state is ServerState.READY)
        assert app.monitor.client.base_url == server.base_url
        assert "Endpoint for this run" in said
        assert paths.config_file.read_text() == saved  # nothing was saved
        assert json.loads(saved).get("active_profile") != server.base_url
        app.tray.refresh_menu()
        servers = submenu(app.tray.menu, "servers")
        first = servers.actions()[0]
        assert first.text() == "Set by --endpoint (this run)" and not first.isEnabled()
        assert servers.actions()[1].text() == f"Using {server.base_url}"
        profiles = [a for a in servers.actions() if a.isCheckable()]
        # The run's server is none of the profiles: none is checked, none says the run's state.
        assert profiles and not any(a.isChecked() or a.isEnabled() for a in profiles)
        app.commands.handle("target:not json")  # malformed: ignored
        app.request_quit()
        assert await task == 0

    run(go())
