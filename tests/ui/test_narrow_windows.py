"""The chat window and the settings dialog at 480 px (a tiled third of a screen), at their minimum
size, either side of the width where their layouts switch, and at their default width: no control cut
short or outside the window, every option reachable, the keyboard shortcuts still working."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.support.fitting import clipped, settle, unreachable_inputs
from tests.support.screens import demo_history
from tests.ui.conftest import client_for
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Preset, Settings
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.chat.panes import ChatPanes
from trayai.ui.chat.window import ChatWindow
from trayai.ui.settings.dialog import SECTIONS, SettingsDialog

PRESETS = [Preset("Terse reviewer", "Answer in one line.", 0.2, 64), Preset("Pirate", "Arr.", None, None)]
CHAT_WIDTHS = (480, ChatPanes.NARROW_BELOW - 1, ChatPanes.NARROW_BELOW, 1000)
SETTINGS_WIDTHS = (
    480,
    SettingsDialog.NARROW_BELOW - 1,
    SettingsDialog.NARROW_BELOW,
    SettingsDialog.DEFAULT_WIDTH,
)


def laid_out(window: QWidget, width: int, height: int) -> QSize:
    """Resize and let the layouts settle (offscreen, the size is applied at once)."""
    window.resize(width, height)
    return settle(window)


@pytest.fixture
def chat(tmp_path: Path, qtbot: QtBot) -> Iterator[ChatWindow]:
    """A chat window with everything its bars can show: presets, changed options, attachments, edit banner."""
    store, conversation = demo_history(tmp_path)
    client = client_for("http://127.0.0.1:9/v1")
    controller = ChatController(store, lambda: ChatTarget(client=client, model="qwen3:4b", profile="demo"))
    window = ChatWindow(controller, store, presets=lambda: PRESETS)
    qtbot.addWidget(window)
    window.show()
    window.open_conversation(conversation)
    controller.set_options(model="qwen3:4b", temperature=0.3, max_tokens=512, system_prompt="Be brief.")
    window._fill_options()  # as opening the conversation with these options does
    for name in ("notes.txt", "a-rather-long-file-name.py", "data.json"):
        (tmp_path / name).write_text("some text\n" * 20)
    window.attach_tray.add_paths(
        [tmp_path / n for n in ("notes.txt", "a-rather-long-file-name.py", "data.json")]
    )
    user = next(m for m in store.messages(conversation) if m.role == "user")
    window.start_edit(user.id)
    yield window
    window.close()
    store.close()


def assert_chat_fits(window: ChatWindow) -> None:
    assert clipped(window) == []
    assert window.minimumSizeHint().width() <= window.width()  # the layout is not squeezed below its minimum
    bar = window.options_bar
    assert bar.minimumSizeHint().width() <= bar.width()  # one row only when it really fits
    assert bar.model_combo.isVisible() and bar.preset_combo.isVisible() and bar.summary.isVisible()
    assert bar.summary.text() == "0.3 · 512 tokens · system prompt"
    assert bar.sidebar_button.isVisible() or window.sidebar.back_button.isVisible()
    # Temperature, max tokens and the system prompt live in the Options popover: reachable through it.
    for widget in (window.temperature, window.max_tokens, window.system_prompt):
        assert bar.popover.isAncestorOf(widget)


@pytest.mark.parametrize("width", CHAT_WIDTHS)
def test_chat_controls_are_whole_at_each_width_with_the_list_shown_or_not(
    chat: ChatWindow, width: int
) -> None:
    assert laid_out(chat, width, 620) == QSize(width, 620)
    assert chat.panes.narrow == (width < ChatPanes.NARROW_BELOW)
    assert chat.panes.sidebar_open == (not chat.panes.narrow)  # narrow starts on the conversation
    assert chat.main_pane.isVisible()
    assert_chat_fits(chat)
    bar = chat.options_bar
    one_row = bar.preset_combo.y() == bar.model_combo.y()
    assert one_row == (not bar.two_rows)
    if width in (480, ChatPanes.NARROW_BELOW):  # the bar is about 470 px wide: a second row
        assert bar.two_rows
    if width == 1000:  # room for one row: it is used
        assert not bar.two_rows
    chat.panes.toggle_sidebar()
    laid_out(chat, width, 620)
    if chat.panes.narrow:  # the list stands in for the conversation, with Back
        assert chat.sidebar.isVisible() and not chat.main_pane.isVisible()
        assert chat.sidebar.back_button.isVisible()
        assert clipped(chat) == []
    else:
        assert not chat.sidebar.isVisible()
        assert_chat_fits(chat)
    chat.panes.toggle_sidebar()
    laid_out(chat, width, 620)
    assert chat.main_pane.isVisible()
    assert_chat_fits(chat)


def test_chat_minimum_size_is_honest(chat: ChatWindow) -> None:
    assert ChatWindow.MIN_WIDTH <= 480 and chat.minimumSize() == QSize(
        ChatWindow.MIN_WIDTH, ChatWindow.MIN_HEIGHT
    )
    laid_out(chat, 480, 620)  # the narrow layout's minimum, not the wide one's
    smallest = chat.minimumSize()
    assert laid_out(chat, 1, 1) == smallest  # nothing smaller is possible…
    assert chat.panes.narrow and smallest.width() <= 480
    assert_chat_fits(chat)  # …and at that size every control is whole
    chat.panes.toggle_sidebar()
    laid_out(chat, 1, 1)
    assert chat.sidebar.isVisible() and clipped(chat) == []


def test_narrow_chat_is_driven_by_the_keyboard(chat: ChatWindow, qtbot: QtBot) -> None:
    laid_out(chat, 480, 620)
    chat._cancel_edit()
    ctrl = Qt.KeyboardModifier.ControlModifier
    qtbot.keyClick(chat, Qt.Key.Key_B, ctrl)  # Ctrl+B: the conversations instead of the chat
    assert chat.sidebar.isVisible() and not chat.main_pane.isVisible()
    qtbot.keyClick(chat.sidebar.conversations, Qt.Key.Key_Escape)  # Esc: back to the chat
    assert chat.main_pane.isVisible() and not chat.sidebar.isVisible()
    qtbot.keyClick(chat, Qt.Key.Key_F, ctrl)  # Ctrl+F opens the list to search it
    assert chat.sidebar.isVisible() and chat.sidebar.search.isVisible()
    qtbot.keyClicks(chat.sidebar.search, "Trip")
    qtbot.keyClick(chat.sidebar.search, Qt.Key.Key_Return)  # opens the hit: back to the chat
    assert chat.main_pane.isVisible() and not chat.sidebar.isVisible()
    assert "Trip ideas" in chat.transcript.toPlainText()
    qtbot.keyClick(chat, Qt.Key.Key_B, ctrl)
    laid_out(chat, 480, 620)  # Back is laid out before anyone can click it
    qtbot.mouseClick(chat.sidebar.back_button, Qt.MouseButton.LeftButton)
    assert chat.main_pane.isVisible() and not chat.sidebar.isVisible()
    laid_out(chat, 480, 620)  # the chat pane is back: laid out before its Chats button is clicked
    qtbot.mouseClick(chat.options_bar.sidebar_button, Qt.MouseButton.LeftButton)  # the Chats button
    assert chat.sidebar.isVisible() and chat.options_bar.sidebar_button.isChecked()
    qtbot.keyClick(chat, Qt.Key.Key_N, ctrl)  # Ctrl+N: a new chat, shown at once
    assert chat.main_pane.isVisible() and chat.controller.conversation_id is None
    shown: list[bool] = []
    popover = chat.options_bar.popover

    def look_and_close() -> None:  # the popover runs its own event loop until closed
        shown.append(popover.isVisible())
        popover.close()

    QTimer.singleShot(0, look_and_close)
    qtbot.keyClick(chat, Qt.Key.Key_O, ctrl | Qt.KeyboardModifier.ShiftModifier)  # the Options popover
    assert shown == [True]
    laid_out(chat, 1000, 620)  # wide again: both panes
    assert (
        chat.sidebar.isVisible() and chat.main_pane.isVisible() and not chat.sidebar.back_button.isVisible()
    )


def test_a_narrow_session_does_not_save_a_hidden_list(chat: ChatWindow, tmp_path: Path, qtbot: QtBot) -> None:
    state = tmp_path / "state.ini"
    chat._state_file = state
    laid_out(chat, 1000, 620)
    chat.splitter.setSizes([300, 700])
    chat.save_state()
    laid_out(chat, 480, 620)
    chat.save_state()  # the list is hidden here: its width must not be saved as 0
    again = ChatWindow(chat.controller, chat.history, state_file=state)
    qtbot.addWidget(again)
    again.show()
    laid_out(again, 1000, 620)
    assert again.sidebar.width() >= 250
    again.close()


@pytest.fixture
def settings_dialog(qtbot: QtBot) -> Iterator[SettingsDialog]:
    dialog = SettingsDialog(
        LoadedConfig(Settings()), SecretStore(MemoryKeyring()), ConfigStore(AppPaths.from_env())
    )
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    dialog.close()


def assert_every_section_fits(dialog: SettingsDialog) -> None:
    for section in SECTIONS:
        dialog.show_section(section)
        laid_out(dialog, dialog.width(), dialog.height())
        page = dialog.pages.currentWidget()
        assert page is not None and page.isVisible()
        assert clipped(dialog) == [], section
        assert unreachable_inputs(page, dialog) == [], section
    assert dialog.minimumSizeHint().width() <= dialog.width()  # the layout is not squeezed


@pytest.mark.parametrize("width", SETTINGS_WIDTHS)
def test_settings_pages_are_whole_at_each_width(settings_dialog: SettingsDialog, width: int) -> None:
    assert laid_out(settings_dialog, width, 560) == QSize(width, 560)
    narrow = width < SettingsDialog.NARROW_BELOW
    assert settings_dialog.narrow == narrow
    assert settings_dialog.sections.isVisible() != narrow
    assert settings_dialog.section_combo.isVisible() == narrow  # every section reachable either way
    combo = settings_dialog.section_combo
    assert [combo.itemText(i) for i in range(combo.count())] == list(SECTIONS)
    assert_every_section_fits(settings_dialog)


def test_settings_minimum_size_is_honest(settings_dialog: SettingsDialog) -> None:
    assert SettingsDialog.MIN_WIDTH <= 480
    assert settings_dialog.minimumSize() == QSize(SettingsDialog.MIN_WIDTH, SettingsDialog.MIN_HEIGHT)
    laid_out(settings_dialog, 480, 560)  # the narrow layout's minimum, not the wide one's
    smallest = settings_dialog.minimumSize()
    assert laid_out(settings_dialog, 1, 1) == smallest
    assert settings_dialog.narrow and smallest.width() <= 480
    assert_every_section_fits(settings_dialog)


def test_narrow_settings_pick_sections_and_add_profiles(
    settings_dialog: SettingsDialog, qtbot: QtBot
) -> None:
    laid_out(settings_dialog, 480, 560)
    settings_dialog.section_combo.setCurrentIndex(SECTIONS.index("Quick actions"))
    assert settings_dialog.pages.currentIndex() == SECTIONS.index("Quick actions")
    assert settings_dialog.actions_page.editor.isVisible()
    settings_dialog.show_section("Endpoints")  # a problem found on OK shows its section: the picker follows
    assert settings_dialog.section_combo.currentText() == "Endpoints"
    before = settings_dialog.profiles_page.profiles.count()
    laid_out(settings_dialog, 480, 560)
    qtbot.mouseClick(
        settings_dialog.profiles_page.add_button, Qt.MouseButton.LeftButton
    )  # above the form now
    assert settings_dialog.profiles_page.profiles.count() == before + 1
    assert settings_dialog.profiles_page.name_edit.text() == "New endpoint"
    assert clipped(settings_dialog) == []
