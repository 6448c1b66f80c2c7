"""Fallback profiles are picked from the other profiles, in order, not typed as comma-separated names."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from trayai.core.settings.config import Profile
from trayai.ui.settings.fallback_picker import NONE_TEXT, FallbackEditor
from trayai.ui.settings.fields import field_of


def tick(editor: FallbackEditor, text: str) -> None:
    next(a for a in editor.menu.actions() if a.text().endswith(text)).trigger()


def test_ticking_profiles_builds_the_chain_in_order(qtbot: QtBot) -> None:
    editor = FallbackEditor(field_of(Profile, "fallback"))
    qtbot.addWidget(editor.widget)
    editor.set_choices(["ollama", "lab", "cloud"])
    editor.load("")
    assert editor.button.text() == NONE_TEXT and editor.value() == ""
    tick(editor, "lab")
    tick(editor, "ollama")
    assert editor.value() == "lab, ollama" and editor.button.text() == "lab → ollama"
    assert [a.text() for a in editor.menu.actions() if a.isChecked()] == ["2. ollama", "1. lab"]
    tick(editor, "lab")  # unticked: the rest moves up
    assert editor.value() == "ollama"
    tick(editor, "No fallback")
    assert editor.value() == ""


def test_a_name_that_is_no_profile_stays_marked_until_unticked(qtbot: QtBot) -> None:
    editor = FallbackEditor(field_of(Profile, "fallback"))
    qtbot.addWidget(editor.widget)
    editor.set_choices(["ollama"])
    editor.load("gone, ollama")
    assert editor.button.text() == "gone (no such profile) → ollama"
    assert editor.value() == "gone, ollama"  # never dropped behind the person's back
    tick(editor, "gone (no such profile)")
    assert editor.value() == "ollama"
