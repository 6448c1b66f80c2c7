"""trayai's Wayland hotkey backend against a real GlobalShortcuts portal, not the fake one.

xdg-desktop-portal 1.16 with KDE's backend 5.27 and kglobalaccel (Debian 12) on Xvfb: the backend binds
Ctrl+Alt+Space through the portal, ``xdotool`` presses it, and the portal's ``Activated`` must reach
``PortalHotkeys.activated``. Each test's portal keeps its own kglobalaccel settings.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import Desktop
from tests.e2e.test_tray_x11 import log_text, quit_app, running_app
from tests.support.real_portal import PACKAGES, RealPortal, missing, real_portal
from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import until, wait_until
from tests.ui.conftest import qloop, run  # noqa: F401 - fixtures, used by name
from trayai.core.hotkeys import parse_hotkey
from trayai.core.paths import AppPaths
from trayai.ui.hotkeys.base import Registration
from trayai.ui.hotkeys.portal import SHORTCUT_ID, PortalHotkeys

CTRL, ALT, KEY_K = 0x04000000, 0x08000000, 0x4B  # Qt key codes, as kglobalaccel's D-Bus API takes them


@pytest.fixture
def portal(
    desktop: Desktop, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[RealPortal]:
    """The stack on the test's Xvfb, its bus the session bus of this process and of ``desktop``'s.

    ``@pytest.mark.parametrize("portal", [RC], indirect=True)`` gives it a kglobalshortcutsrc the
    user's desktop saved.
    """
    lacking = missing()
    if lacking:
        pytest.fail(f"the real portal needs {', '.join(lacking)}: apt-get install {PACKAGES}")
    saved = str(getattr(request, "param", ""))
    with real_portal(desktop.display, tmp_path / "portal", saved) as stack:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", stack.address)
        desktop.env["DBUS_SESSION_BUS_ADDRESS"] = stack.address
        yield stack


class Watched:
    """A backend with what it reported: each Registration and the number of presses."""

    def __init__(self) -> None:
        self.backend = PortalHotkeys()
        self.statuses: list[Registration] = []
        self.presses = 0
        self.backend.status_changed.connect(self.statuses.append)
        self.backend.activated.connect(self._pressed)

    def _pressed(self) -> None:
        self.presses += 1

    async def bind(self, combo: str = "Ctrl+Alt+Space") -> Registration:
        seen = len(self.statuses)
        self.backend.register(parse_hotkey(combo))
        await until(lambda: len(self.statuses) > seen, 30, "the portal's answer")
        return self.statuses[-1]

    async def key_set_in_kde_settings(self, portal: RealPortal) -> None:
        """What KDE's shortcut settings do when the user picks Ctrl+Alt+K for our action; waits
        for the ShortcutsChanged the portal then sends."""
        seen = len(self.statuses)
        await asyncio.to_thread(
            portal.set_foreign_shortcut,
            ["trayai", SHORTCUT_ID, "trayai", "Open the trayai quick prompt"],
            [CTRL | ALT | KEY_K],
        )
        await until(lambda: len(self.statuses) > seen, 10, "ShortcutsChanged")

    async def press(self, portal: RealPortal, keys: str = "ctrl+alt+space") -> None:
        before = self.presses
        await asyncio.to_thread(portal.press, keys)
        await until(lambda: self.presses == before + 1, 10, f"Activated after {keys}")


def test_bind_press_and_activated_fires(
    portal: RealPortal,
    run: Callable[..., Any],  # noqa: F811
) -> None:
    assert portal.version() == 1
    hotkey = Watched()

    async def go() -> Registration:
        status = await hotkey.bind()
        await hotkey.press(portal)
        await hotkey.press(portal)
        await until(portal.opened_urls, 10, "KDE to open its shortcut settings")
        await hotkey.backend.aclose()
        return status

    status = run(go())
    assert status == Registration(
        True, "GlobalShortcuts portal", "Ctrl+Alt+Space opens the quick prompt (desktop portal)."
    )
    assert hotkey.backend.bound == {SHORTCUT_ID: "Ctrl+Alt+Space"}
    assert hotkey.presses == 2
    # KDE asked for its shortcut settings page of the component our fixed session token names.
    assert portal.opened_urls() == ["systemsettings://kcm_keys/trayai"]


def test_rebinding_and_a_restart_keep_the_key(
    portal: RealPortal,
    run: Callable[..., Any],  # noqa: F811
) -> None:
    """A new registration closes the old session first, and a new run finds the key it saved.

    Both share KDE's component: overlapping sessions unbound the key, and per-run tokens made a new
    component each run whose key the previous run's still held (bound in the answer, never fired).
    """
    first, second = Watched(), Watched()

    async def go() -> None:
        await first.bind()
        assert (await first.bind()).active  # registered again: the settings changed
        await first.press(portal)
        await first.backend.aclose()
        assert (await second.bind()).active  # the app started again
        await second.press(portal)
        await second.backend.aclose()

    run(go())
    assert (first.presses, second.presses) == (1, 1)


def test_a_key_changed_in_the_desktop_settings_is_reported_and_works(
    portal: RealPortal,
    run: Callable[..., Any],  # noqa: F811
) -> None:
    hotkey = Watched()

    async def go() -> None:
        await hotkey.bind()
        await hotkey.key_set_in_kde_settings(portal)
        await hotkey.press(portal, "ctrl+alt+k")
        await hotkey.backend.aclose()

    run(go())
    assert hotkey.statuses[-1].message == "Ctrl+Alt+K opens the quick prompt (desktop portal)."
    assert hotkey.presses == 1


# The user removed the key in KDE's shortcut settings on an earlier run: the action is saved keyless.
KEYLESS = "[trayai]\n_k_friendly_name=trayai\nquick-prompt=none,none,Open the trayai quick prompt\n"


@pytest.mark.parametrize("portal", [KEYLESS], indirect=True, ids=["keyless"])
@pytest.mark.expect_log("trayai.ui.hotkeys.portal", "the quick prompt shortcut has no key")
def test_a_shortcut_left_without_a_key_says_so_until_the_user_assigns_one(
    portal: RealPortal,
    run: Callable[..., Any],  # noqa: F811
) -> None:
    hotkey = Watched()

    async def go() -> Registration:
        keyless = await hotkey.bind()
        await hotkey.key_set_in_kde_settings(portal)
        await hotkey.press(portal, "ctrl+alt+k")
        await hotkey.backend.aclose()
        return keyless

    keyless = run(go())
    assert not keyless.active and keyless.command_hint == "trayai prompt"
    assert "without a key" in keyless.message
    assert hotkey.statuses[-1].active and hotkey.presses == 1


def test_the_app_on_wayland_opens_the_quick_prompt_from_the_portal_key(
    desktop: Desktop, portal: RealPortal, server: ScriptedServer, paths: AppPaths
) -> None:
    """The whole app: a Wayland session picks the portal backend, and the key shows the prompt."""
    desktop.env["XDG_SESSION_TYPE"] = "wayland"  # Qt still draws on Xvfb; the hotkey goes through the portal
    with running_app(desktop, server, paths) as app:
        wait_until(
            lambda: "Ctrl+Alt+Space bound through the GlobalShortcuts portal" in log_text(paths),
            what="the portal binding",
        )
        portal.press("ctrl+alt+space")
        wait_until(lambda: "quick prompt shown" in log_text(paths), what="the quick prompt")
        desktop.screenshot("quick-prompt-portal")
        quit_app(desktop, app)
