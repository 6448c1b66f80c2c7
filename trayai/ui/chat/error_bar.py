"""A bar under the transcript that says what went wrong in plain words and offers the buttons that
can fix it ("Use qwen3", "Switch to ollama", "Start the built-in server", Retry…): an error a person
can act on in the window, instead of a terminal command to copy (issue 25). ``core/remedies.py``
decides the words and buttons; this draws them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QVBoxLayout, QWidget

from trayai.core.remedies import GuiHelp, RemedyAction
from trayai.ui.chat.flow import FlowLayout
from trayai.ui.theme import current_theme
from trayai.ui.theme_icons import ButtonIcon, button_icon


class ErrorBar(QFrame):
    """Shows one :class:`GuiHelp`; emits ``acted(RemedyAction)`` when a button is pressed (and hides:
    the window does what the button says). The × only hides it."""

    acted = Signal(object)

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self._restyle()
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.text = QLabel()
        self.text.setTextFormat(Qt.TextFormat.PlainText)
        self.text.setWordWrap(True)  # a long sentence must not widen a narrow window
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.close_button = QToolButton()
        self.close_button.setText("×")
        self.close_button.setIcon(button_icon(ButtonIcon.CLOSE))  # the theme's, else trayai's own
        self.close_button.setToolTip("Hide this message")
        self.close_button.setAccessibleName("Hide")
        self.close_button.clicked.connect(self.hide)
        self._buttons_holder = QWidget()
        self._buttons = FlowLayout(self._buttons_holder)  # wrap, never widen the window
        self.buttons: list[QPushButton] = []
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.close_button, 0, Qt.AlignmentFlag.AlignTop)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 6, 8, 6)
        column.addLayout(head)
        column.addWidget(self.text)
        column.addWidget(self._buttons_holder)
        self.hide()

    def show_help(self, help_: GuiHelp) -> None:
        """Show ``help_``: its headline, its plain words, one button per remedy."""
        self.title.setText(help_.title)
        self.text.setText(help_.text)
        self.text.setVisible(bool(help_.text))
        for button in self.buttons:
            self._buttons.removeWidget(button)
            button.deleteLater()
        self.buttons = [self._button(action) for action in help_.actions]
        self._buttons_holder.setVisible(bool(self.buttons))
        self.show()

    def border(self) -> str:
        """The edge's colour: the theme's card border, held to 3:1 on the window in light and dark
        (``palette(mid)`` gave about 1.5:1 in dark)."""
        return current_theme().card_border

    def changeEvent(self, event: QEvent) -> None:
        """Settings ▸ Appearance changed the palette: the edge follows the theme now showing."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._restyle()

    def _restyle(self) -> None:
        edge = f"border: 1px solid {self.border()}; border-radius: 4px; padding: 4px;"
        sheet = f"QFrame#{self.objectName()} {{ {edge} }}"
        if sheet != self.styleSheet():  # setting it again would send another change
            self.setStyleSheet(sheet)

    def labels(self) -> list[str]:
        """The buttons' labels, in order (what a screen reader and the tests read)."""
        return [b.text() for b in self.buttons]

    def press(self, label: str) -> None:
        """Press the button labelled ``label`` (keyboard users and the tests)."""
        next(b for b in self.buttons if b.text() == label).click()

    def _button(self, action: RemedyAction) -> QPushButton:
        button = QPushButton(action.label)
        button.setToolTip(action.tooltip)
        button.setAutoDefault(False)  # Enter in the prompt box sends; it never presses these
        button.clicked.connect(lambda: self._act(action))
        self._buttons.addWidget(button)
        return button

    def _act(self, action: RemedyAction) -> None:
        self.hide()
        self.acted.emit(action)


__all__ = ["ErrorBar"]
