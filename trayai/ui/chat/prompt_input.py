"""The multi-line prompt box: Enter sends, Shift+Enter breaks the line, Up recalls."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QMimeData, Qt, Signal
from PySide6.QtGui import QInputMethodEvent, QKeyEvent, QResizeEvent
from PySide6.QtWidgets import QPlainTextEdit, QWidget


class PromptInput(QPlainTextEdit):
    submitted = Signal(str)  # Enter was pressed with text (not during IME composition)
    escape = Signal()  # Esc was pressed (the window stops the answer or cancels an edit)

    MIN_LINES = 2  # an empty box is this tall…
    MAX_LINES = 8  # …and grows with its text up to this, then scrolls

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("Ask anything — Enter sends, Shift+Enter for a new line, ↑ recalls")
        self.setTabChangesFocus(True)
        self.document().contentsChanged.connect(self._fit)
        self._fit()
        # Set by the window: takes pasted files/images (as attachments) and says whether it did.
        self.paste_handler: Callable[[QMimeData], bool] | None = None
        self._composing = False
        self._recall: list[str] = []
        self._recall_pos: int | None = None

    def lines_shown(self) -> int:
        """How many text lines the box is sized for now (wrapped lines count)."""
        lines = int(self.document().size().height())  # QPlainTextEdit: the document's height in lines
        return max(self.MIN_LINES, min(self.MAX_LINES, lines))

    def _fit(self) -> None:
        """Height for the text's lines (between MIN and MAX); the transcript gets the rest."""
        margins = self.contentsMargins()
        frame = 2 * self.frameWidth() + margins.top() + margins.bottom()
        padding = 2 * int(self.document().documentMargin())
        height = self.fontMetrics().lineSpacing() * self.lines_shown() + frame + padding
        if self.height() != height or self.minimumHeight() != height:
            self.setFixedHeight(height)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:
        if self.paste_handler is not None and (
            source.hasImage() or any(u.isLocalFile() for u in source.urls())
        ):
            return True
        return super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:
        """A pasted image or file becomes an attachment; text is pasted as text."""
        if self.paste_handler is not None and not source.hasText() and self.paste_handler(source):
            return
        if self.paste_handler is not None and source.hasImage() and self.paste_handler(source):
            return
        super().insertFromMimeData(source)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()  # a narrower box wraps into more lines

    @property
    def composing(self) -> bool:
        return self._composing

    def remember(self, prompt: str) -> None:
        """Add a sent prompt to the recall list (Up/Down when the box is empty or recalling)."""
        if prompt.strip() and (not self._recall or self._recall[-1] != prompt):
            self._recall.append(prompt)
        self._recall_pos = None

    def set_recall(self, prompts: list[str]) -> None:
        self._recall = [p for p in prompts if p.strip()]
        self._recall_pos = None

    def inputMethodEvent(self, event: QInputMethodEvent) -> None:
        # Input methods (Chinese, Japanese, Korean…) commit a composition with Enter: while the
        # pre-edit string is non-empty, Enter belongs to the input method and must not send.
        self._composing = bool(event.preeditString())
        super().inputMethodEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        modifiers = event.modifiers()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not self._composing:
            if modifiers & Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
            if not modifiers & ~Qt.KeyboardModifier.KeypadModifier or modifiers & (
                Qt.KeyboardModifier.ControlModifier
            ):
                text = self.toPlainText()
                if text.strip():
                    self.submitted.emit(text)
                return
        if key == Qt.Key.Key_Escape:
            self.escape.emit()
            return
        if key == Qt.Key.Key_Up and self._recall and (not self.toPlainText() or self._recall_pos is not None):
            position = len(self._recall) if self._recall_pos is None else self._recall_pos
            if position > 0:
                self._recall_pos = position - 1
                self.setPlainText(self._recall[self._recall_pos])
                self.moveCursor(self.textCursor().MoveOperation.End)
            return
        if key == Qt.Key.Key_Down and self._recall_pos is not None:
            self._recall_pos += 1
            if self._recall_pos >= len(self._recall):
                self._recall_pos = None
                self.clear()
            else:
                self.setPlainText(self._recall[self._recall_pos])
                self.moveCursor(self.textCursor().MoveOperation.End)
            return
        if self._recall_pos is not None and event.text():
            self._recall_pos = None  # typing over a recalled prompt makes it a new one
        super().keyPressEvent(event)


__all__ = ["PromptInput"]
