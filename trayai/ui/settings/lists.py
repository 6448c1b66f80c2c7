"""``ItemListEditor``: a list of named settings objects (presets, actions) beside a form of their fields'
editors, with Add and Remove — the settings dialog's Presets and Quick actions pages.

It edits the list it is shown in place (the dialog's copy of the settings): Cancel drops the copy,
OK stores the form (``store()``) and validates like every other setting (ui/settings/list_pages.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from trayai.ui.settings.fields import FieldEditor, field_of, label_for
from trayai.ui.settings.fields import form as field_form

log = logging.getLogger(__name__)

LIST_WIDTH = 200  # beside the form
LIST_HEIGHT = 120  # above the form (a narrow window): a few names, the form keeps the room


def set_list_beside(layout: QBoxLayout, items: QListWidget, *, beside: bool) -> None:
    """A list beside its form (wide) or above it (narrow, full width and a few rows tall)."""
    layout.setDirection(QBoxLayout.Direction.LeftToRight if beside else QBoxLayout.Direction.TopToBottom)
    items.setMaximumSize(LIST_WIDTH if beside else 16_777_215, 16_777_215 if beside else LIST_HEIGHT)


class ItemListEditor(QWidget):
    """Items are shown by name (the list follows the name as it is typed); the form shows the chosen one.

    ``make_item(items)`` returns a new item for Add (a free name, a free key) or None when no more
    fit, which disables Add. ``none_text`` is what an optional number shows when unset.
    """

    def __init__(
        self,
        cls: type[Any],
        fields: tuple[str, ...],
        *,
        noun: str,
        make_item: Callable[[list[Any]], Any | None],
        multiline: frozenset[str] = frozenset(),
        none_text: str = "",
        note: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.items: list[Any] = []
        self._noun = noun
        self._make_item = make_item
        self._current: int | None = None
        self.list = QListWidget()
        self.list.setObjectName(f"{noun}s")
        self.list.setAccessibleName(f"{noun.capitalize()}s")
        self.list.setMaximumWidth(LIST_WIDTH)
        self.add_button = QPushButton("&Add")
        self.add_button.setAccessibleName(f"Add a {noun}")
        self.remove_button = QPushButton("&Remove")
        self.remove_button.setAccessibleName(f"Remove this {noun}")
        buttons = QHBoxLayout()
        buttons.addWidget(self.add_button)
        buttons.addWidget(self.remove_button)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        left.addLayout(buttons)

        self.editors: dict[str, FieldEditor] = {}
        form = field_form()  # labels above fields when narrow
        for name in fields:
            editor = FieldEditor(
                field_of(cls, name), multiline=name in multiline, none_text=none_text or "default"
            )
            editor.widget.setObjectName(f"{noun}_{name}")
            editor.widget.setAccessibleName(f"{noun.capitalize()} {label_for(name).lower()}")
            if name in multiline:
                editor.widget.setMaximumHeight(140)
            self.editors[name] = editor
            form.addRow(label_for(name), editor.widget)
        if note:
            self.note = QLabel(note)
            self.note.setWordWrap(True)
            self.note.setTextFormat(Qt.TextFormat.PlainText)
            form.addRow(self.note)
        right = QWidget()
        right.setLayout(form)
        self._layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addLayout(left)
        self._layout.addWidget(right, 1)

        self.list.currentRowChanged.connect(self._on_selected)
        self.add_button.clicked.connect(self.add)
        self.remove_button.clicked.connect(self.remove)
        name_widget = self.editors["name"].widget
        name_widget.textEdited.connect(self._on_name_edited)  # type: ignore[attr-defined]
        self._fill(0)

    def show_items(self, items: list[Any]) -> None:
        """Edit ``items`` (in place) from now on, the first one shown."""
        self.items = items
        self._current = None
        self._fill(0)

    def set_list_beside(self, *, beside: bool) -> None:
        """The list beside the form (wide dialog) or above it (narrow)."""
        set_list_beside(self._layout, self.list, beside=beside)

    # ------------------------------------------------------------------ list

    def _fill(self, select: int) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        self.list.addItems([item.name for item in self.items])
        self.list.blockSignals(False)
        self._current = None
        row = min(select, len(self.items) - 1)
        self.list.setCurrentRow(row)
        self._on_selected(row)

    def _on_selected(self, row: int) -> None:
        if self._current is not None and self._current != row:
            self.store()
        self._current = row if 0 <= row < len(self.items) else None
        for editor in self.editors.values():
            editor.widget.setEnabled(self._current is not None)
        if self._current is not None:
            item = self.items[self._current]
            for name, editor in self.editors.items():
                editor.load(getattr(item, name))
        else:
            for editor in self.editors.values():
                editor.load(editor.spec.default)
        self.remove_button.setEnabled(self._current is not None)
        self.add_button.setEnabled(self._make_item(self.items) is not None)

    def _on_name_edited(self, text: str) -> None:
        item = self.list.currentItem()
        if item is not None:
            item.setText(text)

    def store(self) -> None:
        """Copy the form into the chosen item (unchecked: OK validates); names lose outer spaces."""
        if self._current is None or self._current >= len(self.items):
            return
        item = self.items[self._current]
        for name, editor in self.editors.items():
            value = editor.value()
            setattr(item, name, value.strip() if name == "name" and isinstance(value, str) else value)

    def select(self, row: int) -> None:
        """Show item ``row`` (a problem found on OK is about it)."""
        self.store()
        self.list.setCurrentRow(row)

    @property
    def current_row(self) -> int | None:
        return self._current

    def add(self) -> None:
        self.store()
        item = self._make_item(self.items)
        if item is None:
            return
        self.items.append(item)
        self._fill(len(self.items) - 1)
        name = self.editors["name"].widget
        name.setFocus()
        name.selectAll()  # type: ignore[attr-defined]
        log.info("settings: %s %r added", self._noun, item.name)

    def remove(self) -> None:
        if self._current is None:
            return
        gone = self.items.pop(self._current)
        row = self._current
        self._current = None  # the form belonged to the removed item: nothing to store
        self._fill(row)
        log.info("settings: %s %r removed", self._noun, gone.name)


__all__ = ["ItemListEditor"]
