"""The quick prompt's parts on their own: the text the "Use clipboard" / "Use selection" boxes put
before a question, and the boxes remembered (``context_toggles.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QClipboard, QGuiApplication
from pytestqt.qtbot import QtBot

from trayai.ui.prompt.actions_row import CONTEXT_LIMIT
from trayai.ui.prompt.context_toggles import ContextToggles


def test_the_clipboard_goes_before_the_question_cut_and_remembered(qtbot: QtBot, tmp_path: Path) -> None:
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("copied " + "c" * CONTEXT_LIMIT, QClipboard.Mode.Clipboard)
    state = tmp_path / "state.ini"
    toggles = ContextToggles(state)
    assert toggles.text() == ""  # nothing chosen: nothing goes before the question
    toggles.use_clipboard.setChecked(True)
    text = toggles.text()
    assert text.startswith("copied c") and len(text) == CONTEXT_LIMIT
    clipboard.setText("   ", QClipboard.Mode.Clipboard)  # blank: left out
    assert toggles.text() == ""
    again = ContextToggles(state)
    assert again.use_clipboard.isChecked() and not again.use_selection.isChecked()
    assert not ContextToggles(None).use_clipboard.isChecked()  # no state file: off each run


def test_without_a_selection_its_box_is_hidden_and_adds_nothing(qtbot: QtBot, tmp_path: Path) -> None:
    """The offscreen platform, like Windows and macOS, has no PRIMARY selection."""
    if QGuiApplication.clipboard().supportsSelection():
        pytest.skip("this platform has a PRIMARY selection (the tests run offscreen by default)")
    toggles = ContextToggles(tmp_path / "state.ini")
    assert toggles.use_selection.isHidden()
    toggles.use_selection.setChecked(True)  # remembered from an X11 session
    assert toggles.text() == ""
