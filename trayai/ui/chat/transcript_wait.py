"""The line between Send and an answer's first word, kept current: redrawn each second ("Waiting for
qwen3… 4 s"), at each report of how far the server read the prompt (a bar under "Reading the
prompt… 45 %"), and the live thinking's "Thinking… N s" likewise — "Loading qwen3 into memory…"
only where the server's model list says so.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QTextCursor

from trayai.core.net.backends.records import ModelRecord
from trayai.core.net.prompt_progress import PromptProgress
from trayai.ui.chat.live_answer import LiveAnswer

if TYPE_CHECKING:
    from trayai.ui.chat.transcript import TranscriptView


class WaitLine(QObject):
    """One transcript's seconds timer and its redraws of the streamed answer's wait or thinking line."""

    TICK_INTERVAL_MS = 1000  # the wait line and the live thinking timer count whole seconds

    def __init__(self, view: TranscriptView, stream: Callable[[], LiveAnswer | None]) -> None:
        """``stream``: the view's answer being streamed now, if any."""
        super().__init__(view)
        self._view = view
        self._stream = stream
        self.timer = QTimer(self)
        self.timer.setInterval(self.TICK_INTERVAL_MS)
        self.timer.timeout.connect(self.tick)
        self._model_records: Callable[[], Sequence[ModelRecord] | None] = lambda: None

    def set_model_records(self, source: Callable[[], Sequence[ModelRecord] | None]) -> None:
        """Where the wait line asks for the active server's models now (the monitor's last snapshot):
        "Loading qwen3 into memory…" only when they say so; None (the default) → "Waiting for…"."""
        self._model_records = source

    def show(self, stream: LiveAnswer) -> None:
        """Draw ``stream``'s wait line now (the caller holds the edit block)."""
        view = self._view
        stream.show_wait(view.renderer.palette.muted, self._model_records(), view.devicePixelRatioF())

    def tick(self) -> None:
        """Each second: the wait line's or the live thinking's seconds move on."""
        stream = self._stream()
        if stream is None or stream.final is not None or not (stream.waiting or stream.thinking_live):
            self.timer.stop()
            return
        if stream.waiting:
            self._redraw(lambda: self.show(stream))
        else:
            self._redraw(lambda: stream.show_thinking(self._view.renderer.palette, tick=True))

    def show_progress(self, progress: PromptProgress) -> None:
        """The server's report of how far it read the prompt: the wait line says so, over a bar."""
        stream = self._stream()
        if stream is None or stream.final is not None or not stream.waiting:
            return
        stream.reading = progress
        self._redraw(lambda: self.show(stream))

    def _redraw(self, draw: Callable[[], None]) -> None:
        """``draw`` as one edit, the view kept at its end if it was there."""
        view = self._view
        at_bottom = view.at_bottom()
        cursor = QTextCursor(view.document())
        cursor.beginEditBlock()
        draw()
        cursor.endEditBlock()
        if at_bottom:
            view.scroll_to_bottom()


__all__ = ["WaitLine"]
