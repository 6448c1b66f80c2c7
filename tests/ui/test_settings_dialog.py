"""The settings dialog with pytest-qt: cancel, OK, validation, env locks, live models, keys, test connection."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.support.ports import free_port
from tests.support.scripted_server import ScriptedServer
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig, Override
from trayai.ui.settings.builtin_page import BuiltinPage
from trayai.ui.settings.dialog import SettingsDialog
from trayai.ui.settings.general_page import GeneralPage
from trayai.ui.settings.generation_page import GenerationPage
from trayai.ui.settings.profiles_page import ProfilesPage


class Rig:
    def __init__(
        self,
        paths: AppPaths,
        qtbot: QtBot,
        settings: Settings | None = None,
        overrides: dict[str, Override] | None = None,
        secrets: SecretStore | None = None,
    ) -> None:
        self.store = ConfigStore(paths)
        if settings is not None:
            self.store.save(settings)
        loaded = self.store.load()
        if overrides:
            loaded = LoadedConfig(settings=loaded.settings, overrides=overrides)
        self.loaded = loaded
        self.keyring = MemoryKeyring()
        self.secrets = secrets or SecretStore(self.keyring)
        self.applied: list[Settings] = []
        self.dialog = SettingsDialog(loaded, self.secrets, self.store)
        self.dialog.applied.connect(self.applied.append)
        qtbot.addWidget(self.dialog)
        self.dialog.show()
        self.paths = paths

    def saved(self) -> dict[str, Any]:
        path = self.paths.config_file
        return json.loads(path.read_text()) if path.exists() else {}


def two_profiles(url: str) -> Settings:
    settings = Settings()
    settings.profiles = [
        Profile(name="Scripted", base_url=url),
        Profile(name="Other", base_url="http://localhost:1234/v1"),
    ]
    settings.active_profile = "Scripted"
    return settings


def test_cancel_reverts_everything(paths: AppPaths, qtbot: QtBot, server: ScriptedServer) -> None:
    rig = Rig(paths, qtbot, two_profiles(server.base_url))
    before = rig.saved()
    rig.dialog.profiles_page.name_edit.setText("Renamed")
    rig.dialog.profiles_page.url_edit.setText("localhost:9999")
    rig.dialog.general_page.editors["poll_interval"].widget.setValue(42)  # type: ignore[attr-defined]
    rig.dialog.profiles_page.add_profile()
    rig.dialog.reject()
    assert rig.saved() == before and rig.applied == []
    assert [p.name for p in rig.loaded.settings.profiles] == ["Scripted", "Other"]  # the live copy untouched


def test_ok_saves_only_non_defaults(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot)
    rig.dialog.general_page.editors["poll_interval"].widget.setValue(12)  # type: ignore[attr-defined]
    rig.dialog.page(GenerationPage).editors["temperature"].widget.setValue(0.2)  # type: ignore[attr-defined]
    assert rig.dialog.try_accept()
    saved = rig.saved()
    assert saved["poll_interval"] == 12.0
    assert saved["profiles"][0]["generation"] == {"temperature": 0.2}
    assert "builtin_server" not in saved and "notifications" not in saved
    assert rig.applied and rig.applied[0].poll_interval == 12.0


@pytest.mark.parametrize(
    ("field", "text", "message"),
    [
        ("name", "", "needs a name"),
        ("name", "Other", "named “Other”"),
        ("base_url", "ftp://nope", "ftp"),
        ("base_url", "http://", "“Scripted”"),
    ],
)
def test_validation_keeps_the_dialog_open(
    paths: AppPaths, qtbot: QtBot, field: str, text: str, message: str
) -> None:
    rig = Rig(paths, qtbot, two_profiles("http://localhost:8080/v1"))
    before = rig.saved()
    widget = rig.dialog.profiles_page.name_edit if field == "name" else rig.dialog.profiles_page.url_edit
    widget.setText(text)
    assert not rig.dialog.try_accept()
    assert rig.dialog.isVisible() and rig.dialog.error_label.isVisible()
    assert message.lower() in rig.dialog.error_label.text().lower()
    assert rig.saved() == before and rig.applied == []


def test_url_is_normalised_live_and_on_ok(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot)
    rig.dialog.profiles_page.url_edit.clear()
    qtbot.keyClicks(rig.dialog.profiles_page.url_edit, "localhost:11434")
    assert "will use http://localhost:11434/v1" in rig.dialog.page(ProfilesPage).url_note.text()
    assert rig.dialog.try_accept()
    assert rig.saved()["profiles"][0]["base_url"] == "http://localhost:11434/v1"


def test_presets_fill_the_url(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot)
    combo = rig.dialog.page(ProfilesPage).preset_combo
    labels = [combo.itemText(i) for i in range(combo.count())]
    for name, url in (
        ("Docker Model Runner", "http://localhost:12434/engines/v1"),
        ("Ollama", ":11434/v1"),
        ("LM Studio", ":1234/v1"),
        ("vLLM", ":8000/v1"),
        ("Jan", ":1337/v1"),
        ("llama.cpp", ":8080/v1"),
    ):
        index = next(i for i, label in enumerate(labels) if name in label)
        combo.activated.emit(index)
        assert rig.dialog.profiles_page.url_edit.text().endswith(url), (
            name,
            rig.dialog.profiles_page.url_edit.text(),
        )


def test_add_duplicate_delete_and_use_profiles(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot, two_profiles("http://localhost:8080/v1"))
    rig.dialog.profiles_page.add_profile()
    rig.dialog.profiles_page.name_edit.setText("Ollama at home")
    rig.dialog.profiles_page.url_edit.setText("192.168.1.20:11434")
    rig.dialog.page(ProfilesPage).checks.model_combo.setEditText("smollm2:latest")
    rig.dialog.profiles_page.use_current()
    rig.dialog.page(ProfilesPage).duplicate_profile()
    assert rig.dialog.profiles_page.name_edit.text() == "Ollama at home (copy)"
    rig.dialog.page(ProfilesPage).delete_profile()
    assert rig.dialog.try_accept()
    saved = rig.saved()
    assert [p["name"] for p in saved["profiles"]] == ["Scripted", "Other", "Ollama at home"]
    assert saved["profiles"][2]["base_url"] == "http://192.168.1.20:11434/v1"
    assert saved["profiles"][2]["model"] == "smollm2:latest"
    assert saved["active_profile"] == "Ollama at home"


def test_renaming_the_active_profile_keeps_it_active_and_its_key(paths: AppPaths, qtbot: QtBot) -> None:
    settings = two_profiles("http://localhost:8080/v1")
    settings.profiles[0].key_in_keychain = True
    rig = Rig(paths, qtbot, settings)
    rig.secrets.set("Scripted", "sk-secret-123")
    rig.dialog.profiles_page.name_edit.setText("Work vLLM")
    assert rig.dialog.try_accept()
    assert rig.saved()["active_profile"] == "Work vLLM"
    assert rig.secrets.get("Work vLLM") == "sk-secret-123" and rig.secrets.get("Scripted") is None


def test_environment_values_are_locked_and_not_written(paths: AppPaths, qtbot: QtBot) -> None:
    overrides = {
        "base_url": Override("base_url", "LOCAL_MODEL_BASE_URL", "http://envhost:9000/v1", "environment"),
        "model": Override("model", "LOCAL_MODEL_NAME", "env-model", "/home/u/.env:2"),
    }
    rig = Rig(paths, qtbot, overrides=overrides)
    assert (
        not rig.dialog.profiles_page.url_edit.isEnabled()
        and rig.dialog.profiles_page.url_edit.text() == "http://envhost:9000/v1"
    )
    assert "LOCAL_MODEL_BASE_URL" in rig.dialog.profiles_page.url_edit.toolTip()
    assert (
        not rig.dialog.page(ProfilesPage).checks.model_combo.isEnabled()
        and "/home/u/.env:2" in rig.dialog.page(ProfilesPage).checks.model_combo.toolTip()
    )
    rig.dialog.general_page.editors["notifications"].widget.setChecked(False)  # type: ignore[attr-defined]
    assert rig.dialog.try_accept()
    saved = rig.saved()
    assert "envhost" not in json.dumps(saved) and "env-model" not in json.dumps(saved)
    assert saved["notifications"] is False


def test_live_model_list_from_the_server(
    paths: AppPaths, qtbot: QtBot, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.models = ["ai/smollm2", "ai/qwen3", "ai/llama3.2"]
    rig = Rig(paths, qtbot)
    rig.dialog.profiles_page.url_edit.setText(server.base_url)
    ids = run(rig.dialog.profiles_page.checks.refresh_models())
    assert ids == ["ai/smollm2", "ai/qwen3", "ai/llama3.2"]
    combo = rig.dialog.page(ProfilesPage).checks.model_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ids
    combo.setCurrentIndex(1)
    assert "3 models listed" in rig.dialog.page(ProfilesPage).checks.models_note.text()
    server.models = []
    assert run(rig.dialog.profiles_page.checks.refresh_models()) == []
    assert "type the name" in rig.dialog.page(ProfilesPage).checks.models_note.text()
    combo.setEditText("my-own-model")  # free text when the server lists none
    assert rig.dialog.try_accept()
    assert rig.saved()["profiles"][0]["model"] == "my-own-model"


def test_model_list_failure_is_explained(paths: AppPaths, qtbot: QtBot, run: Callable[..., Any]) -> None:
    rig = Rig(paths, qtbot)
    rig.dialog.profiles_page.url_edit.setText(f"http://127.0.0.1:{free_port()}/v1")
    assert run(rig.dialog.profiles_page.checks.refresh_models()) == []
    assert "Could not list models" in rig.dialog.page(ProfilesPage).checks.models_note.text()
    assert "Nothing is listening" in rig.dialog.page(ProfilesPage).checks.models_note.text()


def test_connection_outcomes(
    paths: AppPaths, qtbot: QtBot, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    rig = Rig(paths, qtbot)
    dialog = rig.dialog
    dialog.profiles_page.url_edit.setText(server.base_url)
    dialog.page(ProfilesPage).checks.model_combo.setEditText("ai/smollm2")
    report = run(dialog.page(ProfilesPage).checks.test_connection())
    assert report is not None and all(c.ok for c in report.checks if c.ok is not None)
    assert "✓ Server reachable" in dialog.page(ProfilesPage).checks.test_result.text()

    dialog.page(ProfilesPage).checks.model_combo.setEditText("ai/missing-model")
    run(dialog.page(ProfilesPage).checks.test_connection())
    assert "✗ Model available" in dialog.page(ProfilesPage).checks.test_result.text()

    server.api_key = "sk-right"
    dialog.page(ProfilesPage).checks.model_combo.setEditText("ai/smollm2")
    run(dialog.page(ProfilesPage).checks.test_connection())
    assert (
        "✗ Authentication" in dialog.page(ProfilesPage).checks.test_result.text()
        and "→" in dialog.page(ProfilesPage).checks.test_result.text()
    )
    dialog.profiles_page.key_edit.setText("sk-right")
    dialog.profiles_page.key_edit.textEdited.emit("sk-right")
    run(dialog.page(ProfilesPage).checks.test_connection())
    assert "✓ Authentication" in dialog.page(ProfilesPage).checks.test_result.text()

    dialog.profiles_page.url_edit.setText(f"http://127.0.0.1:{free_port()}/v1")
    run(dialog.page(ProfilesPage).checks.test_connection())
    assert "✗ Server reachable" in dialog.page(ProfilesPage).checks.test_result.text()
    dialog.profiles_page.url_edit.setText("ftp://x")
    run(dialog.page(ProfilesPage).checks.test_connection())
    assert dialog.page(ProfilesPage).checks.test_result.text().startswith("✗")


def test_key_goes_to_the_keychain_never_the_file(paths: AppPaths, qtbot: QtBot, tmp_path: Path) -> None:
    rig = Rig(paths, qtbot)
    assert (
        "In-memory" in rig.dialog.page(ProfilesPage).key_note.text()
        or "key" in rig.dialog.page(ProfilesPage).key_note.text().lower()
    )
    rig.dialog.profiles_page.key_edit.setText("sk-very-secret-987")
    rig.dialog.profiles_page.key_edit.textEdited.emit("sk-very-secret-987")
    assert "when you press OK" in rig.dialog.page(ProfilesPage).key_note.text()
    assert rig.dialog.try_accept()
    profile = rig.loaded.settings.active().name
    assert rig.secrets.get(profile) == "sk-very-secret-987"
    assert rig.saved()["profiles"][0]["key_in_keychain"] is True
    for file in paths.config_dir.rglob("*"):
        if file.is_file():
            assert "sk-very-secret-987" not in file.read_text(errors="replace")
    # Removing it again.
    again = Rig(paths, qtbot, secrets=rig.secrets)
    qtbot.mouseClick(again.dialog.page(ProfilesPage).key_clear, Qt.MouseButton.LeftButton)
    assert again.dialog.try_accept()
    assert rig.secrets.get(profile) is None
    assert "key_in_keychain" not in json.dumps(again.saved())


def test_session_only_keychain_is_said_plainly(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot)
    from keyring.backends.fail import Keyring as NoKeyring

    broken = SecretStore(NoKeyring())  # what keyring gives when no keychain exists
    dialog = SettingsDialog(rig.loaded, broken, rig.store)
    qtbot.addWidget(dialog)
    assert "session only" in dialog.page(ProfilesPage).key_note.text()
    dialog.profiles_page.key_edit.setText("sk-1")
    dialog.profiles_page.key_edit.textEdited.emit("sk-1")
    assert dialog.try_accept()
    assert dialog.warnings and "this session only" in dialog.warnings[0]
    assert broken.get(rig.loaded.settings.active().name) == "sk-1"


def test_builtin_server_and_hotkey_fields(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot)
    rig.dialog.builtin_page.editors["port"].widget.setValue(8099)  # type: ignore[attr-defined]
    rig.dialog.builtin_page.editors["autostart"].widget.setChecked(False)  # type: ignore[attr-defined]
    rig.dialog.page(BuiltinPage).model_file_edit.setText("/models/other.gguf")
    from PySide6.QtGui import QKeySequence

    rig.dialog.hotkey_page.hotkey_edit.setKeySequence(QKeySequence("Ctrl+Shift+Space"))
    assert rig.dialog.try_accept()
    saved = rig.saved()
    assert saved["builtin_server"] == {"port": 8099, "autostart": False, "model_file": "/models/other.gguf"}
    assert saved["hotkey"] == "Ctrl+Shift+Space"
    spin = rig.dialog.builtin_page.editors["port"].widget
    assert spin.minimum() == 1 and spin.maximum() == 65535  # type: ignore[attr-defined]


def test_a_problem_shows_its_section_and_profile(paths: AppPaths, qtbot: QtBot) -> None:
    from PySide6.QtGui import QKeySequence

    from trayai.ui.settings.hotkey_page import HotkeyPage

    rig = Rig(paths, qtbot, two_profiles("http://localhost:8080/v1"))
    dialog = rig.dialog
    dialog.show_section("General")
    dialog.hotkey_page.hotkey_edit.setKeySequence(QKeySequence("A"))  # no modifier: refused
    assert not dialog.try_accept()
    assert dialog.error_label.text().startswith("Hotkey: ")
    assert dialog.sections.currentItem().text() == HotkeyPage.section
    assert dialog.pages.currentIndex() == dialog.sections.currentRow()

    dialog.hotkey_page.hotkey_edit.clear()
    dialog.profiles_page.profiles.setCurrentRow(1)  # "Other" takes the first one's name
    dialog.profiles_page.name_edit.setText("Scripted")
    dialog.show_section("General")
    assert not dialog.try_accept()
    assert dialog.error_label.text() == "Two endpoints are named “Scripted”: names must differ."
    assert dialog.sections.currentItem().text() == ProfilesPage.section
    assert dialog.profiles_page.profiles.currentRow() == 0  # the first twin is shown
    assert dialog.profiles_page.url_edit.text() == "http://localhost:8080/v1"


def test_profiles_are_listed_under_stable_ids(paths: AppPaths, qtbot: QtBot) -> None:
    rig = Rig(paths, qtbot, two_profiles("http://localhost:8080/v1"))
    dialog = rig.dialog

    def ids() -> list[int]:
        return [
            dialog.profiles_page.profiles.item(r).data(Qt.ItemDataRole.UserRole)
            for r in range(dialog.profiles_page.profiles.count())
        ]

    first = ids()
    assert len(set(first)) == 2 and all(0 < uid < 1000 for uid in first)  # small counters, not id()
    dialog.profiles_page.name_edit.setText("Renamed")
    dialog.profiles_page.add_profile()
    assert ids()[:2] == first and ids()[2] not in first
    dialog.page(ProfilesPage).delete_profile()
    assert ids() == first


def test_general_page_adds_trayai_to_the_applications_menu_and_removes_it(
    paths: AppPaths, qtbot: QtBot
) -> None:
    from trayai.core.desktop_entry import DesktopPlaces

    places = DesktopPlaces.from_env(paths.data_dir)  # the test's XDG_DATA_HOME, as the dialog's default
    rig = Rig(paths, qtbot)
    dialog = rig.dialog
    dialog.show_section(GeneralPage.section)
    button = dialog.page(GeneralPage).menu_button
    assert button.isVisible() and button.text() == "Add trayai to the applications menu"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert places.entry.is_file() and places.icon(48).is_file() and places.icon(256).is_file()
    assert button.text() == "Remove it"
    assert (
        dialog.page(GeneralPage).menu_state.text()
        == "trayai is in the applications menu (it may take a moment to appear)."
    )
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert not places.entry.exists() and not places.icon(256).exists()
    assert button.text() == "Add trayai to the applications menu"
    assert dialog.page(GeneralPage).menu_state.text() == "trayai was removed from the applications menu."
    rig.dialog.reject()
    assert rig.saved() == {} and rig.applied == []  # an action on disk, not a setting


def test_the_applications_menu_failure_is_shown_in_the_dialog(paths: AppPaths, qtbot: QtBot) -> None:
    from trayai.core.desktop_entry import DesktopPlaces

    places = DesktopPlaces.from_env(paths.data_dir)
    places.data_home.write_text("a file where the data folder should be", encoding="utf-8")
    rig = Rig(paths, qtbot)
    qtbot.mouseClick(rig.dialog.page(GeneralPage).menu_button, Qt.MouseButton.LeftButton)
    shown = rig.dialog.page(GeneralPage).menu_state.text()
    assert shown.startswith("✗ could not create the folder") and f"check {places.data_home}" in shown
    assert rig.dialog.page(GeneralPage).menu_button.text() == "Add trayai to the applications menu"


def test_the_applications_menu_state_comes_from_the_entry_on_disk(paths: AppPaths, qtbot: QtBot) -> None:
    from trayai.core.desktop_entry import DesktopPlaces

    places = DesktopPlaces.from_env(paths.data_dir)
    places.entry.parent.mkdir(parents=True)
    places.entry.write_text("[Desktop Entry]\nType=Application\nName=trayai\n", encoding="utf-8")
    rig = Rig(paths, qtbot)
    assert rig.dialog.page(GeneralPage).menu_button.text() == "Remove it"
    assert rig.dialog.page(GeneralPage).menu_state.text() == "trayai is in the applications menu."
    qtbot.mouseClick(
        rig.dialog.page(GeneralPage).menu_button, Qt.MouseButton.LeftButton
    )  # not ours: said, not removed
    assert (
        places.entry.is_file()
        and "was not written by `trayai desktop install`" in rig.dialog.page(GeneralPage).menu_state.text()
    )
