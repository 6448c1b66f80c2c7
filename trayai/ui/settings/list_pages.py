"""The Presets and Quick actions pages: each an ``ItemListEditor`` over its list of the settings, with
the rule that makes an item unusable (``core/settings/rules.list_problem``) shown on the item it is about.
"""

from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from trayai.core.settings.config import Action, Preset, Settings
from trayai.core.settings.rules import free_key, list_problem, unique_name
from trayai.ui.settings.lists import ItemListEditor
from trayai.ui.settings.page import PageContext, SettingsPage

PRESET_FIELDS = ("name", "system_prompt", "temperature", "max_tokens")
ACTION_FIELDS = ("name", "key", "template", "replaces")
PRESETS_NOTE = (
    "A preset is a named system prompt with, optionally, its own temperature and max tokens (unset: "
    "the profile's; an empty system prompt: the profile's too). Use one with `trayai ask --preset "
    "NAME`; manage them with `trayai preset list|add|remove`."
)
ACTIONS_NOTE = (
    "In the quick prompt, the action's number in the empty box (or Alt+number anytime) sends its "
    "template: {selection} is the selected text (the clipboard's when nothing is selected), "
    "{clipboard} the clipboard's, {input} what you typed; {{ and }} are literal braces. Tray ▸ Actions "
    "and `trayai prompt --action NAME` run them too."
)


class ListPage(SettingsPage):
    """A page that is one ``ItemListEditor`` (``editor``): the list fills the page's height."""

    rows_at_top = False

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.editor = self.make_editor()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.editor)

    def make_editor(self) -> ItemListEditor:
        """The page's list editor (its class, fields and how Add makes an item)."""
        raise NotImplementedError

    def problem(self) -> str | None:
        self.editor.store()
        found = list_problem(self.editor.items)
        if found is None:
            return None
        row, message = found
        self.editor.select(row)
        return message

    def set_narrow(self, *, narrow: bool) -> None:
        self.editor.set_list_beside(beside=not narrow)


class PresetsPage(ListPage):
    """Prompt presets ("assistants"): an unset number or empty system prompt means the profile's."""

    section = "Presets"

    def make_editor(self) -> ItemListEditor:
        return ItemListEditor(
            Preset,
            PRESET_FIELDS,
            noun="preset",
            make_item=lambda items: Preset(name=unique_name("New preset", (p.name for p in items))),
            multiline=frozenset({"system_prompt"}),
            none_text="the profile's",
            note=PRESETS_NOTE,
        )

    def load(self, settings: Settings) -> None:
        self.editor.show_items(settings.presets)

    def store(self, settings: Settings) -> None:
        self.editor.store()
        settings.presets = self.editor.items


def _new_action(items: list[Action]) -> Action | None:
    """A new action on the lowest free number key; None when all nine are taken."""
    key = free_key(items)
    if key is None:
        return None
    return Action(unique_name("New action", (a.name for a in items)), "{selection}", key)


class ActionsPage(ListPage):
    """Quick prompt actions: a name, a number key (1–9, one each) and a template."""

    section = "Quick actions"

    def make_editor(self) -> ItemListEditor:
        return ItemListEditor(
            Action,
            ACTION_FIELDS,
            noun="action",
            make_item=_new_action,
            multiline=frozenset({"template"}),
            note=ACTIONS_NOTE,
        )

    def load(self, settings: Settings) -> None:
        self.editor.show_items(settings.actions)

    def store(self, settings: Settings) -> None:
        self.editor.store()
        settings.actions = self.editor.items


__all__ = ["ActionsPage", "ListPage", "PresetsPage"]
