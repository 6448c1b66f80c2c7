"""A message's actions as real icon buttons (copy, copy thinking, edit, regenerate) in a small toolbar
that floats over the top-right corner of the card under the pointer — or of the message chosen from the
keyboard (Alt+↑ / Alt+↓) — and is hidden otherwise, so the transcript stays calm and a streaming answer
never pays for it (the toolbar is a widget over the view, not part of the document).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QMouseEvent, QTextCursor, QTextFormat, QTextFrame
from PySide6.QtWidgets import QFrame, QHBoxLayout, QTextBrowser, QToolButton, QWidget

from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.ui.chat.transcript_links import TranscriptAction
from trayai.ui.theme import current_theme
from trayai.ui.theme_icons import ButtonIcon, button_icon

COPIED_TEXT = "✓\u00a0Copied"


class ToolbarButton(QToolButton):
    """One action: an icon with a tooltip and an accessible name; Left/Right move to its neighbours."""

    SIZE = 28  # at least 24 px to aim at, at every scale (Qt scales logical pixels)

    def __init__(
        self, kind: TranscriptAction, icon: ButtonIcon, words: str, tip: str, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self.icon_name = icon
        self.words = words
        self.setToolTip(tip)
        self.setAccessibleName(words)
        self.setAutoRaise(True)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setIconSize(QSize(18, 18))
        self.setMinimumSize(self.SIZE, self.SIZE)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        step = {Qt.Key.Key_Left: False, Qt.Key.Key_Right: True}.get(Qt.Key(event.key()))
        if step is None:
            super().keyPressEvent(event)
        else:
            self.focusNextPrevChild(step)


class MessageToolbar(QFrame):
    """The actions of one message at a time, over its card; ``triggered`` says which was pressed."""

    triggered = Signal(str, int, int)  # a TranscriptAction, the message id, -1 (as the view's links)
    EDGE = 6  # from the card's right edge and top (or the view's top, for a card taller than the view)

    def __init__(
        self,
        view: QTextBrowser,
        message_of: Callable[[int], StoredMessage | None],
        order: Callable[[], Sequence[int]],
    ) -> None:
        """``message_of``: the message a card shows (None while it streams: no actions yet);
        ``order``: the ids of the messages shown, top to bottom (for the keyboard)."""
        super().__init__(view.viewport())
        self.setObjectName("messageToolbar")
        self._view = view
        self._message_of = message_of
        self._order = order
        self.message_id: int | None = None
        self._frame: QTextFrame | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(0)
        self.buttons: dict[TranscriptAction, ToolbarButton] = {}
        for kind, icon, words, tip in (
            (
                TranscriptAction.COPY,
                ButtonIcon.COPY,
                "Copy",
                "Copy this message (Ctrl+Shift+C: the last answer)",
            ),
            (TranscriptAction.COPY_THINKING, ButtonIcon.COPY_THINKING, "Copy thinking", "Copy the thinking"),
            (
                TranscriptAction.EDIT,
                ButtonIcon.EDIT,
                "Edit",
                "Edit and send again as a new branch; the old one stays (Ctrl+E: the last)",
            ),
            (TranscriptAction.REGENERATE, ButtonIcon.REGENERATE, "Regenerate", "Answer again (Ctrl+Shift+R)"),
        ):
            button = ToolbarButton(kind, icon, words, tip, self)
            button.clicked.connect(lambda _=False, kind=kind: self._pressed(kind))
            layout.addWidget(button)
            self.buttons[kind] = button
        self._restyle()
        self.hide()
        view.viewport().setMouseTracking(True)
        view.viewport().installEventFilter(self)
        view.installEventFilter(self)
        view.verticalScrollBar().valueChanged.connect(self._follow)
        view.document().documentLayout().documentSizeChanged.connect(self._follow)

    # ------------------------------------------------------------------ showing

    def show_for(self, message_id: int | None) -> bool:
        """Show the toolbar on ``message_id``'s card (None, or a message without actions: hidden)."""
        message = None if message_id is None else self._message_of(message_id)
        frame = None if message is None else self._find_frame(message.id)
        if message is None or frame is None:
            self.hide_toolbar()
            return False
        if message.id != self.message_id or self.isHidden():
            self._set_buttons(message)
        self.message_id, self._frame = message.id, frame
        self.show()
        self.raise_()
        self._follow()
        return True

    def hide_toolbar(self) -> None:
        if self._has_focus():
            self._view.setFocus()
        self.hide()
        self.message_id, self._frame = None, None

    def _set_buttons(self, message: StoredMessage) -> None:
        answer = message.role == "assistant"
        shown = {
            TranscriptAction.COPY: True,
            TranscriptAction.COPY_THINKING: answer and bool(message.thinking),
            TranscriptAction.EDIT: message.role == "user",
            TranscriptAction.REGENERATE: answer and message.status != MessageStatus.ERROR,
        }
        self.unsay_copied()
        for kind, button in self.buttons.items():
            button.setVisible(shown[kind])
        self.adjustSize()

    def _follow(self) -> None:
        """Keep the toolbar on its card's top-right corner (scrolled, resized, the document grew)."""
        if self.isHidden() or self._frame is None:
            return
        layout = self._view.document().documentLayout()
        try:
            rect = layout.frameBoundingRect(self._frame)
        except RuntimeError:  # the card was drawn again (a reload): its old frame is gone
            rect = QRectF()
        if rect.isEmpty():
            self.hide_toolbar()
            return
        dx = self._view.horizontalScrollBar().value()
        dy = self._view.verticalScrollBar().value()
        x = int(rect.right()) - dx - self.width() - self.EDGE
        top = int(rect.top() + self._frame.frameFormat().topMargin()) - dy + self.EDGE // 2  # inside the edge
        bottom = int(rect.bottom()) - dy - self.height() - self.EDGE
        y = max(top, min(self.EDGE, bottom))  # a tall card scrolled past: stays at the view's top
        self.move(max(0, x), y)

    def _restyle(self) -> None:
        theme = current_theme()
        self.setStyleSheet(
            f"QFrame#messageToolbar {{ background: {theme.card}; border: 1px solid {theme.card_border}; "
            "border-radius: 6px; }"
        )
        for button in self.buttons.values():
            button.setIcon(button_icon(button.icon_name, theme))

    # ------------------------------------------------------------------ "✓ Copied"

    def say_copied(self, kind: TranscriptAction, message_id: int) -> bool:
        """The pressed Copy button says "✓ Copied" in place (False: not shown here)."""
        button = self.buttons.get(kind)
        if button is None or message_id != self.message_id or self.isHidden() or button.isHidden():
            return False
        button.setText(COPIED_TEXT)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.adjustSize()
        self._follow()
        return True

    def unsay_copied(self) -> None:
        for button in self.buttons.values():
            if button.toolButtonStyle() is not Qt.ToolButtonStyle.ToolButtonIconOnly:
                button.setText(button.words)
                button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        self.adjustSize()
        self._follow()

    def copied_text(self) -> str | None:
        """What a button says "✓ Copied" now, as "kind" (for tests and accessibility)."""
        return next((str(k) for k, b in self.buttons.items() if b.text() == COPIED_TEXT), None)

    # ------------------------------------------------------------------ keyboard

    def focus_step(self, step: int) -> bool:
        """Alt+↑ / Alt+↓: the toolbar on the previous or next message that has actions (from the
        prompt box: the last one), its first button focused, the card scrolled into view."""
        ids = list(self._order())
        if not ids:
            return False
        here = ids.index(self.message_id) if self.message_id in ids and self._has_focus() else len(ids)
        index = here + step if here < len(ids) else len(ids) - 1
        while 0 <= index < len(ids):
            if self._message_of(ids[index]) is not None:
                self._reveal(ids[index])
                if self.show_for(ids[index]):
                    first = next(b for b in self.buttons.values() if not b.isHidden())
                    first.setFocus(Qt.FocusReason.ShortcutFocusReason)
                    return True
            index += step if step else -1
        return False

    def _reveal(self, message_id: int) -> None:
        frame = self._find_frame(message_id)
        if frame is None:
            return
        rect = self._view.document().documentLayout().frameBoundingRect(frame)
        bar = self._view.verticalScrollBar()
        height = self._view.viewport().height()
        if rect.top() < bar.value() or rect.top() > bar.value() + height - 40:
            bar.setValue(int(rect.top()) - 8)

    def keyboard_on(self) -> bool:
        """One of the buttons has the keyboard focus (a message chosen with Alt+↑/↓)."""
        return self.isVisible() and self._has_focus()

    def _has_focus(self) -> bool:
        return any(b.hasFocus() for b in self.buttons.values())

    # ------------------------------------------------------------------ the pointer

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self._view.viewport():
            if kind == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
                self._hover(event.position().toPoint())
            elif kind == QEvent.Type.Leave and not self.underMouse() and not self._has_focus():
                self.hide_toolbar()
        elif watched is self._view and kind in (QEvent.Type.Resize, QEvent.Type.PaletteChange):
            if kind == QEvent.Type.PaletteChange:
                self._restyle()
            self._follow()
        return False

    def leaveEvent(self, event: QEvent) -> None:
        super().leaveEvent(event)
        inside = self._view.viewport().mapFromGlobal(self.cursor().pos())
        if not self._view.viewport().rect().contains(inside) and not self._has_focus():
            self.hide_toolbar()

    def _hover(self, pos: QPoint) -> None:
        if self._has_focus():
            return  # the keyboard chose a message: the pointer passing by does not move it away
        frame = self._frame_at(pos)
        message_id = _frame_id(frame) if frame is not None else None
        if message_id != self.message_id or self.isHidden():
            self.show_for(message_id)

    def _frame_at(self, pos: QPoint) -> QTextFrame | None:
        """The message card under a viewport point (None: between cards or below the last)."""
        doc = self._view.document()
        at = QPointF(
            pos.x() + self._view.horizontalScrollBar().value(),
            pos.y() + self._view.verticalScrollBar().value(),
        )
        hit = doc.documentLayout().hitTest(at, Qt.HitTestAccuracy.ExactHit)
        if hit < 0:
            hit = doc.documentLayout().hitTest(at, Qt.HitTestAccuracy.FuzzyHit)
        cursor = QTextCursor(doc)
        cursor.setPosition(max(0, hit))
        frame = cursor.currentFrame()
        while frame is not None and frame.parentFrame() is not None:
            parent = frame.parentFrame()
            if parent.parentFrame() is None:  # a card: a frame right under the root
                rect = doc.documentLayout().frameBoundingRect(frame)
                return frame if rect.contains(at) else None
            frame = parent
        return None

    def _find_frame(self, message_id: int) -> QTextFrame | None:
        for frame in self._view.document().rootFrame().childFrames():
            if _frame_id(frame) == message_id:
                return frame
        return None

    def _pressed(self, kind: TranscriptAction) -> None:
        if self.message_id is not None:
            self.triggered.emit(str(kind), self.message_id, -1)


def _frame_id(frame: QTextFrame) -> int | None:
    value = frame.frameFormat().property(QTextFormat.Property.UserProperty)
    return value if isinstance(value, int) else None


__all__ = ["COPIED_TEXT", "MessageToolbar", "ToolbarButton"]
