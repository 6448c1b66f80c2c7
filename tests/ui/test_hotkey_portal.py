"""The Wayland path against a fake GlobalShortcuts portal on a private session bus."""

from __future__ import annotations

import asyncio
import gc
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support.real_portal import private_bus as bus_without_activation
from tests.support.waiting import until
from trayai.core.hotkeys import parse_hotkey
from trayai.ui.hotkeys import create_backend
from trayai.ui.hotkeys.base import Registration
from trayai.ui.hotkeys.portal import SESSION_NAME, SHORTCUT_ID, PortalHotkeys

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def private_bus(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[str]:
    """A bus that activates nothing: with no fake portal, no installed real one may answer instead."""
    if shutil.which("dbus-daemon") is None:
        pytest.fail("dbus-daemon is missing: run `bash resources/bootstrap.sh --test`")
    with bus_without_activation(tmp_path / "bus.conf") as address:
        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
        yield address


def start_portal(address: str, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_portal", *args],
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": address, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def trigger(address: str, shortcut: str) -> None:
    subprocess.run(
        [
            "dbus-send",
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.portal.Desktop",
            "/org/freedesktop/portal/desktop",
            "org.trayai.FakePortal.Trigger",
            f"string:{shortcut}",
        ],
        env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": address},
        check=True,
        capture_output=True,
        timeout=10,
    )


async def next_status(backend: PortalHotkeys, timeout: float = 10.0) -> Registration:
    future: asyncio.Future[Registration] = asyncio.get_running_loop().create_future()

    def first(status: Registration) -> None:
        if not future.done():
            future.set_result(status)

    backend.status_changed.connect(first)
    return await asyncio.wait_for(future, timeout)


def test_session_created_shortcut_bound_and_activated(private_bus: str, run: Callable[..., Any]) -> None:
    portal = start_portal(private_bus)
    backend = PortalHotkeys()
    presses: list[int] = []
    backend.activated.connect(lambda: presses.append(1))

    async def go() -> Registration:
        first = backend.register(parse_hotkey("Ctrl+Alt+Space"))
        assert not first.active and "Asking the desktop portal" in first.message
        status = await next_status(backend)
        await asyncio.to_thread(trigger, private_bus, SHORTCUT_ID)
        await asyncio.to_thread(trigger, private_bus, SHORTCUT_ID)
        await until(lambda: len(presses) >= 2, what="2 presses")
        await backend.aclose()
        return status

    try:
        status = run(go())
    finally:
        portal.terminate()
        output = portal.communicate(timeout=5)[0]
    assert status.active and "Press CTRL+ALT+space" in status.message
    assert len(presses) == 2
    # One fixed session name: KDE names the shortcuts' component after it, so it must not change per run.
    session = next(line for line in output.splitlines() if line.startswith("CreateSession "))
    assert session.startswith("CreateSession /org/freedesktop/portal/desktop/session/")
    assert session.endswith(f"/{SESSION_NAME}")
    assert f"BindShortcuts {SHORTCUT_ID} CTRL+ALT+space" in output


@pytest.mark.expect_log("trayai.ui.hotkeys.portal", "GlobalShortcuts portal unavailable")
def test_no_portal_points_to_the_bindable_command(private_bus: str, run: Callable[..., Any]) -> None:
    backend = PortalHotkeys()

    async def go() -> Registration:
        backend.register(parse_hotkey("Ctrl+Alt+Space"))
        return await next_status(backend)

    status = run(go())
    assert not status.active and status.command_hint == "trayai prompt"
    assert "trayai prompt" in status.message and "not available" in status.message


@pytest.mark.expect_log("trayai.ui.hotkeys.portal", "GlobalShortcuts portal unavailable")
def test_portal_refusal_is_reported(private_bus: str, run: Callable[..., Any]) -> None:
    portal = start_portal(private_bus, "--refuse")

    async def go() -> Registration:
        backend = PortalHotkeys()
        backend.register(parse_hotkey("Super+K"))
        return await next_status(backend)

    try:
        status = run(go())
    finally:
        portal.terminate()
        portal.communicate(timeout=5)
    assert not status.active and "portal answer 2" in status.message


# python-xlib leaves the sockets of a failed connection to the garbage collector: collected below,
# inside this test, so the warning is this test's and is the only one ignored.
@pytest.mark.filterwarnings("ignore:unclosed <socket.socket:ResourceWarning")
@pytest.mark.expect_log("trayai.ui.hotkeys", "X11 hotkeys unavailable")
def test_backend_choice_by_session(qapp: Any) -> None:
    assert type(create_backend(environ={"WAYLAND_DISPLAY": "wayland-0"})).__name__ == "PortalHotkeys"
    assert type(create_backend(environ={"XDG_SESSION_TYPE": "wayland"})).__name__ == "PortalHotkeys"
    none = create_backend(environ={})
    assert type(none).__name__ == "NoBackend"
    status = none.register(parse_hotkey("Ctrl+Alt+Space"))
    assert not status.active and status.command_hint == "trayai prompt"
    broken_x = create_backend(environ={"DISPLAY": ":987"})  # no such X server
    assert type(broken_x).__name__ == "NoBackend"
    gc.collect()
