"""The settings dialog's Presets and Quick actions pages: edit, add, remove, validate on OK, save."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDoubleSpinBox, QLineEdit, QPlainTextEdit, QSpinBox
from pytestqt.qtbot import QtBot

from trayai.core.paths import AppPaths
from trayai.core.settings.config import DEFAULT_ACTIONS, Action, Settings
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore
from trayai.ui.settings.dialog import SettingsDialog
from trayai.ui.settings.list_pages import ActionsPage, PresetsPage
from trayai.ui.settings.lists import ItemListEditor


class Rig:
    def __init__(self, paths: AppPaths, qtbot: QtBot, settings: Settings | None = None) -> None:
        self.paths = paths
        self.store = ConfigStore(paths)
        if settings is not None:
            self.store.save(settings)
        self.loaded = self.store.load()
        self.applied: list[Settings] = []
        self.dialog = SettingsDialog(self.loaded, SecretStore(MemoryKeyring()), self.store)
        self.dialog.applied.connect(self.applied.append)
        qtbot.addWidget(self.dialog)
        self.dialog.show()

    def saved(self) -> dict[str, Any]:
        path = self.paths.config_file
        return json.loads(path.read_text()) if path.exists() else {}


def widget(editor: ItemListEditor, name: str) -> Any:
    return editor.editors[name].widget


def test_editing_an_action_is_saved_and_applied(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot)
    dialog = rig.dialog
    dialog.show_section(ActionsPage.section)
    actions = dialog.actions_page.editor
    assert [actions.list.item(r).text() for r in range(actions.list.count())] == [
        a.name for a in DEFAULT_ACTIONS
    ]
    actions.list.setCurrentRow(1)
    name: QLineEdit = widget(actions, "name")
    template: QPlainTextEdit = widget(actions, "template")
    key: QSpinBox = widget(actions, "key")
    assert name.text() == "Summarise" and key.value() == 2
    name.clear()
    qtbot.keyClicks(name, "TL;DR")
    assert actions.list.item(1).text() == "TL;DR"  # the list follows the name as it is typed
    template.setPlainText("In one sentence:\n\n{selection}")
    key.setValue(7)
    assert dialog.try_accept()
    saved = rig.saved()["actions"]
    assert saved[1] == {"name": "TL;DR", "key": 7, "template": "In one sentence:\n\n{selection}"}
    assert [a["name"] for a in saved] == ["Explain", "TL;DR", "Translate to English", "Fix grammar"]
    assert rig.applied[-1].actions[1] == Action("TL;DR", "In one sentence:\n\n{selection}", 7)
    assert "presets" not in rig.saved()  # untouched defaults stay out of the file


def test_add_and_remove_actions_keys_run_out_at_nine(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot)
    actions = rig.dialog.actions_page.editor
    rig.dialog.show_section(ActionsPage.section)
    qtbot.mouseClick(actions.add_button, Qt.MouseButton.LeftButton)
    assert widget(actions, "name").text() == "New action"
    assert widget(actions, "key").value() == 5  # the first free key
    assert widget(actions, "template").toPlainText() == "{selection}"
    for _ in range(4):
        actions.add()
    assert len(actions.items) == 9 and not actions.add_button.isEnabled()
    assert actions.list.item(8).text() == "New action 5"
    actions.list.setCurrentRow(0)
    qtbot.mouseClick(actions.remove_button, Qt.MouseButton.LeftButton)
    assert actions.add_button.isEnabled()
    assert actions.list.item(0).text() == "Summarise" and widget(actions, "name").text() == "Summarise"
    assert rig.dialog.try_accept()
    saved = rig.saved()["actions"]
    assert len(saved) == 8 and saved[0]["name"] == "Summarise"
    assert {a["key"] for a in saved} == {2, 3, 4, 5, 6, 7, 8, 9}


def test_a_bad_template_or_a_taken_key_keeps_the_dialog_open_on_that_action(
    paths: AppPaths, qtbot: QtBot
) -> None:
    rig = Rig(paths, qtbot)
    dialog = rig.dialog
    actions = dialog.actions_page.editor
    actions.list.setCurrentRow(2)
    widget(actions, "template").setPlainText("Translate {selecton}")
    dialog.show_section("General")
    actions.list.setCurrentRow(0)  # the problem is elsewhere when OK is pressed
    assert not dialog.try_accept()
    assert dialog.error_label.text().startswith(
        "Action 'Translate to English': unknown placeholder {selecton}"
    )
    assert dialog.sections.currentItem().text() == ActionsPage.section
    assert actions.current_row == 2 and widget(actions, "name").text() == "Translate to English"
    widget(actions, "template").setPlainText("Translate {selection}")
    widget(actions, "key").setValue(1)
    assert not dialog.try_accept()
    assert dialog.error_label.text() == "Actions 'Explain' and 'Translate to English' both use key 1."
    assert not paths.config_file.exists()  # nothing saved while anything is wrong
    widget(actions, "key").setValue(3)
    assert dialog.try_accept()


def test_presets_are_edited_renamed_and_validated(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot)
    dialog = rig.dialog
    dialog.show_section(PresetsPage.section)
    presets = dialog.page(PresetsPage).editor
    assert presets.current_row == 0 and widget(presets, "name").text() == "Concise"
    temperature: QDoubleSpinBox = widget(presets, "temperature")
    assert temperature.specialValueText() == "the profile's"
    presets.add()
    assert widget(presets, "name").text() == "New preset"
    widget(presets, "name").setText("Concise")  # a twin
    assert not dialog.try_accept()
    assert dialog.error_label.text() == "Two presets are named 'Concise'."
    assert dialog.sections.currentItem().text() == PresetsPage.section and presets.current_row == 3
    widget(presets, "name").setText("  Pirate  ")
    widget(presets, "system_prompt").setPlainText("Talk like a pirate.")
    widget(presets, "max_tokens").setValue(300)
    presets.list.setCurrentRow(1)
    presets.remove()  # Code reviewer
    assert dialog.try_accept()
    saved = rig.saved()["presets"]
    assert [p["name"] for p in saved] == ["Concise", "Translator", "Pirate"]
    assert saved[2] == {"name": "Pirate", "system_prompt": "Talk like a pirate.", "max_tokens": 300}


def test_cancel_keeps_presets_and_actions(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot)
    rig.dialog.actions_page.editor.remove()
    rig.dialog.page(PresetsPage).editor.add()
    rig.dialog.reject()
    assert rig.applied == [] and not paths.config_file.exists()
    assert rig.loaded.settings.actions == Settings().actions  # the live copy was never touched
    assert rig.loaded.settings.presets == Settings().presets


def test_an_empty_list_disables_the_form(paths: AppPaths, qtbot: QtBot) -> None:
    settings = Settings()
    settings.actions = []
    rig = Rig(paths, qtbot, settings)
    actions = rig.dialog.actions_page.editor
    assert actions.list.count() == 0 and actions.current_row is None
    assert not widget(actions, "template").isEnabled() and not actions.remove_button.isEnabled()
    actions.add()
    assert widget(actions, "key").value() == 1 and widget(actions, "template").isEnabled()
    assert rig.dialog.try_accept()
    assert rig.saved()["actions"] == [{"name": "New action", "key": 1, "template": "{selection}"}]
