"""Test connection's result in its own bounded panel: ✓/✗ rows, the fix under a failure, scrolling."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from trayai.core.theme import TEXT_MINIMUM, contrast
from trayai.ui.settings.connection_panel import MAX_HEIGHT, CheckRow, ConnectionTestPanel
from trayai.ui.theme import current_theme


def test_rows_marks_and_the_fix_under_a_failure(qtbot: QtBot) -> None:
    panel = ConnectionTestPanel()
    qtbot.addWidget(panel)
    assert panel.isHidden()  # nothing until a test runs
    panel.setText("testing…")
    assert not panel.isHidden()
    panel.show_rows(
        [
            CheckRow(True, "Server reachable", "answered in 6 ms"),
            CheckRow(False, "Model available", "'qwen3' is not listed", "Pick one of the listed models."),
            CheckRow(None, "Generation", "not tried"),
        ]
    )
    assert panel.text().splitlines() == [
        "✓ Server reachable: answered in 6 ms",
        "✗ Model available: 'qwen3' is not listed",
        "    → Pick one of the listed models.",
        "– Generation: not tried",
    ]
    marks = [w for w in panel.findChildren(QLabel) if w.text() in ("✓", "✗", "–")]
    assert [m.accessibleName() for m in marks] == ["passed", "failed", "not run"]
    theme = current_theme()
    for colour in (theme.success, theme.error, theme.muted):
        assert contrast(colour, theme.base) >= TEXT_MINIMUM


def test_a_long_result_scrolls_inside_the_panel_instead_of_growing_the_page(qtbot: QtBot) -> None:
    panel = ConnectionTestPanel()
    qtbot.addWidget(panel)
    panel.show_rows([CheckRow(False, f"Check {n}", "x " * 60, "fix it") for n in range(20)])
    panel.resize(500, 2000)
    panel.show()
    assert panel.height() <= MAX_HEIGHT
    assert panel.verticalScrollBar().maximum() > 0  # the rest is reached by scrolling
