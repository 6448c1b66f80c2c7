"""The chat's servers in the running app (issue 25): the picker fed by the monitor and the fleet, a
choice on another profile switching the app's active server, and the down banner following it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import until
from tests.ui.test_app import settings_for
from trayai.core.paths import AppPaths
from trayai.core.picker import PickerChoice
from trayai.core.status import ServerState


def test_the_app_feeds_the_picker_and_a_choice_switches_the_server(
    server: ScriptedServer, make_app: Any, run: Any, paths: AppPaths
) -> None:
    server.models = ["ai/smollm2", "ai/qwen3"]
    app = make_app(settings_for(server))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.state is ServerState.READY)
        app.chats.open_chat()
        window = app.chats.chat_window
        assert window is not None and window.server is not None
        picker = window.options_bar.picker
        assert picker.isVisible() and picker.text() == "ai/smollm2 · Scripted"
        listed = [a.text().strip() for a in picker.menu_.actions() if a.text()]
        assert "ai/qwen3" in listed and any(t.startswith("Nowhere") for t in listed)
        assert not window.server_banner.isVisible()
        assert window.empty_state.target.text() == "Ask ai/smollm2 on Scripted — ready"
        picker.chosen.emit(PickerChoice("Nowhere", "ai/smollm2"))
        await until(lambda: app.monitor.state is ServerState.UNREACHABLE)
        assert json.loads(paths.config_file.read_text())["active_profile"] == "Nowhere"
        await until(window.server_banner.isVisible)
        assert "Open Settings" in window.server_banner.labels()
        assert not window.send_button.isEnabled()
        app.request_quit()
        assert await task == 0

    run(go())
