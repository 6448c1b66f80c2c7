"""The Windows/macOS backend with a stand-in pynput: callbacks from a foreign thread reach Qt queued."""

from __future__ import annotations

import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from trayai.core.hotkeys import parse_hotkey
from trayai.ui.hotkeys.pynput_backend import MACOS_PERMISSION_HINT, PynputHotkeys


class FakeGlobalHotKeys:
    """pynput.keyboard.GlobalHotKeys' interface: a thread that calls back for the mapping it got."""

    instances: ClassVar[list[FakeGlobalHotKeys]] = []
    IS_TRUSTED = True

    def __init__(self, mapping: dict[str, Callable[[], None]]) -> None:
        self.mapping = mapping
        self.stopped = False
        self.callback_threads: list[str] = []
        FakeGlobalHotKeys.instances.append(self)

    def start(self) -> None:
        return None

    def stop(self) -> None:
        self.stopped = True

    def press(self, combo: str) -> None:
        def fire() -> None:
            self.callback_threads.append(threading.current_thread().name)
            self.mapping[combo]()

        thread = threading.Thread(target=fire, name="pynput-listener")
        thread.start()
        thread.join()


@pytest.fixture
def fake_pynput(monkeypatch: pytest.MonkeyPatch) -> type[FakeGlobalHotKeys]:
    FakeGlobalHotKeys.instances = []
    FakeGlobalHotKeys.IS_TRUSTED = True
    keyboard = types.ModuleType("pynput.keyboard")
    keyboard.GlobalHotKeys = FakeGlobalHotKeys  # type: ignore[attr-defined]
    package = types.ModuleType("pynput")
    package.keyboard = keyboard  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pynput", package)
    monkeypatch.setitem(sys.modules, "pynput.keyboard", keyboard)
    return FakeGlobalHotKeys


def test_callback_on_a_foreign_thread_arrives_on_the_qt_thread(fake_pynput: Any, qapp: Any) -> None:
    backend = PynputHotkeys()
    seen: list[str] = []
    backend.activated.connect(lambda: seen.append(threading.current_thread().name))
    status = backend.register(parse_hotkey("Ctrl+Alt+Space"))
    assert status.active
    listener = fake_pynput.instances[-1]
    assert list(listener.mapping) == ["<ctrl>+<alt>+<space>"]
    listener.press("<ctrl>+<alt>+<space>")
    assert listener.callback_threads == ["pynput-listener"] and seen == []  # queued, not called there
    deadline = time.monotonic() + 2
    while not seen and time.monotonic() < deadline:
        qapp.processEvents()
    assert seen == [threading.main_thread().name]
    backend.register(parse_hotkey("Super+K"))  # re-registering stops the old listener
    assert listener.stopped and list(fake_pynput.instances[-1].mapping) == ["<cmd>+k"]


def test_macos_permission_failure_is_explained(
    fake_pynput: Any, qapp: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "platform", "darwin")
    fake_pynput.IS_TRUSTED = False
    status = PynputHotkeys().register(parse_hotkey("Ctrl+Alt+Space"))
    assert not status.active and status.message == MACOS_PERMISSION_HINT
    assert "Accessibility" in status.message


def test_missing_pynput_points_to_the_command(qapp: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pynput", None)  # import fails
    status = PynputHotkeys().register(parse_hotkey("Ctrl+Alt+Space"))
    assert not status.active and status.command_hint == "trayai prompt"
