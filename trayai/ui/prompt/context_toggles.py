"""What goes before a quick-prompt question: the clipboard's text and the desktop's selection (X11
PRIMARY), each behind its own check box — remembered between runs in the prompt's state file — and
cut to ``CONTEXT_LIMIT`` characters.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings
from PySide6.QtGui import QClipboard, QGuiApplication
from PySide6.QtWidgets import QCheckBox

from trayai.ui.prompt.actions_row import CONTEXT_LIMIT


class ContextToggles:
    """ "Use clipboard" and "Use selection" (hidden where there is no selection), and their text."""

    def __init__(self, state_file: Path | None) -> None:
        """``state_file``: where the two choices are kept (None: they start off each run)."""
        self._state_file = state_file
        self.use_clipboard = QCheckBox("Use clipboard")
        self.use_clipboard.setToolTip("Put the clipboard's text before your question")
        self.use_selection = QCheckBox("Use selection")
        self.use_selection.setToolTip(
            "Put the text selected anywhere on the desktop (X11) before your question"
        )
        if not QGuiApplication.clipboard().supportsSelection():
            self.use_selection.hide()
        self._restore()
        self.use_clipboard.toggled.connect(lambda _on: self._save())
        self.use_selection.toggled.connect(lambda _on: self._save())

    def text(self) -> str:
        """The chosen texts, selection first, a blank line between; "" when none is chosen or set."""
        clipboard = QGuiApplication.clipboard()
        parts = []
        if self.use_selection.isChecked() and clipboard.supportsSelection():
            parts.append(clipboard.text(QClipboard.Mode.Selection))
        if self.use_clipboard.isChecked():
            parts.append(clipboard.text(QClipboard.Mode.Clipboard))
        text = "\n\n".join(p for p in parts if p.strip())
        return text[:CONTEXT_LIMIT]

    def _save(self) -> None:
        if self._state_file is None:
            return
        settings = QSettings(str(self._state_file), QSettings.Format.IniFormat)
        settings.setValue("prompt/use_clipboard", self.use_clipboard.isChecked())
        settings.setValue("prompt/use_selection", self.use_selection.isChecked())
        settings.sync()

    def _restore(self) -> None:
        if self._state_file is None:
            return
        settings = QSettings(str(self._state_file), QSettings.Format.IniFormat)
        self.use_clipboard.setChecked(str(settings.value("prompt/use_clipboard", "false")).lower() == "true")
        self.use_selection.setChecked(str(settings.value("prompt/use_selection", "false")).lower() == "true")


__all__ = ["ContextToggles"]
