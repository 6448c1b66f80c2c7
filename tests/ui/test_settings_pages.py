"""The settings pages' contract, page by page: what ``load`` shows ``store`` gives back unchanged, every
setting is on some page, ``problem()`` names what is wrong and shows it; and the dialog's tasks (live
model lists) end when it closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from trayai.core.desktop_entry import DesktopPlaces
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Action, Preset, Profile, Settings
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig
from trayai.core.tasks import TaskOwner
from trayai.ui.settings.dialog import PAGES, SettingsDialog, _default_client
from trayai.ui.settings.hotkey_page import HotkeyPage
from trayai.ui.settings.list_pages import ActionsPage, PresetsPage
from trayai.ui.settings.page import PageContext, SettingsPage
from trayai.ui.settings.profiles_page import ProfilesPage


def edited() -> Settings:
    """Settings with a value other than the default wherever a page shows one."""
    settings = Settings()
    home = Profile(
        name="Home",
        base_url="http://127.0.0.1:11434/v1",
        model="qwen3",
        fallback="Lab",
        first_token_timeout=12.5,
        context_tokens=4096,
    )
    home.generation.temperature = 0.25
    home.generation.max_tokens = 512
    home.generation.system_prompt = "Be brief."
    lab = Profile(name="Lab", base_url="http://10.0.0.2:8000/v1", model="m", key_in_keychain=True)
    settings.profiles = [home, lab]
    settings.active_profile = "Lab"
    settings.builtin_server.model_file = "/models/x.gguf"
    settings.builtin_server.port = 8099
    settings.builtin_server.threads = 3
    settings.poll_interval = 12.0
    settings.notifications = False
    settings.left_click = "menu"
    settings.hotkey = "Ctrl+Shift+Space"
    settings.start_at_login = True
    settings.presets = [Preset(name="Pirate", system_prompt="Arr.", temperature=0.5)]
    settings.actions = [Action("Shout", "{selection}!", 3)]
    return settings


def context(paths: AppPaths, settings: Settings) -> PageContext:
    return PageContext(
        loaded=LoadedConfig(settings),
        secrets=SecretStore(MemoryKeyring()),
        tasks=TaskOwner(),
        client_factory=_default_client,
        running=None,
        hotkey_note=None,
        desktop=DesktopPlaces.from_env(paths.data_dir),
    )


def made(kind: type[SettingsPage], paths: AppPaths, qtbot: QtBot, settings: Settings) -> Any:
    page = kind(context(paths, settings))
    qtbot.addWidget(page)
    page.load(settings)
    return page


@pytest.mark.parametrize("kind", PAGES, ids=[page.section for page in PAGES])
def test_each_page_stores_what_it_loaded(kind: type[SettingsPage], paths: AppPaths, qtbot: QtBot) -> None:
    settings = edited()
    page = made(kind, paths, qtbot, settings)
    page.store(settings)
    assert settings == edited()
    assert page.problem() is None


def test_every_setting_is_on_a_page(paths: AppPaths, qtbot: QtBot) -> None:
    """The pages together, stored into defaults, give back every edited value."""
    dialog = SettingsDialog(LoadedConfig(edited()), SecretStore(MemoryKeyring()), ConfigStore(paths))
    qtbot.addWidget(dialog)
    fresh = Settings()
    for kind in PAGES:
        dialog.page(kind).store(fresh)
    assert fresh == edited()


def test_the_endpoints_problem_names_the_profile_and_shows_it(paths: AppPaths, qtbot: QtBot) -> None:
    settings = edited()
    settings.profiles[1].model = ""
    page: ProfilesPage = made(ProfilesPage, paths, qtbot, settings)
    page.profiles.setCurrentRow(0)
    assert page.problem() == "“Lab” needs a model name (pick one from the list or type it)."
    assert page.profiles.currentRow() == 1 and page.name_edit.text() == "Lab"
    page.checks.model_combo.setEditText("m")
    page.name_edit.setText("Home")
    assert page.problem() == "Two endpoints are named “Home”: names must differ."


def test_the_hotkey_problem_says_why(paths: AppPaths, qtbot: QtBot) -> None:
    page: HotkeyPage = made(HotkeyPage, paths, qtbot, edited())
    page.hotkey_edit.setKeySequence(QKeySequence("A"))
    problem = page.problem()
    assert problem is not None and problem.startswith("Hotkey: ")
    page.hotkey_edit.clear()  # no hotkey at all is fine
    assert page.problem() is None


@pytest.mark.parametrize(
    ("kind", "bad", "message"),
    [
        (PresetsPage, Preset(name="Pirate"), "Two presets are named 'Pirate'."),
        (ActionsPage, Action("Typo", "{selecton}", 4), "Action 'Typo': unknown placeholder {selecton}"),
    ],
)
def test_a_list_problem_names_the_item_and_shows_it(
    kind: type[PresetsPage | ActionsPage], bad: Any, message: str, paths: AppPaths, qtbot: QtBot
) -> None:
    settings = edited()
    items = settings.presets if kind is PresetsPage else settings.actions
    items.append(bad)
    page = made(kind, paths, qtbot, settings)
    assert page.editor.current_row == 0
    problem = page.problem()
    assert problem is not None and problem.startswith(message)
    assert page.editor.current_row == 1


def test_closing_the_dialog_cancels_the_model_listing(
    paths: AppPaths, qtbot: QtBot, qapp: QApplication, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    qapp.setQuitOnLastWindowClosed(False)  # as in the app: closing the settings never quits trayai
    server.models_reply = Reply(headers_delay=30.0)  # the listing hangs until the client gives up
    dialog = SettingsDialog(LoadedConfig(Settings()), SecretStore(MemoryKeyring()), ConfigStore(paths))
    qtbot.addWidget(dialog)
    dialog.show()
    checks = dialog.page(ProfilesPage).checks
    dialog.profiles_page.url_edit.setText(server.base_url)

    async def close_while_listing() -> None:
        checks.refresh_button.click()
        await until(lambda: checks.models_note.text() == "listing models…", what="the listing")
        dialog.reject()
        await until(checks.refresh_button.isEnabled, what="the listing cancelled")

    try:
        run(close_while_listing())
    finally:
        qapp.setQuitOnLastWindowClosed(True)
    assert checks.models_note.text() == "listing models…"  # cancelled: neither a list nor a failure


def test_listing_again_replaces_the_listing_of_that_profile(
    paths: AppPaths, qtbot: QtBot, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.models_reply = Reply(headers_delay=30.0)  # the first listing hangs, the second answers
    server.models = ["ai/smollm2"]
    settings = Settings()
    settings.profiles = [Profile(name="Scripted", base_url=server.base_url)]
    settings.active_profile = "Scripted"
    shared = context(paths, settings)
    page = ProfilesPage(shared)
    qtbot.addWidget(page)
    page.load(settings)
    checks = page.checks

    async def list_twice() -> None:
        checks.refresh_button.click()
        await until(lambda: checks.models_note.text() == "listing models…", what="the first listing")
        checks.refresh_button.setEnabled(True)  # pressed again while the first still waits
        checks.refresh_button.click()
        await until(lambda: checks.models_note.text() == "1 model listed", what="the second listing")
        await until(lambda: len(shared.tasks) == 0, what="the first listing cancelled, not waited for")

    run(list_twice())
    assert checks.model_combo.itemText(0) == "ai/smollm2"
    assert checks.models_note.text() == "1 model listed"  # the first never came back to say it failed


def test_settings_speak_in_units_meanings_and_words(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QSpinBox

    from trayai.core.settings.config import BuiltinServerSettings, Profile, Settings
    from trayai.ui.settings.fields import FieldEditor, field_of

    timeout = FieldEditor(field_of(Profile, "first_token_timeout"))
    assert isinstance(timeout.widget, QDoubleSpinBox) and timeout.widget.suffix() == " s"
    timeout.load(120.0)
    assert timeout.widget.text() == "120 s" and timeout.value() == 120.0
    context = FieldEditor(field_of(Profile, "context_tokens"))
    assert isinstance(context.widget, QSpinBox)
    context.load(0)
    assert context.widget.text() == "automatic" and context.value() == 0  # what 0 means, not "0"
    context.load(8192)
    assert context.widget.text() == "8192 tokens"
    threads = FieldEditor(field_of(BuiltinServerSettings, "threads"))
    threads.load(0)
    assert isinstance(threads.widget, QSpinBox)
    assert threads.widget.text() == "automatic"
    click = FieldEditor(field_of(Settings, "left_click"))
    assert isinstance(click.widget, QComboBox)
    assert [click.widget.itemText(i) for i in range(click.widget.count())] == [
        "Open the chat",
        "Open the quick prompt",
        "Show the menu",
    ]
    click.load("menu")
    assert (
        click.widget.currentText() == "Show the menu" and click.value() == "menu"
    )  # the file keeps the value
    for editor in (timeout, context, threads, click):
        qtbot.addWidget(editor.widget)
