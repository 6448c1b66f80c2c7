"""Changing the built-in server's settings in the dialog restarts the server trayai runs."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.support.ports import free_port
from tests.support.waiting import until
from tests.ui.conftest import make_app, qloop, run  # noqa: F401 - fixtures, used by name
from trayai.core.settings.config import Profile, Settings
from trayai.core.status import ServerState

pytestmark = pytest.mark.integration


def test_builtin_server_restarts_with_new_settings(make_app: Any, run: Any) -> None:  # noqa: F811
    port = free_port()
    settings = Settings()
    settings.profiles = [Profile(name="Local", base_url=f"http://127.0.0.1:{port}/v1")]
    settings.active_profile = "Local"
    settings.builtin_server.port = port
    settings.builtin_server.context_size = 1024
    settings.builtin_server.on_demand = False  # the engine itself, whose argv carries the context size
    settings.poll_interval = 1.0
    app = make_app(settings)

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        app.builtin.start()
        await until(lambda: app.monitor.state is ServerState.READY, timeout=120)
        first_pid = app.server.server.pid
        assert first_pid is not None
        app.commands.open_settings()
        dialog = app.settings_opener.dialog
        assert dialog is not None
        dialog.builtin_page.editors["context_size"].widget.setValue(2048)
        assert dialog.try_accept()
        await until(lambda: app.server.server.pid not in (None, first_pid), timeout=30)
        await until(lambda: app.monitor.state is ServerState.READY, timeout=120)
        import psutil

        assert "--ctx-size 2048" in " ".join(psutil.Process(app.server.server.pid).cmdline())
        app.request_quit()
        assert await asyncio.wait_for(task, 30) == 0
        assert not app.server.server.is_running()

    run(go())
