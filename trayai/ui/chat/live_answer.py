"""The answer being streamed into the transcript's last frame: its writer, the deltas not yet
painted, the wait before its first word ("Waiting for qwen3… 4 s", or "Reading the prompt… 45 %"
over a progress bar where the server says how far it read), and its thinking shown live (a bounded
tail under "Thinking… N s") until the answer starts, then one line.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence

from PySide6.QtGui import QTextFrame

from trayai.core.chat.history_records import StoredMessage
from trayai.core.chat.render import Palette
from trayai.core.chat.waiting import Wait, WaitPhase, phase_from_records, thinking_words, wait_words
from trayai.core.net.backends.records import ModelRecord
from trayai.core.net.prompt_progress import PromptProgress
from trayai.ui.chat.answer_writer import AnswerWriter
from trayai.ui.chat.progress_bar import bar_html
from trayai.ui.chat.thinking_view import LIVE_TAIL_CHARS, ThinkingSections, replace_section, text_html


class LiveAnswer:
    """Bookkeeping for one streamed answer; the view schedules the flushes that paint it."""

    def __init__(
        self,
        message: StoredMessage,
        frame: QTextFrame,
        writer: AnswerWriter,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.message = message
        self._clock = clock
        self.started = clock()  # Send: the wait line counts from here
        self.frame = frame
        self.writer = writer
        self.pending: list[str] = []
        self.final: StoredMessage | None = None  # set by finish_stream; the footer follows the backlog
        self.thinking: list[str] = []
        self.thinking_started: float | None = None
        self.thinking_shown = 0  # characters of thinking on screen (the live section is redrawn on change)
        self.thinking_closed = False  # collapsed to its one line: the answer started
        self.waiting = True  # nothing has come yet: the section shows the wait line
        self.reading: PromptProgress | None = None  # the server's last prompt-reading report

    @property
    def model(self) -> str:
        return str(self.message.meta.get("model") or "the model")

    def text(self) -> str:
        return self.writer.text.full() + "".join(self.pending)

    def add_thinking(self, text: str) -> None:
        if self.thinking_started is None:
            self.thinking_started = self._clock()
        self.waiting = False
        self.thinking.append(text)

    def show_wait(self, muted: str, records: Sequence[ModelRecord] | None, dpr: float = 1.0) -> None:
        """The wait line in the section's place: "Waiting for qwen3… 4 s", "Loading qwen3 into
        memory… 12 s" when the server's model list says it is loading now, or "Reading the prompt…
        45 % (1,840 / 4,096 tokens) · 3 s" above a progress bar when the server reports how far."""
        if not self.waiting:
            return
        elapsed = self._clock() - self.started
        if self.reading is not None:
            wait = Wait(WaitPhase.READING, elapsed, self.model, reading=self.reading)
        else:
            wait = Wait(phase_from_records(self.model, records), elapsed, self.model)
        section = f'<p style="margin:0; color:{muted}"><i>{html.escape(wait_words(wait))}</i></p>'
        if self.reading is not None:
            bar = bar_html(self.frame.document(), str(self.message.id), self.reading.fraction, dpr)
            section += f'<p style="margin-top:4px; margin-bottom:2px">{bar}</p>'
        replace_section(self.frame, section)

    def end_wait(self) -> None:
        """The first word (or the end) came: the wait line goes."""
        if self.waiting:
            self.waiting = False
            replace_section(self.frame, "")

    @property
    def thinking_live(self) -> bool:
        return bool(self.thinking) and not self.thinking_closed

    def show_thinking(self, palette: Palette, *, tick: bool = False) -> None:
        """Redraw the live section when the thinking grew, or on ``tick`` (its timer moved on);
        bounded: its last characters only."""
        total = sum(len(t) for t in self.thinking)
        if self.thinking_closed or not self.thinking or (total == self.thinking_shown and not tick):
            return
        self.thinking_shown = total
        started = self.thinking_started if self.thinking_started is not None else self.started
        words = thinking_words(self._clock() - started, done=False)
        live = f'<p style="margin:0; color:{palette.muted}"><small>{words}</small></p>' + text_html(
            "".join(self.thinking)[-LIVE_TAIL_CHARS:], palette, limit=LIVE_TAIL_CHARS, from_end=True
        )
        replace_section(self.frame, live)

    def close_thinking(self, seconds: float | None, sections: ThinkingSections, palette: Palette) -> None:
        """The answer started (or the stream ended): the section becomes its one line."""
        if self.thinking_closed or not self.thinking:
            return
        self.thinking_closed = True
        if seconds is None and self.thinking_started is not None:
            seconds = self._clock() - self.thinking_started
        sections.remember(self.message.id, "".join(self.thinking), seconds)
        replace_section(self.frame, sections.html(self.message.id, palette))


__all__ = ["LiveAnswer"]
