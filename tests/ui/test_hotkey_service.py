"""The hotkey service: statuses in words, and a press that summons, focuses or hides the prompt."""

from __future__ import annotations

from typing import Any

import pytest

from trayai.ui.hotkeys.base import Registration
from trayai.ui.hotkeys.service import HotkeyService


class FakePrompt:
    """What the service reads from the quick prompt window."""

    def __init__(self) -> None:
        self.visible = self.active = False
        self.dismissed = 0

    def isVisible(self) -> bool:  # Qt's spelling
        return self.visible

    def isActiveWindow(self) -> bool:
        return self.active

    def winId(self) -> int:
        return 42

    def dismiss(self) -> None:
        self.dismissed += 1
        self.visible = self.active = False


@pytest.fixture
def no_session(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)
    # What a hotkey registered without a graphical session logs (a test that registers none: nothing).
    request.node.add_marker(
        pytest.mark.expect_log("trayai.ui.hotkeys", "No graphical session", optional=True)
    )


def test_statuses_in_words(qapp: Any, no_session: None) -> None:
    service = HotkeyService(lambda: None, lambda: None)
    seen: list[Registration] = []
    service.status_changed.connect(seen.append)
    assert service.note() is None
    service.register("  ")
    assert service.status is not None and "No hotkey set" in service.status.message
    service.register("Shift+A")
    assert service.status is not None and service.status.message.startswith("Hotkey not used:")
    assert service.backend is None  # nothing to grab yet: no backend was made
    service.register("Ctrl+Alt+Space")
    assert service.backend is not None and not service.status.active
    assert "trayai prompt" in service.status.message
    assert service.note() == "✗ " + service.status.message
    assert len(seen) == 3 and seen[-1] is service.status
    service.unregister()


def test_a_press_summons_and_focuses_then_hides(
    qapp: Any, no_session: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    prompt: FakePrompt | None = None
    focused: list[int] = []

    def open_prompt() -> None:
        nonlocal prompt
        prompt = prompt or FakePrompt()
        prompt.visible = prompt.active = True

    service = HotkeyService(lambda: prompt, open_prompt)  # type: ignore[arg-type, return-value]
    service.register("Ctrl+Alt+Space")
    assert service.backend is not None
    monkeypatch.setattr(service.backend, "grant_focus", focused.append)
    service.backend.activated.emit()  # first press: the prompt is made, shown and given the keyboard
    assert prompt is not None and prompt.visible and focused == [42]
    service.backend.activated.emit()  # pressed again while it has the focus: it hides
    assert not prompt.visible and prompt.dismissed == 1 and focused == [42]
    prompt.visible = True  # shown but another window has the focus: summoned again
    service.backend.activated.emit()
    assert prompt.dismissed == 1 and focused == [42, 42]
