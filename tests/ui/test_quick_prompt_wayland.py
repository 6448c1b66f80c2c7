"""The quick prompt's Wayland sizing, offscreen: a fixed size (what tiling compositors float) that
follows the answer, and no remembered geometry. The real compositor's view is in tests/e2e/test_wayland.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.ui.test_quick_prompt import ask, make
from trayai.core.chat.history import HistoryStore
from trayai.ui.prompt import placement


def test_on_wayland_the_size_is_fixed_and_follows_the_answer(
    history: HistoryStore,
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(placement, "floats_by_fixed_size", lambda: True)
    rig = make(history, server, qtbot, tmp_path)
    assert rig.window.summon()
    qtbot.waitUntil(rig.window.isVisible)
    fixed = rig.window.minimumSize()
    assert fixed == rig.window.maximumSize() == rig.window.size()  # min = max: sway floats it
    assert fixed.width() > 0 and fixed.height() > 0
    server.script(Reply(text="\n\n".join(f"Paragraph {n} of a long answer." for n in range(12))))
    ask(qtbot, rig, "Tell me more")
    run(rig.wait(1))
    qtbot.waitUntil(lambda: rig.window.height() > fixed.height())
    assert rig.window.minimumSize() == rig.window.maximumSize() == rig.window.size()
    assert rig.window.width() == fixed.width()
    rig.window.dismiss()
    assert not QSettings(str(tmp_path / "state.ini"), QSettings.Format.IniFormat).allKeys()  # nothing kept
    assert rig.window.summon()
    assert rig.window.minimumSize() == rig.window.maximumSize()


def test_elsewhere_the_size_is_free(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path
) -> None:
    rig = make(history, server, qtbot, tmp_path)
    assert rig.window.summon()
    assert rig.window.minimumSize() != rig.window.maximumSize()
