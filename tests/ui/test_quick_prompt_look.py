"""The quick prompt as a card: a visible frame, what it talks to, and the text an action will use."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QClipboard, QColor, QGuiApplication
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import ScriptedServer
from tests.ui.test_quick_prompt import make
from trayai.core.chat.history import HistoryStore
from trayai.core.net.urls import host_port
from trayai.ui.theme import current_theme


def test_the_header_names_the_model_and_the_server(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path
) -> None:
    rig = make(history, server, qtbot, tmp_path)
    assert rig.window.summon()
    qtbot.waitUntil(rig.window.isVisible)
    assert rig.window.header.target.toolTip() == f"ai/smollm2 · {host_port(server.base_url)}"


def test_the_chip_shows_the_selection_before_an_action_runs(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path
) -> None:
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("Photosynthesis converts light energy into chemical energy", QClipboard.Mode.Clipboard)
    if clipboard.supportsSelection():
        clipboard.setText("", QClipboard.Mode.Selection)
    rig = make(history, server, qtbot, tmp_path)
    rig.window.summon()
    qtbot.waitUntil(rig.window.chip.isVisible)
    assert rig.window.chip.text() == "the clipboard · ‘Photosynthesis converts light energy in…’"
    rig.window.action_part._on_hovered("action:1")  # the pointer over "1 Explain"
    assert rig.window.chip.text().startswith("Explain · the clipboard · ‘Photosynthesis")
    clipboard.setText("Bonjour", QClipboard.Mode.Clipboard)  # copied while the prompt is open
    qtbot.waitUntil(lambda: "Bonjour" in rig.window.chip.text())
    rig.window.input.setFocus()
    assert rig.window.input.toPlainText() == ""  # the chip is a preview: nothing was put in the box


def test_the_frameless_window_draws_its_frame(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path
) -> None:
    rig = make(history, server, qtbot, tmp_path)
    rig.window.summon()
    qtbot.waitExposed(rig.window)
    image = rig.window.grab().toImage()
    edge = image.pixelColor(image.width() // 2, 0)
    inside = image.pixelColor(image.width() // 2, 4)
    theme = current_theme()
    assert edge == QColor(theme.card_border), (edge.name(), theme.card_border)
    assert inside == QColor(theme.window), (inside.name(), theme.window)
