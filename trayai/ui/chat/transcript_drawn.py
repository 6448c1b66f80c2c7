"""What each message drawn in the transcript is, by id: its frame in the document (scrolling to it,
redrawing it), the text it shows (Copy), the message as drawn (the toolbar's actions) and its code
blocks (Copy code) — one record per message, so a redraw or a clear never leaves one half-updated.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from PySide6.QtGui import QTextFrame

from trayai.core.chat.history_records import StoredMessage


@dataclass
class DrawnMessage:
    """One message on screen. ``message`` is None while its answer streams (nothing to act on yet)."""

    frame: QTextFrame
    codes: list[str]  # filled as the answer's code blocks are drawn
    message: StoredMessage | None = None


@dataclass
class DrawnMessages:
    """The messages of one transcript document, in the order they were drawn."""

    _drawn: dict[int, DrawnMessage] = field(default_factory=dict)

    def clear(self) -> None:
        self._drawn.clear()

    def add(self, message: StoredMessage, frame: QTextFrame, codes: list[str]) -> None:
        """``message`` drawn whole in ``frame`` (again: the old record is replaced)."""
        self._drawn[message.id] = DrawnMessage(frame, codes, message)

    def begin(self, message_id: int, frame: QTextFrame, codes: list[str]) -> None:
        """A streamed answer's frame, before the answer is whole (see :meth:`ended`)."""
        self._drawn[message_id] = DrawnMessage(frame, codes)

    def ended(self, message: StoredMessage) -> None:
        """The streamed answer ``message`` is whole: its text and actions are the saved ones."""
        drawn = self._drawn.get(message.id)
        if drawn is not None:
            drawn.message = message

    @property
    def ids(self) -> list[int]:
        return list(self._drawn)

    def frame(self, message_id: int) -> QTextFrame | None:
        drawn = self._drawn.get(message_id)
        return drawn.frame if drawn is not None else None

    def message(self, message_id: int) -> StoredMessage | None:
        """The message as drawn; None when it is not drawn or still streaming."""
        drawn = self._drawn.get(message_id)
        return drawn.message if drawn is not None else None

    def text(self, message_id: int) -> str | None:
        message = self.message(message_id)
        return message.content if message is not None else None

    def code_block(self, message_id: int, index: int) -> str | None:
        """Code block ``index`` of a message (Copy code), None when it has no such block."""
        drawn = self._drawn.get(message_id)
        codes = drawn.codes if drawn is not None else []
        return codes[index] if 0 <= index < len(codes) else None

    def last_code_block(self) -> str | None:
        """The last code block of the last message that has one."""
        for drawn in reversed(self._drawn.values()):
            if drawn.codes:
                return drawn.codes[-1]
        return None


__all__ = ["DrawnMessage", "DrawnMessages"]
