"""End-to-end settings on a real X server: open from the tray menu, add a profile by typing, pick the
model from the live list, OK — and the tray switches to it."""

from __future__ import annotations

import json

from tests.e2e.conftest import Desktop
from tests.e2e.test_tray_x11 import log_text, quit_app, running_app
from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import wait_until
from trayai.core.paths import AppPaths


def test_add_a_profile_from_the_tray_menu_and_switch_to_it(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    desktop.start_tray_host()
    with (
        ScriptedServer(models=["ai/qwen3", "ai/llama3.2"]) as second,
        running_app(desktop, server, paths) as app,
    ):
        wait_until(lambda: "tray=True" in log_text(paths), what="the tray icon")
        icons = [w for w in desktop.windows() if w[2] <= 32 and w[3] <= 32 and w[2] > 4]
        _, _, w, h, x, y = icons[0]
        wait_until(lambda: server.requests, what="the first poll")
        desktop.run("xdotool", "mousemove", str(x + w // 2), str(y + h // 2), "click", "3")
        wait_until(lambda: any(win[2] > 150 and win[3] > 150 for win in desktop.windows()), what="the menu")
        desktop.run("xdotool", "key", "s")  # &Settings…
        wait_until(lambda: "settings dialog shown" in log_text(paths), what="the settings dialog")
        found = desktop.run("xdotool", "search", "--sync", "--onlyvisible", "--name", "^Settings").split()
        desktop.run("xdotool", "windowactivate", "--sync", found[0], check=False)
        desktop.run("xdotool", "windowfocus", "--sync", found[0], check=False)
        desktop.run("xdotool", "key", "--clearmodifiers", "alt+a")  # &Add: a new profile, its name selected
        wait_until(
            lambda: "settings: profile 'New endpoint' added" in log_text(paths), what="the new profile"
        )
        desktop.run("xdotool", "type", "--clearmodifiers", "--delay", "15", "Second server")
        desktop.run("xdotool", "key", "--clearmodifiers", "alt+b", "ctrl+a")
        desktop.run("xdotool", "type", "--clearmodifiers", "--delay", "15", f"127.0.0.1:{second.port}")
        desktop.run("xdotool", "key", "--clearmodifiers", "alt+r")  # &Refresh: the live model list
        # The list arriving refills the combo: type the model only once it is in.
        wait_until(lambda: "settings: 2 model(s) listed by" in log_text(paths), what="the model list")
        desktop.screenshot("settings-new-profile")
        desktop.run("xdotool", "key", "--clearmodifiers", "alt+m", "ctrl+a")
        desktop.run("xdotool", "type", "--clearmodifiers", "--delay", "15", "ai/llama3.2")
        desktop.run("xdotool", "key", "--clearmodifiers", "alt+u")  # &Use this endpoint
        wait_until(
            lambda: "settings: profile 'Second server' will be used" in log_text(paths),
            what="Use this endpoint",
        )
        desktop.screenshot("settings-before-ok")
        desktop.run("xdotool", "key", "--clearmodifiers", "alt+n", "Return")  # Enter = OK
        wait_until(lambda: "settings applied (endpoint changed)" in log_text(paths), what="the new endpoint")
        wait_until(lambda: any(r.path.endswith("/models") for r in second.requests[1:]), what="polling it")
        saved = json.loads(paths.config_file.read_text())
        assert saved["active_profile"] == "Second server"
        second_profile = next(p for p in saved["profiles"] if p["name"] == "Second server")
        assert second_profile["base_url"] == second.base_url and second_profile["model"] == "ai/llama3.2"
        desktop.screenshot("settings-applied")
        quit_app(desktop, app)
