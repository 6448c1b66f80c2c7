"""The Generation page: the sampling defaults of the profile chosen on the Endpoints page, which shows
it each profile it selects (generation settings belong to a profile, not to the whole app).
"""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from trayai.core.settings.config import GenerationParams, Profile, Settings
from trayai.ui.settings.fields import editor_rows, form
from trayai.ui.settings.page import PageContext, SettingsPage

GENERATION_FIELDS = ("temperature", "top_p", "max_tokens", "system_prompt", "stream")


class GenerationPage(SettingsPage):
    """A :class:`~trayai.ui.settings.page.ProfilePart`: its values live in the profiles, so ``load`` and
    ``store`` have nothing of their own to do."""

    section = "Generation"

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        layout = form(self)
        self.generation_for = QLabel()
        layout.addRow(self.generation_for)
        multiline = frozenset({"system_prompt"})
        self.editors = editor_rows(layout, GenerationParams, GENERATION_FIELDS, multiline=multiline)

    def load(self, settings: Settings) -> None:
        """Nothing: the Endpoints page shows each profile it selects here."""

    def store(self, settings: Settings) -> None:
        """Nothing: the Endpoints page stores into each profile it leaves."""

    def show_profile(self, profile: Profile) -> None:
        for name, editor in self.editors.items():
            editor.load(getattr(profile.generation, name))
        self.generation_for.setText(f"Defaults for new chats on “{profile.name}”")

    def store_profile(self, profile: Profile) -> None:
        for name, editor in self.editors.items():
            setattr(profile.generation, name, editor.value())


__all__ = ["GenerationPage"]
