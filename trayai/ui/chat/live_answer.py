"""The answer being streamed into the transcript's last frame: its writer, the deltas not yet
painted, and its thinking shown live (a bounded tail) until the answer starts, then one line.
"""

from __future__ import annotations

import time

from PySide6.QtGui import QTextFrame

from trayai.core.chat.history_records import StoredMessage
from trayai.ui.chat.answer_writer import AnswerWriter
from trayai.ui.chat.thinking_view import LIVE_TAIL_CHARS, ThinkingSections, replace_section, text_html


class LiveAnswer:
    """Bookkeeping for one streamed answer; the view schedules the flushes that paint it."""

    def __init__(self, message: StoredMessage, frame: QTextFrame, writer: AnswerWriter) -> None:
        self.message = message
        self.frame = frame
        self.writer = writer
        self.pending: list[str] = []
        self.final: StoredMessage | None = None  # set by finish_stream; the footer follows the backlog
        self.thinking: list[str] = []
        self.thinking_started: float | None = None
        self.thinking_shown = 0  # characters of thinking on screen (the live section is redrawn on change)
        self.thinking_closed = False  # collapsed to its one line: the answer started

    def text(self) -> str:
        return self.writer.text.full() + "".join(self.pending)

    def add_thinking(self, text: str) -> None:
        if self.thinking_started is None:
            self.thinking_started = time.monotonic()
        self.thinking.append(text)

    def show_thinking(self, muted: str) -> None:
        """Redraw the live section when the thinking grew (bounded: its last characters only)."""
        total = sum(len(t) for t in self.thinking)
        if self.thinking_closed or total == self.thinking_shown:
            return
        self.thinking_shown = total
        live = f'<p style="margin:0; color:{muted}"><small>Thinking…</small></p>' + text_html(
            "".join(self.thinking)[-LIVE_TAIL_CHARS:], muted, limit=LIVE_TAIL_CHARS, from_end=True
        )
        replace_section(self.frame, live)

    def close_thinking(self, seconds: float | None, sections: ThinkingSections, muted: str) -> None:
        """The answer started (or the stream ended): the section becomes its one line."""
        if self.thinking_closed or not self.thinking:
            return
        self.thinking_closed = True
        if seconds is None and self.thinking_started is not None:
            seconds = time.monotonic() - self.thinking_started
        sections.remember(self.message.id, "".join(self.thinking), seconds)
        replace_section(self.frame, sections.html(self.message.id, muted))


__all__ = ["LiveAnswer"]
