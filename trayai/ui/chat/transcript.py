"""The conversation view: a QTextBrowser that renders messages and streams an answer cheaply.

Frames, flushes, inert resources and action links: docs/architecture.md, "The chat window". What a
message looks like is ``message_html.py``; the app's own links are ``transcript_links.py``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QEvent, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QDesktopServices,
    QPalette,
    QResizeEvent,
    QTextCursor,
    QTextFrame,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from trayai.core.chat.history_records import StoredMessage
from trayai.core.chat.render import MarkdownRenderer, Palette
from trayai.core.net.backends.records import ModelRecord
from trayai.core.net.prompt_progress import PromptProgress
from trayai.ui.chat.answer_writer import AnswerWriter, fresh_block
from trayai.ui.chat.copied_buttons import CopiedButtons
from trayai.ui.chat.live_answer import LiveAnswer
from trayai.ui.chat.message_frame import insert_message, mark_message
from trayai.ui.chat.message_html import MessageHtml
from trayai.ui.chat.message_toolbar import MessageToolbar
from trayai.ui.chat.thinking_view import ThinkingSections, replace_section
from trayai.ui.chat.tool_cards import CardFrames, ToolCard, card_for_message
from trayai.ui.chat.transcript_links import ACTION_SCHEME, ActionLinks, TranscriptAction
from trayai.ui.chat.transcript_search import highlight, reveal


class TranscriptView(QTextBrowser):
    # A link under a message: a TranscriptAction, the message id, the code block or alternative
    # index (-1 when it has none).
    action = Signal(str, int, int)
    load_earlier = Signal()  # scrolled to the top and earlier messages exist
    palette_changed = Signal()  # the desktop switched light/dark: the owner re-renders

    FLUSH_INTERVAL_MS = 16
    TICK_INTERVAL_MS = 1000  # the wait line and the live thinking timer count whole seconds
    READABLE_WIDTH = 880  # on a wide window the text keeps a readable line length, centred
    # A finished answer up to this long is drawn again whole (tens of ms); a longer one keeps what was
    # painted as it streamed, where lists are numbered right too (the end of a long answer stays fast).
    REDRAW_LIMIT = AnswerWriter.TAIL_MARKDOWN_LIMIT

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setOpenLinks(False)
        self.setOpenExternalLinks(False)
        self.setReadOnly(True)
        self.setUndoRedoEnabled(False)
        self.document().setUndoRedoEnabled(False)
        self.document().setDocumentMargin(10)
        self.anchorClicked.connect(self._on_anchor)
        self.links = ActionLinks()  # the app's own links, with this view's secret
        self._html = MessageHtml(MarkdownRenderer(Palette(dark=self.is_dark())), self.links, self.document)
        self._frames: dict[int, QTextFrame] = {}
        self._contents: dict[int, str] = {}
        self._shown: dict[int, StoredMessage] = {}  # each drawn message as last drawn (the toolbar's)
        self._codes: dict[int, list[str]] = {}
        self._thinking = ThinkingSections(self.links)
        self.cards = CardFrames(self.links)  # tool calls' cards (ui/chat/tool_cards.py)
        self._stream: LiveAnswer | None = None
        self._has_earlier = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(self.FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)
        # Between Send and the first word, and while thinking streams: a line that counts seconds.
        self.tick_timer = QTimer(self)
        self.tick_timer.setInterval(self.TICK_INTERVAL_MS)
        self.tick_timer.timeout.connect(self._tick)
        self.clock: Callable[[], float] = time.monotonic
        self.copied = CopiedButtons(self.document(), self.links, self)  # "✓ Copied" for a moment
        # Copy, Edit, Regenerate, Copy thinking: real buttons over the hovered (or chosen) card.
        self.toolbar = MessageToolbar(self, self._with_actions, lambda: list(self._frames))
        self.toolbar.triggered.connect(self.action)
        self.copied.button_says = self.toolbar.say_copied
        self.copied.button_unsays = self.toolbar.unsay_copied
        self._model_records: Callable[[], Sequence[ModelRecord] | None] = lambda: None
        self.verticalScrollBar().valueChanged.connect(self._on_scrolled)
        self.flush_count = 0

    # ------------------------------------------------------------------ safety

    def resizeEvent(self, event: QResizeEvent) -> None:
        spare = self.width() - self.READABLE_WIDTH - self.verticalScrollBar().sizeHint().width()
        side = max(0, spare // 2)
        if self.viewportMargins().left() != side:
            self.setViewportMargins(side, 0, side, 0)
        super().resizeEvent(event)

    def loadResource(self, _type: int, _name: QUrl | str) -> Any:
        """Never load anything: no remote images, stylesheets or local files from model output."""
        return None

    def action_href(self, kind: TranscriptAction, message_id: int = 0, index: int | None = None) -> str:
        """The address of one of the app's own links (Copy, Retry, …), with this view's secret token."""
        return self.links.href(kind, message_id, index)

    def _on_anchor(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == ACTION_SCHEME:
            link = self.links.parse(url)
            if link is None:
                return  # not one of ours (e.g. "trayai:retry/1" written by the model), or unknown
            if link.kind is TranscriptAction.EARLIER:
                self.load_earlier.emit()
            elif link.kind is TranscriptAction.THINKING:
                self.toggle_thinking(link.message_id)
            elif link.kind is TranscriptAction.TOOL_RESULT:
                self.cards.toggle(link.message_id, self.renderer.palette)
            else:
                self.action.emit(link.kind, link.message_id, link.index)
        elif scheme in ("http", "https"):
            QDesktopServices.openUrl(url)

    def set_model_records(self, source: Callable[[], Sequence[ModelRecord] | None]) -> None:
        """Where the wait line asks for the active server's models now (the monitor's last snapshot):
        "Loading qwen3 into memory…" only when they say so; None (the default) → "Waiting for…"."""
        self._model_records = source

    # ------------------------------------------------------------------ palette

    @property
    def renderer(self) -> MarkdownRenderer:
        """The Markdown renderer for the current palette (light or dark code colours)."""
        return self._html.renderer

    def is_dark(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Base).lightness() < 128

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = self.is_dark()
            if dark != self.renderer.palette.dark:
                self._html.renderer = MarkdownRenderer(Palette(dark=dark))
                self.palette_changed.emit()

    # ------------------------------------------------------------------ whole messages

    def clear_messages(self) -> None:
        self._flush_timer.stop()
        self.tick_timer.stop()
        self.copied.clear()
        self.toolbar.hide_toolbar()
        self._stream = None
        self._frames.clear()
        self._shown.clear()
        self._contents.clear()
        self._codes.clear()
        self._thinking.clear()
        self.cards.clear()
        self._has_earlier = False
        self.document().clear()

    @property
    def message_ids(self) -> list[int]:
        return list(self._frames)

    def set_messages(self, messages: list[StoredMessage], *, has_earlier: bool) -> None:
        """Show exactly these messages (the newest slice of a conversation), scrolled to the end."""
        self.clear_messages()
        self.setUpdatesEnabled(False)
        try:
            self._set_earlier_link(show=has_earlier)
            for message in messages:
                self.append_message(message, scroll=False)
        finally:
            self.setUpdatesEnabled(True)
        self.scroll_to_bottom()

    def prepend_messages(self, messages: list[StoredMessage], *, has_earlier: bool) -> None:
        """Insert earlier messages above the current ones, keeping what the user looks at in place."""
        bar = self.verticalScrollBar()
        old_max, old_value = bar.maximum(), bar.value()
        self.setUpdatesEnabled(False)
        try:
            self._set_earlier_link(show=False)
            cursor = QTextCursor(self.document())
            cursor.movePosition(QTextCursor.MoveOperation.Start)
            cursor.beginEditBlock()
            for message in messages:
                self._insert_message(cursor, message)
            cursor.endEditBlock()
            self._set_earlier_link(show=has_earlier)
        finally:
            self.setUpdatesEnabled(True)
        bar.setValue(old_value + (bar.maximum() - old_max))

    def append_message(self, message: StoredMessage, *, scroll: bool = True) -> None:
        at_bottom = self._at_bottom()  # a reader of earlier text is never yanked away
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.beginEditBlock()
        self._insert_message(cursor, message)
        cursor.endEditBlock()
        if scroll and at_bottom:
            self.scroll_to_bottom()

    def _set_earlier_link(self, *, show: bool) -> None:
        doc = self.document()
        first = doc.begin()
        has_link = first.isValid() and first.text().startswith("↑ Load earlier messages")
        if has_link and not show:
            cursor = QTextCursor(first)
            cursor.select(QTextCursor.SelectionType.BlockUnderCursor)
            cursor.movePosition(QTextCursor.MoveOperation.NextBlock, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        elif show and not has_link:
            cursor = QTextCursor(doc)
            cursor.movePosition(QTextCursor.MoveOperation.Start)
            cursor.insertHtml(self._centred_link(TranscriptAction.EARLIER, "↑ Load earlier messages"))
            cursor.insertBlock()
        self._has_earlier = show

    def append_latest_link(self) -> None:
        """Under a slice that is not the end of the conversation: a link back to the newest messages."""
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml(self._centred_link(TranscriptAction.LATEST, "↓ Show the latest messages"))

    def _centred_link(self, kind: TranscriptAction, text: str) -> str:
        return f'<p align="center">{self.links.anchor(kind, text)}</p>'

    def _insert_message(self, cursor: QTextCursor, message: StoredMessage) -> QTextFrame:
        """Insert one message as a frame at ``cursor``; the cursor ends after the frame."""
        codes: list[str] = []
        if message.role == "tool":  # a tool call's card, drawn as it looked when it finished
            frame = self.cards.insert(cursor, message.id, card_for_message(message), self.renderer.palette)
        else:
            frame, codes = insert_message(cursor, message, self._html, self._thinking, self._writer)
        self._frames[message.id] = frame
        self._contents[message.id] = message.content
        self._shown[message.id] = message
        self._codes[message.id] = codes
        return frame

    def _with_actions(self, message_id: int) -> StoredMessage | None:
        """A drawn message the toolbar may offer actions on (not the answer still streaming)."""
        stream = self._stream
        if stream is not None and stream.message.id == message_id:
            return None
        return self._shown.get(message_id)

    # ------------------------------------------------------------------ thinking

    def thinking_text(self, message_id: int) -> str | None:
        """A message's whole thinking (for Copy thinking), None when it has none."""
        stream = self._stream
        if stream is not None and stream.message.id == message_id and stream.thinking:
            return "".join(stream.thinking)
        return self._thinking.text(message_id)

    def toggle_thinking(self, message_id: int) -> None:
        frame = self._frames.get(message_id)
        if frame is None or not self._thinking.has(message_id):
            return
        self._thinking.toggle(message_id)
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        replace_section(frame, self._thinking.html(message_id, self.renderer.palette))
        cursor.endEditBlock()

    def add_thinking(self, text: str) -> None:
        """Thinking of the answer being streamed: shown live until the answer starts."""
        stream = self._stream
        if stream is None or not text or stream.final is not None:
            return
        stream.add_thinking(text)  # the wait line gives way to the live thinking at the next flush
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _close_thinking(self, stream: LiveAnswer, seconds: float | None) -> None:
        stream.close_thinking(seconds, self._thinking, self.renderer.palette)

    def _writer(self, frame: QTextFrame, start: int, message_id: int, codes: list[str]) -> AnswerWriter:
        return AnswerWriter(frame, start, self.renderer, codes, lambda i: self._html.code_href(message_id, i))

    # ------------------------------------------------------------------ streaming

    @property
    def streaming(self) -> bool:
        return self._stream is not None

    def begin_stream(self, message: StoredMessage) -> None:
        """Add the (empty) answer's frame; deltas go into it until :meth:`finish_stream`."""
        self._complete_stream()
        at_bottom = self._at_bottom()
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        frame = cursor.insertFrame(self._html.frame_format("assistant"))
        mark_message(frame, message.id)
        inner = frame.firstCursorPosition()
        inner.insertHtml(self._html.header(message))
        inner.insertBlock()
        codes: list[str] = []
        writer = self._writer(frame, inner.position(), message.id, codes)
        self._stream = LiveAnswer(message, frame, writer, self.clock)
        self._frames[message.id] = frame
        self._codes[message.id] = codes
        self._show_wait(self._stream)
        self.tick_timer.start()
        if at_bottom:
            self.scroll_to_bottom()

    def add_delta(self, text: str) -> None:
        stream = self._stream
        if stream is None or not text or stream.final is not None:
            return
        if stream.waiting or stream.thinking_live:
            self.tick_timer.stop()
            cursor = QTextCursor(self.document())
            cursor.beginEditBlock()
            stream.end_wait()
            self._close_thinking(stream, None)
            cursor.endEditBlock()
        stream.pending.append(text)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def flush(self) -> None:
        """Paint what arrived since the last flush (called by the timer, or directly at the end).

        One flush does a bounded amount of work (see :class:`AnswerWriter`); when some is left the
        timer runs again, so paints and input are handled in between.
        """
        stream = self._stream
        if stream is None:
            return
        self.flush_count += 1
        at_bottom = self._at_bottom()
        if stream.pending:
            stream.writer.add("".join(stream.pending))
            stream.pending.clear()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        stream.show_thinking(self.renderer.palette)
        more = stream.writer.step()
        cursor.endEditBlock()
        if more:
            self._flush_timer.start()
        elif stream.final is not None:
            self._finalize(stream)
        if at_bottom:
            self.scroll_to_bottom()

    def _tick(self) -> None:
        """Each second: the wait line's or the live thinking's seconds move on."""
        stream = self._stream
        if stream is None or stream.final is not None or not (stream.waiting or stream.thinking_live):
            self.tick_timer.stop()
            return
        at_bottom = self._at_bottom()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        if stream.waiting:
            self._show_wait(stream)
        else:
            stream.show_thinking(self.renderer.palette, tick=True)
        cursor.endEditBlock()
        if at_bottom:
            self.scroll_to_bottom()

    def show_prompt_progress(self, progress: PromptProgress) -> None:
        """The server's report of how far it read the prompt: the wait line says so, over a bar."""
        stream = self._stream
        if stream is None or stream.final is not None or not stream.waiting:
            return
        stream.reading = progress
        at_bottom = self._at_bottom()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        self._show_wait(stream)
        cursor.endEditBlock()
        if at_bottom:
            self.scroll_to_bottom()

    def _show_wait(self, stream: LiveAnswer) -> None:
        stream.show_wait(self.renderer.palette.muted, self._model_records(), self.devicePixelRatioF())

    def _cursor_at(self, position: int) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.setPosition(position)
        return cursor

    def finish_stream(self, message: StoredMessage) -> None:
        """Paint the rest, then the footer/error/actions of the final ``message``.

        A long backlog is painted over the next frames (``streaming`` stays True until then).
        """
        stream = self._stream
        if stream is None or stream.message.id != message.id or stream.final is not None:
            return
        self._flush_timer.stop()
        self.tick_timer.stop()
        if stream.waiting:  # failed, stopped or answered whole: the wait line goes
            cursor = QTextCursor(self.document())
            cursor.beginEditBlock()
            stream.end_wait()
            cursor.endEditBlock()
        # Whatever was not delivered as deltas (e.g. a non-streamed reply) is in message.content.
        delivered = stream.writer.text.length + sum(len(p) for p in stream.pending)
        if len(message.content) > delivered:
            stream.pending.append(message.content[delivered:])
        stream.final = message
        if stream.pending:
            stream.writer.add("".join(stream.pending))
            stream.pending.clear()
        stream.writer.finish()
        if stream.writer.text.length > AnswerWriter.BLOCK_MARKDOWN_LIMIT:
            self._flush_timer.start()  # a long answer: not in the same loop iteration as its saving
        else:
            self.flush()

    def _complete_stream(self) -> None:
        """A finished answer still painting its backlog is completed now (a new one is starting)."""
        stream = self._stream
        if stream is None or stream.final is None:
            return
        self._flush_timer.stop()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        while stream.writer.step(budget=10**9):
            pass
        cursor.endEditBlock()
        self._finalize(stream)

    def _finalize(self, stream: LiveAnswer) -> None:
        message = stream.final
        assert message is not None
        at_bottom = self._at_bottom()
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        if len(message.content) <= self.REDRAW_LIMIT:
            # Drawn again as a reopened chat draws it: blocks painted as they finished (a list
            # cut by a flush, a paragraph apart from the list after it) must not stay different.
            self._redraw_frame(stream.frame, message)
        else:
            if message.thinking and not stream.thinking:
                stream.thinking.append(message.thinking)  # a non-streamed reply: all of it at the end
            seconds = message.meta.get("thinking_s")
            self._close_thinking(stream, seconds if isinstance(seconds, (int, float)) else None)
            inner = self._cursor_at(stream.frame.lastPosition())
            if inner.block().length() > 1 or inner.currentList() is not None:
                fresh_block(inner)
            inner.insertHtml(self._html.tail(message))
        cursor.endEditBlock()
        self._contents[message.id] = message.content
        self._shown[message.id] = message
        self._stream = None
        if at_bottom:
            self.scroll_to_bottom()

    def append_card(self, key: int, card: ToolCard) -> None:
        """A live tool call's card at the end (``key`` < 0 until its tool message is stored)."""
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        self.cards.insert(cursor, key, card, self.renderer.palette)
        self.scroll_to_bottom()

    def settle_card(self, key: int, message: StoredMessage) -> None:
        """A live card replaced by its stored tool message, drawn the way a reopened chat draws it."""
        frame = self.cards.frames.get(key)
        if frame is not None:
            self.cards.forget(key)
            self._redraw_frame(frame, message)

    def _redraw_frame(self, frame: QTextFrame, message: StoredMessage) -> None:
        """Replace ``frame`` by ``message`` drawn the way :meth:`append_message` draws it."""
        cursor = self._cursor_at(frame.firstPosition() - 1)
        cursor.setPosition(frame.lastPosition() + 1, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        self._insert_message(cursor, message)

    # ------------------------------------------------------------------ lookup

    def message_text(self, message_id: int) -> str | None:
        stream = self._stream
        if stream is not None and stream.message.id == message_id:
            return stream.final.content if stream.final is not None else stream.text()
        return self._contents.get(message_id)

    def code_block(self, message_id: int, index: int) -> str | None:
        codes = self._codes.get(message_id, [])
        return codes[index] if 0 <= index < len(codes) else None

    def last_code_block(self) -> str | None:
        for message_id in reversed(list(self._codes)):
            if self._codes[message_id]:
                return self._codes[message_id][-1]
        return None

    def scroll_to_message(self, message_id: int, words: list[str] | None = None) -> bool:
        """Bring a message into view and highlight ``words`` in it (search hits)."""
        frame = self._frames.get(message_id)
        return frame is not None and reveal(self, frame, words or [])

    def highlight_words(self, words: list[str], frame: QTextFrame | None = None) -> int:
        return highlight(self, words, frame)

    # ------------------------------------------------------------------ scrolling

    def _at_bottom(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4

    def scroll_to_bottom(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_scrolled(self, value: int) -> None:
        if value == 0 and self._has_earlier and not self.streaming:
            self.load_earlier.emit()


__all__ = ["TranscriptView"]
