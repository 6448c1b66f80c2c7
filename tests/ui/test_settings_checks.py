"""OK in the settings dialog runs the rules of core/settings/rules.py page by page: the first problem
as a sentence, its page shown and the item it is about selected; good settings normalised for saving.

(These were the unit tests of ``rules.check``, an ordering of the rules the dialog never used: they
now drive the dialog itself, so they check the order and the selection a person sees.)
"""

from __future__ import annotations

import pytest
from PySide6.QtGui import QKeySequence
from pytestqt.qtbot import QtBot

from trayai.core.paths import AppPaths
from trayai.core.settings.config import Preset, Profile, Settings
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig, Override
from trayai.ui.settings.dialog import SettingsDialog
from trayai.ui.settings.hotkey_page import HotkeyPage
from trayai.ui.settings.list_pages import ActionsPage, ListPage, PresetsPage
from trayai.ui.settings.profiles_page import ProfilesPage


def dialog_for(
    paths: AppPaths, qtbot: QtBot, settings: Settings, overrides: dict[str, Override] | None = None
) -> SettingsDialog:
    """The dialog on ``settings`` as loaded (not saved first: some are what saving refuses)."""
    loaded = LoadedConfig(settings=settings, overrides=overrides or {})
    dialog = SettingsDialog(loaded, SecretStore(MemoryKeyring()), ConfigStore(paths))
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def with_profiles(*profiles: Profile, active: str | None = None) -> Settings:
    settings = Settings()
    settings.profiles = list(profiles)
    settings.active_profile = active or profiles[0].name
    return settings


def shown(dialog: SettingsDialog) -> str:
    return dialog.sections.currentItem().text()


def test_a_profile_problem_names_that_profile_and_selects_it(paths: AppPaths, qtbot: QtBot) -> None:
    dialog = dialog_for(
        paths, qtbot, with_profiles(Profile(name="A", model="m"), Profile(name="B", model=""))
    )
    dialog.show_section("General")
    assert dialog.validate() == "“B” needs a model name (pick one from the list or type it)."
    assert shown(dialog) == ProfilesPage.section
    assert dialog.profiles_page.profiles.currentRow() == 1 and dialog.profiles_page.name_edit.text() == "B"


def test_problems_come_page_by_page_twins_before_the_hotkey(paths: AppPaths, qtbot: QtBot) -> None:
    dialog = dialog_for(
        paths, qtbot, with_profiles(Profile(name="A", model="m"), Profile(name="A", model="m"))
    )
    dialog.hotkey_page.hotkey_edit.setKeySequence(QKeySequence("A"))  # no modifier: refused
    assert dialog.validate() == "Two endpoints are named “A”: names must differ."
    assert shown(dialog) == ProfilesPage.section and dialog.profiles_page.profiles.currentRow() == 0
    dialog.profiles_page.profiles.setCurrentRow(1)
    dialog.profiles_page.name_edit.setText("B")
    problem = dialog.validate()
    assert problem is not None and problem.startswith("Hotkey: ")
    assert shown(dialog) == HotkeyPage.section


def test_a_locked_url_is_left_to_the_config_rules(paths: AppPaths, qtbot: QtBot) -> None:
    """A URL set by the environment is neither checked nor touched by the page; the settings' own
    rules still refuse what could never be saved, naming the profile."""
    locked = {"base_url": Override("base_url", "LOCAL_MODEL_BASE_URL", "ftp://nope", "environment")}
    dialog = dialog_for(
        paths, qtbot, with_profiles(Profile(name="A", base_url="ftp://nope", model="m")), locked
    )
    problem = dialog.validate()
    assert problem is not None and "'A'" in problem
    assert dialog.settings.profiles[0].base_url == "ftp://nope"


def test_good_settings_pass_normalised(paths: AppPaths, qtbot: QtBot) -> None:
    dialog = dialog_for(
        paths,
        qtbot,
        with_profiles(Profile(name="A", base_url="localhost:8080", model="m"), Profile(name="B", model="m")),
    )
    dialog.hotkey_page.hotkey_edit.setKeySequence(QKeySequence("Alt+F2"))
    assert dialog.validate() is None
    assert dialog.settings.profiles[0].base_url == "http://localhost:8080/v1"
    assert dialog.settings.hotkey == "Alt+F2"


def test_a_renamed_profile_stays_the_fallback_of_the_others(paths: AppPaths, qtbot: QtBot) -> None:
    dialog = dialog_for(
        paths,
        qtbot,
        with_profiles(
            Profile(name="Laptop", base_url="http://127.0.0.1:8080/v1", fallback="Ollama, Cloud"),
            Profile(name="Ollama", base_url="http://127.0.0.1:11434/v1"),
            Profile(name="Cloud", base_url="https://api.example.com/v1"),
        ),
    )
    dialog.profiles_page.profiles.setCurrentRow(1)
    dialog.profiles_page.name_edit.setText("Ollama box")
    assert dialog.validate() is None
    assert dialog.settings.profiles[0].fallback_names() == ["Ollama box", "Cloud"]


def test_a_fallback_to_no_profile_is_refused_with_its_name(paths: AppPaths, qtbot: QtBot) -> None:
    dialog = dialog_for(
        paths,
        qtbot,
        with_profiles(Profile(name="Laptop", base_url="http://127.0.0.1:8080/v1", fallback="Nowhere")),
    )
    problem = dialog.validate()
    assert problem is not None and "no profile named 'Nowhere' to fall back to" in problem


@pytest.mark.parametrize("kind", ["preset", "action"])
def test_presets_and_actions_are_named_by_row(paths: AppPaths, qtbot: QtBot, kind: str) -> None:
    settings = Settings()
    page_kind: type[ListPage]
    if kind == "preset":
        settings.presets.append(Preset("", "nameless"))
        expected, page_kind = "A preset needs a name.", PresetsPage
    else:
        settings.actions[0].key = 4
        expected, page_kind = "Actions 'Explain' and 'Fix grammar' both use key 4.", ActionsPage
    dialog = dialog_for(paths, qtbot, settings)
    assert dialog.validate() == expected
    assert shown(dialog) == page_kind.section
    assert dialog.page(page_kind).editor.list.currentRow() == 3
