"""The Quick prompt & hotkey page: the combination recorded by a key sequence box, what the hotkey
service says of it now, and how to bind ``trayai prompt`` where no global grab works.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QKeySequenceEdit, QLabel, QPushButton, QWidget

from trayai.core.settings.config import Settings
from trayai.core.settings.rules import hotkey_problem
from trayai.ui.settings.fields import form
from trayai.ui.settings.page import PageContext, SettingsPage

BIND_IT_YOURSELF = (
    "Press the combination to record it. On Wayland without the GlobalShortcuts portal, or if the "
    "combination is taken, bind the command `trayai prompt` in your desktop's keyboard settings: "
    "GNOME Settings ▸ Keyboard ▸ Custom Shortcuts; KDE System Settings ▸ Shortcuts ▸ Custom; "
    "Sway/Hyprland: a bindsym / bind line running `trayai prompt`."
)


class HotkeyPage(SettingsPage):
    """The hotkey is stored in its canonical spelling when it parses; ``problem`` says why it does not."""

    section = "Quick prompt & hotkey"

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        layout = form(self)
        self.hotkey_edit = QKeySequenceEdit()
        self.hotkey_edit.setObjectName("hotkey")
        self.hotkey_clear = QPushButton("No hotkey")
        self.hotkey_clear.clicked.connect(self.hotkey_edit.clear)
        row = QHBoxLayout()
        row.addWidget(self.hotkey_edit, 1)
        row.addWidget(self.hotkey_clear)
        layout.addRow("Quick prompt hotkey", row)
        self.hotkey_state = QLabel(context.hotkey_note or "")
        self.hotkey_state.setObjectName("hotkey_state")
        self.hotkey_state.setWordWrap(True)
        self.hotkey_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addRow("Now", self.hotkey_state)
        note = QLabel(BIND_IT_YOURSELF)
        note.setWordWrap(True)
        layout.addRow(note)

    def _typed(self) -> Settings:
        """The hotkey as recorded, in the settings the rule reads."""
        return Settings(hotkey=self.hotkey_edit.keySequence().toString())

    def load(self, settings: Settings) -> None:
        self.hotkey_edit.setKeySequence(settings.hotkey)

    def store(self, settings: Settings) -> None:
        typed = self._typed()
        hotkey_problem(typed)  # the canonical spelling when it parses (problem() says why not)
        settings.hotkey = typed.hotkey

    def problem(self) -> str | None:
        return hotkey_problem(self._typed())


__all__ = ["HotkeyPage"]
