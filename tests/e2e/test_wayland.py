"""End-to-end on a real Wayland compositor (headless sway): the tray in waybar, its menu, the chat, and
the settings, and the quick prompt floating, focused, typed into, answering and hidden.

trayai runs with QT_QPA_PLATFORM=wayland in a private session bus; what is mapped and focused comes from
sway's own tree, the tray from the StatusNotifierWatcher, the menu from the item's exported dbusmenu.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from PySide6.QtGui import QImage

from tests.e2e.test_tray_x11 import log_text, quit_app, running_app
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.sway import View
from tests.support.waiting import wait_until
from tests.support.wayland import BAR_RGB, WIDTH, MenuEntry, WaylandDesktop
from trayai.core.paths import AppPaths

T = TypeVar("T")
PROMPT = "Quick prompt — trayai"
CHAT = "Chat — trayai"
SETTINGS = "Settings — trayai"


def trayai(wayland: WaylandDesktop, command: str) -> None:
    """``trayai COMMAND`` forwarded to the running instance, as a user's key binding would run it."""
    done = subprocess.run(
        [sys.executable, "-m", "trayai.cli", command],
        env=wayland.env,
        timeout=20,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr


def wait_for(predicate: Callable[[], T | None], what: str) -> T:
    """``wait_until`` for a lookup that answers None until the thing appears."""
    found = wait_until(predicate, what=what)
    assert found is not None
    return found


def icon_pixels_in_bar(shot: Path) -> int:
    """Pixels of the bar's right end (where waybar puts tray icons) that are not the bar's colour."""
    image = QImage(str(shot))
    assert image.width() == WIDTH, image.size()
    return sum(
        image.pixel(x, y) & 0xFFFFFF != BAR_RGB for x in range(WIDTH - 40, WIDTH) for y in range(2, 26)
    )


def test_compositor_runs_unprivileged_and_root_clients_connect(wayland: WaylandDesktop) -> None:
    """sway refuses root: as root (CI) it runs as the test user, and root's clients still reach it."""
    owner = Path(f"/proc/{wayland.compositor_pid}").stat().st_uid
    assert owner != 0 and owner == wayland.runtime_dir.stat().st_uid
    assert oct(wayland.runtime_dir.stat().st_mode & 0o777) == "0o700"
    assert Path(wayland.env["WAYLAND_DISPLAY"]).is_absolute()
    assert wayland.screenshot("wayland-empty").stat().st_size > 1000  # grim, as this process's user


def test_tray_icon_menu_and_chat_on_wayland(
    wayland: WaylandDesktop, server: ScriptedServer, paths: AppPaths
) -> None:
    wayland.start_tray_host()
    before = wayland.screenshot("wayland-bar-empty")
    assert icon_pixels_in_bar(before) == 0  # nothing in the tray yet: the check below can fail
    with running_app(wayland, server, paths) as app:
        items = wait_until(wayland.registered_items, what="trayai's item at the StatusNotifierWatcher")
        assert len(items) == 1
        item = items[0]
        assert wayland.item_property(item, "Id") == "trayai"
        wait_until(lambda: "tray=True" in log_text(paths), what="the app to see the tray")
        wait_until(lambda: "first poll: ready" in log_text(paths), timeout=15, what="the first poll")

        def icon_shown() -> int:
            return icon_pixels_in_bar(wayland.screenshot("wayland-tray"))

        assert wait_until(icon_shown, what="the icon drawn in waybar's tray") > 100

        def open_chat_entry() -> MenuEntry | None:
            menu = wayland.tray_menu(item)
            ready = menu.find("Open chat") is not None and any(
                entry.label.startswith("Ready") for entry in menu.children
            )
            return menu if ready else None

        menu = wait_for(open_chat_entry, what="the menu with its status line")
        labels = [entry.label for entry in menu.children]
        for wanted in ("Open chat", "Quick prompt (Ctrl+Alt+Space)", "Settings…", "Quit"):
            assert wanted in labels, labels
        chat_entry = menu.find("Open chat")
        assert chat_entry is not None and chat_entry.enabled
        wayland.click_menu_entry(item, chat_entry)
        chat = wait_for(lambda: wayland.focused(CHAT), what="the chat window mapped and focused")
        assert chat.app_id == "trayai"
        wayland.screenshot("wayland-chat")
        trayai(wayland, "settings")
        settings = wait_for(lambda: wayland.focused(SETTINGS), what="the settings dialog focused")
        assert settings.app_id == "trayai"
        assert {v.name for v in wayland.views()} == {CHAT, SETTINGS}  # one title each, no stray window
        wayland.screenshot("wayland-settings")
        quit_app(wayland, app)
    wait_until(lambda: not wayland.registered_items(), what="the item to leave the watcher")


def test_quick_prompt_floats_focused_answers_and_hides(
    wayland: WaylandDesktop, server: ScriptedServer, paths: AppPaths
) -> None:
    wayland.start_tray_host()  # else the no-tray status window would share the screen
    server.script(Reply(text="2 + 2 = **4**.", rate=30))
    with running_app(wayland, server, paths) as app:
        wait_until(lambda: "tray=True" in log_text(paths), timeout=15, what="the app in the tray")
        trayai(wayland, "chat")  # a tiled window already there: the prompt must not squeeze it
        chat = wait_for(lambda: wayland.focused(CHAT), what="the chat window")
        assert not chat.floating and chat.width == WIDTH
        trayai(wayland, "prompt")
        prompt = wait_for(lambda: wayland.focused(PROMPT), what="the quick prompt focused")
        assert prompt.floating and prompt.app_id == "trayai", prompt
        assert 300 < prompt.width < WIDTH and prompt.height < 300, prompt
        chat_now = wayland.view(CHAT)
        assert chat_now is not None and chat_now.width == WIDTH  # not squeezed
        wayland.screenshot("wayland-prompt")
        wayland.type_text("What is 2+2?")
        wayland.key("Return")
        wait_until(lambda: "quick prompt: answer ended: done" in log_text(paths), what="the answer")

        def grown_view() -> View | None:
            view = wayland.view(PROMPT)
            return view if view is not None and view.height > prompt.height else None

        grown = wait_for(grown_view, what="the prompt to grow with the answer")
        assert grown.floating and grown.focused
        wayland.screenshot("wayland-prompt-answer")
        wayland.key("Escape")
        wait_until(lambda: "quick prompt hidden" in log_text(paths), what="Esc to hide it")
        wait_until(lambda: wayland.view(PROMPT) is None, what="the prompt unmapped")
        trayai(wayland, "prompt")  # summoned again: floats and takes the keyboard again
        again = wait_for(lambda: wayland.focused(PROMPT), what="the prompt shown again")
        assert again.floating
        quit_app(wayland, app)
    body = server.chat_requests()[-1].body
    assert body is not None and body["messages"][-1]["content"] == "What is 2+2?"
