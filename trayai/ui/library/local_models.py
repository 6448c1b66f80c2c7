"""The models already on this machine, in the library window: the bundled one and every GGUF in the
models folder — downloaded from the catalog, from a search, or put there by hand — each with its size,
**Settings…** (its own context, threads, chat template and sampling) and **Use it now**. Without this
list, a model that did not come from the catalog could be set only from the CLI.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QStyle, QVBoxLayout, QWidget

from trayai.core.embedded import LocalModel
from trayai.core.library.fit import gigabytes
from trayai.ui.library.style import card_style, standard_icon, text_style

SP = QStyle.StandardPixmap
EMPTY_WORDS = "No models on this machine yet: get one below, or put a .gguf file in the models folder."


class LocalModelRow(QFrame):
    """One model on disk. Signals ``settings_clicked`` and ``use_clicked``; ``show_use`` says what
    Use it now is doing."""

    settings_clicked = Signal()
    use_clicked = Signal()

    def __init__(self, model: LocalModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("localModel")
        self.setAccessibleName(f"{model.name} on this machine")
        where = "comes with trayai" if model.bundled else str(model.path.parent)
        self.title = QLabel(f"<b>{html.escape(model.name)}</b>")  # a file name: shown as text, escaped
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.title.setWordWrap(True)  # a long file name must not widen a narrow window
        self.facts = QLabel(f"{gigabytes(model.size)} · {where}")
        self.facts.setTextFormat(Qt.TextFormat.PlainText)
        self.facts.setWordWrap(True)
        self.facts.setToolTip(str(model.path))
        self.settings_button = QPushButton("Settings…")
        self.settings_button.setIcon(standard_icon(self, SP.SP_FileDialogDetailedView))
        self.settings_button.setToolTip(
            f"{model.name}'s own context, threads, chat template and default sampling (on-demand server)"
        )
        self.settings_button.setAutoDefault(False)
        self.settings_button.clicked.connect(self.settings_clicked.emit)
        self.use_button = QPushButton("Use it now")
        self.use_button.setIcon(standard_icon(self, SP.SP_MediaPlay))
        self.use_button.setToolTip(f"Make the built-in server answer with {model.name}")
        self.use_button.setAutoDefault(False)
        self.use_button.clicked.connect(self.use_clicked.emit)
        self.note = QLabel()
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setWordWrap(True)
        self.note.hide()
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.settings_button)
        head.addWidget(self.use_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(10, 6, 10, 6)
        column.setSpacing(2)
        column.addLayout(head)
        column.addWidget(self.facts)
        column.addWidget(self.note)
        self._note_kind = "muted"
        self.restyle()

    def show_use(self, text: str, kind: str = "muted", *, busy: bool = False) -> None:
        """What Use it now is doing: switching, ready, or why it could not."""
        self._note_kind = kind
        self.note.setText(text)
        self.note.setStyleSheet(text_style(kind))
        self.note.setVisible(bool(text))
        self.use_button.setEnabled(not busy)

    def restyle(self) -> None:
        self.setStyleSheet(card_style("QFrame#localModel"))
        self.facts.setStyleSheet(text_style("muted"))
        self.note.setStyleSheet(text_style(self._note_kind))


class LocalModels(QWidget):
    """The section's rows, made again from each listing (``show_models``). Signals carry the row:
    ``settings_requested(row)``, ``use_requested(row)``."""

    settings_requested = Signal(object)
    use_requested = Signal(object)

    def __init__(self, parent: QWidget | None = None, *, with_settings: bool = True) -> None:
        super().__init__(parent)
        self.with_settings = with_settings  # False: no settings file to edit (Settings… hidden)
        self.rows: list[LocalModelRow] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.empty = QLabel(EMPTY_WORDS)
        self.empty.setWordWrap(True)
        self.empty.hide()
        self._layout.addWidget(self.empty)
        self._shown: list[LocalModel] | None = None

    def show_models(self, models: list[LocalModel]) -> None:
        """The models on disk now, in order. A model still there keeps its row (and the note under
        it: a Use it now under way writes there); only rows of models gone are deleted."""
        if models == self._shown:
            return
        self._shown = list(models)
        kept = {row.model: row for row in self.rows}
        for row in self.rows:
            self._layout.removeWidget(row)
            if row.model not in models:
                row.deleteLater()
        self.rows = []
        for model in models:
            row = kept.get(model) or self._row(model)
            self._layout.addWidget(row)
            self.rows.append(row)
        self.empty.setVisible(not models)

    def _row(self, model: LocalModel) -> LocalModelRow:
        row = LocalModelRow(model, self)
        row.settings_button.setVisible(self.with_settings)
        row.settings_clicked.connect(lambda row=row: self.settings_requested.emit(row))
        row.use_clicked.connect(lambda row=row: self.use_requested.emit(row))
        return row

    def row(self, name: str) -> LocalModelRow | None:
        return next((row for row in self.rows if row.model.name == name), None)

    def restyle(self) -> None:
        self.empty.setStyleSheet(text_style("muted"))
        for row in self.rows:
            row.restyle()


__all__ = ["EMPTY_WORDS", "LocalModelRow", "LocalModels"]
