"""Settings ▸ OK and the tray's own writes never drop a change the real CLI made meanwhile (issue 23.3).

Each test runs `trayai …` as its own process on the same config dir while the real dialog (or the tray
app) holds its copy; where both changed one setting, the dialog asks and each answer does what it says.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QMessageBox
from pytestqt.qtbot import QtBot

from tests.support.cli import cli_process
from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import until
from tests.unit.settings.test_config_merge import base_settings
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore
from trayai.core.status import ServerState
from trayai.ui.settings.dialog import SettingsDialog
from trayai.ui.settings.generation_page import GenerationPage
from trayai.ui.settings.profiles_page import ProfilesPage

REMOTE_URL = "http://127.0.0.1:9/v1"


def trayai(*argv: str) -> None:
    """Run the CLI as another process and insist it succeeded."""
    done = cli_process(*argv)
    assert done.returncode == 0, done.stderr


def saved(paths: AppPaths) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paths.config_file.read_text())
    return data


def profile_names(paths: AppPaths) -> list[str]:
    return [p["name"] for p in saved(paths)["profiles"]]


def open_dialog(paths: AppPaths, qtbot: QtBot, settings: Settings) -> SettingsDialog:
    """The real dialog on the test's config dir, shown as Settings ▸ shows it."""
    store = ConfigStore(paths)
    store.save(settings)
    dialog = SettingsDialog(store.load(), SecretStore(MemoryKeyring()), store)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


local_and_lab = base_settings  # the same two profiles the merge's unit tests start from


def press_ok(qtbot: QtBot, dialog: SettingsDialog) -> None:
    ok = dialog.buttons.button(dialog.buttons.StandardButton.Ok)
    qtbot.mouseClick(ok, Qt.MouseButton.LeftButton)


def test_ok_keeps_the_profile_the_cli_added_while_the_dialog_was_open(paths: AppPaths, qtbot: QtBot) -> None:
    dialog = open_dialog(paths, qtbot, local_and_lab())
    trayai("profile", "add", "Remote", "--base-url", REMOTE_URL, "--model", "qwen3")
    dialog.general_page.editors["poll_interval"].widget.setValue(12)  # type: ignore[attr-defined]
    applied: list[Settings] = []
    dialog.applied.connect(applied.append)
    press_ok(qtbot, dialog)
    qtbot.waitUntil(lambda: not dialog.isVisible())
    assert profile_names(paths) == ["Local", "Lab", "Remote"]  # before the fix: Remote was gone
    assert saved(paths)["profiles"][2] == {"name": "Remote", "base_url": REMOTE_URL, "model": "qwen3"}
    assert saved(paths)["poll_interval"] == 12.0
    assert [p.name for p in applied[0].profiles] == ["Local", "Lab", "Remote"]  # the app applies it too


def test_both_sides_edit_the_same_profile_and_rename_follows(paths: AppPaths, qtbot: QtBot) -> None:
    """The dialog renames Local and sets its temperature; the CLI sets Local's model: one profile."""
    dialog = open_dialog(paths, qtbot, local_and_lab())
    dialog.profiles_page.name_edit.setText("Home")
    dialog.page(GenerationPage).editors["temperature"].widget.setValue(0.2)  # type: ignore[attr-defined]
    trayai("profile", "set", "Local", "--model", "from-cli")
    assert dialog.try_accept()
    data = saved(paths)
    assert [p["name"] for p in data["profiles"]] == ["Home", "Lab"]
    home = data["profiles"][0]
    assert home["model"] == "from-cli" and home["generation"] == {"temperature": 0.2}
    assert data["active_profile"] == "Home"
    assert data["profiles"][1]["fallback"] == "Home"  # Lab still falls back to the renamed profile


def test_removals_on_either_side_stay_removed(paths: AppPaths, qtbot: QtBot) -> None:
    settings = local_and_lab()
    settings.profiles.append(Profile(name="Old", base_url="http://127.0.0.1:8282/v1"))
    dialog = open_dialog(paths, qtbot, settings)
    trayai("profile", "remove", "Old")  # the CLI removes one the dialog leaves alone
    trayai("preset", "add", "Terse", "--system", "Be terse.")
    dialog.page(ProfilesPage).select(2)  # Lab (ids count from 1 in list order)
    dialog.page(ProfilesPage).delete_profile()  # the dialog removes one the CLI leaves alone
    assert dialog.try_accept()
    data = saved(paths)
    assert [p["name"] for p in data["profiles"]] == ["Local"]
    assert "Terse" in [p["name"] for p in data["presets"]]


def conflict_box(qtbot: QtBot, dialog: SettingsDialog) -> QMessageBox:
    qtbot.waitUntil(lambda: dialog.conflicts.box is not None and dialog.conflicts.box.isVisible())
    assert dialog.conflicts.box is not None
    return dialog.conflicts.box


def button(box: QMessageBox, text: str) -> QAbstractButton:
    found = [b for b in box.buttons() if b.text() == text]
    assert len(found) == 1, [b.text() for b in box.buttons()]
    return found[0]


@pytest.mark.parametrize(
    ("answer", "poll", "closed"),
    [
        ("Keep mine", 12.0, True),
        ("Keep the other change", 30.0, True),
        ("Cancel", 30.0, False),
        ("Escape", 30.0, False),
    ],
)
def test_the_same_setting_changed_on_both_sides_is_asked(
    paths: AppPaths, qtbot: QtBot, answer: str, poll: float, closed: bool
) -> None:
    dialog = open_dialog(paths, qtbot, local_and_lab())
    dialog.general_page.editors["poll_interval"].widget.setValue(12)  # type: ignore[attr-defined]
    dialog.general_page.editors["notifications"].widget.setChecked(False)  # type: ignore[attr-defined]
    trayai("config", "set", "poll_interval", "30")
    trayai("profile", "add", "Remote", "--base-url", REMOTE_URL)
    assert not dialog.try_accept()  # not yet: the question comes first
    box = conflict_box(qtbot, dialog)
    assert "poll_interval: yours 12.0, the other 30.0" in box.text()
    assert "notifications" not in box.text()  # changed here only: no question
    assert saved(paths)["poll_interval"] == 30.0  # nothing written while asking
    if answer == "Escape":
        qtbot.keyClick(box, Qt.Key.Key_Escape)
    else:
        cancel = box.button(QMessageBox.StandardButton.Cancel)
        qtbot.mouseClick(cancel if answer == "Cancel" else button(box, answer), Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.conflicts.box is None)
    data = saved(paths)
    assert data["poll_interval"] == poll
    assert dialog.isVisible() is not closed
    if closed:  # either answer keeps everything that did not clash, from both sides
        assert data["notifications"] is False
        assert profile_names(paths) == ["Local", "Lab", "Remote"]
    else:
        assert "notifications" not in data and "Not saved" in dialog.error_label.text()
        press_ok(qtbot, dialog)  # OK again asks again
        assert "poll_interval" in conflict_box(qtbot, dialog).text()


def test_a_tray_write_racing_the_cli_keeps_both(
    server: ScriptedServer, make_app: Any, run: Any, paths: AppPaths
) -> None:
    """Model ▸ and Servers ▸ choices re-read the file and change only their field."""
    server.models = ["ai/smollm2", "ai/qwen3"]
    settings = Settings()
    settings.profiles = [
        Profile(name="Scripted", base_url=server.base_url),
        Profile(name="Nowhere", base_url="http://127.0.0.1:9/v1"),
    ]
    settings.active_profile = "Scripted"
    app = make_app(settings)

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.state is ServerState.READY)
        # The tray loaded its settings at start; the CLI changes the file now.
        await asyncio.to_thread(trayai, "profile", "add", "Remote", "--base-url", REMOTE_URL)
        await asyncio.to_thread(trayai, "config", "set", "poll_interval", "30")
        app.session.choose_model("ai/qwen3")
        data = saved(paths)
        assert [p["name"] for p in data["profiles"]] == ["Scripted", "Nowhere", "Remote"]
        assert data["profiles"][0]["model"] == "ai/qwen3" and data["poll_interval"] == 30.0
        await asyncio.to_thread(trayai, "profile", "set", "Remote", "--model", "m-cli")
        app.session.choose_profile("Nowhere")
        data = saved(paths)
        assert data["active_profile"] == "Nowhere"
        assert data["profiles"][2]["model"] == "m-cli" and data["poll_interval"] == 30.0
        app.request_quit()
        assert await asyncio.wait_for(task, 5) == 0

    run(go())
