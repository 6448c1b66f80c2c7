"""The General page: the app-wide settings (polling, notifications, left click, start at login,
watching servers) and the applications-menu button, which acts at once (a file on disk, not a setting).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from trayai.core import desktop_entry
from trayai.core.desktop_entry import DesktopError
from trayai.core.settings.config import Settings
from trayai.ui.settings.fields import editor_rows, form
from trayai.ui.settings.page import PageContext, SettingsPage

log = logging.getLogger(__name__)

GENERAL_FIELDS = (
    "appearance",
    "poll_interval",
    "notifications",
    "left_click",
    "start_at_login",
    "watch_servers",
    "server_notifications",
)


class GeneralPage(SettingsPage):
    """The menu button says what it will do, from whether the entry exists; the label beside it, what
    happened."""

    section = "General"

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._desktop = context.desktop
        layout = form(self)
        self.editors = editor_rows(layout, Settings, GENERAL_FIELDS)
        self.menu_button = QPushButton()
        self.menu_button.setObjectName("applications_menu")
        self.menu_button.clicked.connect(self.toggle_menu_entry)
        self.menu_state = QLabel()
        self.menu_state.setWordWrap(True)
        self.menu_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.menu_button)
        row.addWidget(self.menu_state, 1)
        layout.addRow("Applications menu", row)
        self._show_menu_entry()

    def load(self, settings: Settings) -> None:
        for name, editor in self.editors.items():
            editor.load(getattr(settings, name))

    def store(self, settings: Settings) -> None:
        for name, editor in self.editors.items():
            setattr(settings, name, editor.value())

    def _show_menu_entry(self, said: str = "") -> None:
        try:
            desktop_entry.check_platform()
        except DesktopError as exc:
            self.menu_button.setText("Add trayai to the applications menu")
            self.menu_button.setEnabled(False)
            self.menu_state.setText(f"{exc.message}. {exc.hint}.")
            return
        installed = desktop_entry.is_installed(self._desktop)
        self.menu_button.setText("Remove it" if installed else "Add trayai to the applications menu")
        self.menu_state.setText(said or ("trayai is in the applications menu." if installed else ""))

    def toggle_menu_entry(self) -> None:
        """Add or remove the menu entry now (not on OK: it is a file on disk, not a setting)."""
        try:
            if desktop_entry.is_installed(self._desktop):
                result = desktop_entry.uninstall(self._desktop)
            else:
                # lazy: loaded when first used: the tray stays light
                from trayai.ui.icon_render import render_png

                result = desktop_entry.install(self._desktop, render_png)
        except DesktopError as exc:
            self._show_menu_entry(f"✗ {exc.message} — {exc.hint}")
            return
        log.info("settings: %s", result.summary())
        self._show_menu_entry(result.summary())


__all__ = ["GeneralPage"]
