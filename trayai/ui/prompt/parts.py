"""The quick prompt's small parts: its header (what it talks to) and the chip saying which text an
action will use — so a person sees "Explain · ‘Photosynthesis conv…’" before pressing 1, not after.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QWidget

from trayai.ui.theme import current_theme


class PromptHeader(QWidget):
    """ "Quick prompt" and, at the right, the model and server the next question goes to."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel("Quick prompt")
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.target = QLabel()
        self.target.setObjectName("target")
        self.target.setTextFormat(Qt.TextFormat.PlainText)  # a model name is server text
        self.target.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.target.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.target.setAccessibleName("Model and server")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.title)
        row.addWidget(self.target, 1)
        self.restyle()

    def show_target(self, text: str) -> None:
        self._full = text
        self.target.setToolTip(text)
        self._elide()

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self._elide()

    def _elide(self) -> None:
        full = getattr(self, "_full", "")
        width = max(40, self.target.width())
        self.target.setText(self.target.fontMetrics().elidedText(full, Qt.TextElideMode.ElideMiddle, width))

    def restyle(self) -> None:
        self.target.setStyleSheet(f"QLabel {{ color: {current_theme().muted}; }}")


class SourceChip(QLabel):
    """A rounded chip: the text the actions will work on (or what they still need)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("source-chip")
        self.setTextFormat(Qt.TextFormat.PlainText)  # the selection is anybody's text
        self.setAccessibleName("Text the actions use")
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        self.restyle()

    def restyle(self) -> None:
        theme = current_theme()
        self.setStyleSheet(
            f"QLabel#source-chip {{ background: {theme.inline_code_background}; color: {theme.text};"
            f" border: 1px solid {theme.card_border}; border-radius: 9px; padding: 1px 8px; }}"
        )


__all__ = ["PromptHeader", "SourceChip"]
