"""The chat window against the real built-in server (llama.cpp + SmolLM2): stream, stop, context.

The end-to-end part drives the real app under Xvfb with xdotool, like the scripted-server e2e test.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.e2e.conftest import Desktop, desktop  # noqa: F401 - the fixture, used by name
from tests.e2e.test_tray_x11 import log_text, quit_app
from tests.support.waiting import wait_until
from trayai.core.chat.history import HistoryStore
from trayai.core.embedded import EmbeddedServer
from trayai.core.paths import AppPaths
from trayai.core.settings.config import GenerationParams, Profile, Settings
from trayai.core.settings.store import ConfigStore

pytestmark = pytest.mark.integration


def test_chat_window_against_smollm2_under_xvfb(
    desktop: Desktop,  # noqa: F811 - the fixture, imported by name
    builtin_server: EmbeddedServer,
    paths: AppPaths,
) -> None:
    settings = Settings()
    settings.profiles = [
        Profile(
            name="Built-in",
            base_url=builtin_server.base_url,
            generation=GenerationParams(temperature=0.0, max_tokens=96),
        )
    ]
    settings.active_profile = "Built-in"
    settings.builtin_server.autostart = False
    ConfigStore(paths).save(settings)
    desktop.start_tray_host()
    app = desktop.launch_trayai()
    try:
        wait_until(lambda: "startup: tray shown" in log_text(paths), what="the tray icon")
        subprocess.run([sys.executable, "-m", "trayai.cli", "chat"], env=desktop.env, timeout=20, check=True)
        wait_until(
            lambda: (
                desktop.run("xdotool", "search", "--onlyvisible", "--name", "^Chat", check=False).strip()
                != ""
            ),
            what="the chat window",
        )
        desktop.run("xdotool", "type", "--delay", "15", "Write a Python function that adds two numbers.")
        desktop.run("xdotool", "key", "Return")
        wait_until(lambda: "ended: done" in log_text(paths), timeout=120, what="SmolLM2's answer")
        desktop.screenshot("chat-smollm2")
        quit_app(desktop, app)
    finally:
        if app.poll() is None:
            app.kill()
        app.communicate(timeout=10)  # reap it and close its pipes
    with HistoryStore.in_dir(paths.data_dir) as history:
        conversation = history.list_conversations()[0]
        user, answer = history.messages(conversation.id)
    assert user.content == "Write a Python function that adds two numbers."
    assert answer.status == "done" and len(answer.content) > 20
    assert answer.meta["model"] and answer.meta["completion_tokens"] > 5
    assert answer.meta["tokens_per_second"] and answer.meta["tokens_per_second"] > 1
