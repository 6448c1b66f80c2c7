"""The question a tool call asks the person, as real buttons above the prompt box: "Run time ·
get_current_time?" with Allow once / Always for this tool / Deny (icons, tooltips, Alt+A / Alt+W /
Alt+D, Enter presses the focused one, Space never does). The card in the transcript shows what the
call will send; this bar is where it is answered, one call at a time (the chat asks a round's calls
in turn; should several wait at once, the bar says "1 of 3").
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from trayai.core.tools.policy import Approval
from trayai.ui.chat.flow import FlowLayout
from trayai.ui.chat.tool_cards import ToolCard
from trayai.ui.theme import current_theme
from trayai.ui.theme_icons import ButtonIcon, button_icon


@dataclass(frozen=True)
class Choice:
    """One answer: its button's words (with the Alt mnemonic), icon and tooltip."""

    approval: Approval
    label: str
    icon: ButtonIcon
    tip: str


CHOICES = (
    Choice(Approval.ONCE, "&Allow once", ButtonIcon.ALLOW, "Run this call now; ask again next time (Alt+A)"),
    Choice(
        Approval.ALWAYS,
        "Al&ways for this tool",
        ButtonIcon.ALWAYS,
        "Run it, and never ask about this tool again — saved in your tool settings (Alt+W)",
    ),
    Choice(Approval.DENY, "&Deny", ButtonIcon.DENY, "Do not run it; the model is told you said no (Alt+D)"),
)
ARGUMENTS_SHOWN = 160  # characters of the arguments on the bar's second line (the card shows them all)


class ToolApprovalBar(QFrame):
    """Asks about the first waiting call; ``decided(key, Approval)`` when a button is pressed.
    ``ask`` adds a waiting card, ``forget`` drops one that no longer waits (decided, stopped)."""

    decided = Signal(int, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._built = False  # a palette change during construction restyles nothing yet
        self.setObjectName("toolApproval")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setAccessibleName("Tool call waiting for you")
        self._waiting: dict[int, ToolCard] = {}  # in the order the model asked
        self.icon = QLabel()
        self.title = QLabel()
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setBold(True)
        self.title.setFont(font)
        self.detail = QLabel()  # tool text is untrusted: plain text only, never rich
        self.detail.setTextFormat(Qt.TextFormat.PlainText)
        self.detail.setWordWrap(True)
        self.buttons: dict[Approval, QPushButton] = {}
        holder = QWidget()
        row = FlowLayout(holder)  # wrap in a narrow window, never widen it
        for choice in CHOICES:
            button = QPushButton(choice.label)
            button.setToolTip(choice.tip)
            button.setAccessibleName(choice.label.replace("&", ""))
            button.clicked.connect(lambda _checked=False, a=choice.approval: self._press(a))
            button.installEventFilter(self)
            row.addWidget(button)
            self.buttons[choice.approval] = button
        head = QHBoxLayout()
        head.addWidget(self.icon, 0, Qt.AlignmentFlag.AlignTop)
        head.addWidget(self.title, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(8, 6, 8, 6)
        column.addLayout(head)
        column.addWidget(self.detail)
        column.addWidget(holder)
        self._built = True
        self._restyle()
        self.hide()

    # ------------------------------------------------------------------ what the binding tells it

    def ask(self, key: int, card: ToolCard, *, take_focus: bool = True) -> None:
        """Card ``key`` waits for the person: shown (or queued behind the one shown). ``take_focus``:
        the keyboard moves to Allow once (not while the person is typing their next question)."""
        first = not self._waiting
        self._waiting[key] = card
        self._show_first(focus=first and take_focus)

    def forget(self, key: int) -> None:
        """Card ``key`` no longer waits: the next one is asked, or the bar hides."""
        if self._waiting.pop(key, None) is not None:
            self._show_first(focus=self.has_focus())

    def clear(self) -> None:
        self._waiting.clear()
        self.hide()

    @property
    def current(self) -> int | None:
        """The key of the call the buttons answer now."""
        return next(iter(self._waiting), None)

    def has_focus(self) -> bool:
        return any(button.hasFocus() for button in self.buttons.values())

    # ------------------------------------------------------------------ inside

    def _show_first(self, *, focus: bool) -> None:
        key = self.current
        if key is None:
            self.hide()
            return
        card = self._waiting[key]
        count = len(self._waiting)
        queued = f" (1 of {count})" if count > 1 else ""
        self.title.setText(f"Run {card.title.replace('/', ' · ')}?{queued}")
        arguments = " ".join((card.arguments or "{}").split())
        if len(arguments) > ARGUMENTS_SHOWN:
            arguments = arguments[: ARGUMENTS_SHOWN - 1] + "…"
        self.detail.setText(f"With {arguments} — the card above shows all it sends.")
        self.show()
        if focus:
            self.buttons[Approval.ONCE].setFocus(Qt.FocusReason.OtherFocusReason)

    def _press(self, approval: Approval) -> None:
        key = self.current
        if key is not None:
            self.decided.emit(key, approval)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Enter or Return presses the focused button (outside a dialog Qt only takes Space). Space
        does not: it is the key someone typing a sentence presses most, and a question that took the
        keyboard mid-word must not be answered by it."""
        if (
            event.type() in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease)
            and isinstance(event, QKeyEvent)
            and isinstance(watched, QPushButton)
        ):
            if event.key() == Qt.Key.Key_Space:
                return True
            if (
                event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            ):
                watched.click()
                return True
        return super().eventFilter(watched, event)

    def changeEvent(self, event: QEvent) -> None:
        """Settings ▸ Appearance changed the palette: the frame and icons follow the theme now showing."""
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and self._built:
            self._restyle()

    def _restyle(self) -> None:
        theme = current_theme()
        sheet = (
            f"QFrame#toolApproval {{ border: 1px solid {theme.tool_border}; border-radius: 6px;"
            f" background: {theme.tool_card}; }}"
        )
        if sheet != self.styleSheet():  # setting it again would send another change
            self.setStyleSheet(sheet)
        size = self.fontMetrics().height()
        self.icon.setPixmap(button_icon(ButtonIcon.TOOL).pixmap(size, size))
        for choice in CHOICES:
            self.buttons[choice.approval].setIcon(button_icon(choice.icon))


__all__ = ["CHOICES", "Choice", "ToolApprovalBar"]
