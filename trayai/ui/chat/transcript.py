"""The conversation view: a QTextBrowser that renders messages and streams an answer cheaply.

Frames, flushes, inert resources and action links: docs/architecture.md, "The chat window".
"""

from __future__ import annotations

import hmac
import html
import secrets
import time
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QImage,
    QPalette,
    QResizeEvent,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextFrame,
    QTextFrameFormat,
)
from PySide6.QtWidgets import QTextBrowser, QTextEdit, QWidget

from trayai.core.chat.attachments import AttachmentKind
from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.core.chat.render import MarkdownRenderer, Palette, plain_text_to_html, reply_footer
from trayai.core.strenum import StrEnum
from trayai.ui.chat.answer_writer import AnswerWriter, fresh_block
from trayai.ui.chat.thinking_view import (
    EXPANDED_CHARS,
    LIVE_TAIL_CHARS,
    THINKING_STATE,
    collapsed_html,
    replace_section,
    text_html,
)

ACTION_SCHEME = "trayai"


class TranscriptAction(StrEnum):
    """The app's own links under and inside messages: the closed set a view emits (anything else in
    an ``ACTION_SCHEME`` link is ignored) and its owner handles from a table."""

    COPY = "copy"
    COPY_CODE = "copycode"
    COPY_THINKING = "copythinking"
    EDIT = "edit"
    RETRY = "retry"
    REGENERATE = "regenerate"
    ALTERNATIVE = "alt"
    LATEST = "latest"
    EARLIER = "earlier"  # handled by the view: "load earlier messages"
    THINKING = "thinking"  # handled by the view: expand or collapse the thinking


class _Stream:
    """Bookkeeping for the answer being streamed into the last frame."""

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


class TranscriptView(QTextBrowser):
    # A link under a message: a TranscriptAction, the message id, the code block or alternative
    # index (-1 when it has none).
    action = Signal(str, int, int)
    load_earlier = Signal()  # scrolled to the top and earlier messages exist
    palette_changed = Signal()  # the desktop switched light/dark: the owner re-renders

    FLUSH_INTERVAL_MS = 16
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
        self._action_token = secrets.token_hex(16)  # model text cannot guess it: see _on_anchor
        self.renderer = MarkdownRenderer(Palette(dark=self.is_dark()))
        self._frames: dict[int, QTextFrame] = {}
        self._contents: dict[int, str] = {}
        self._codes: dict[int, list[str]] = {}
        self._thinking: dict[int, tuple[str, float | None]] = {}  # message id → (thinking, seconds)
        self._thinking_open: set[int] = set()  # messages whose thinking is expanded
        self._stream: _Stream | None = None
        self._has_earlier = False
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(self.FLUSH_INTERVAL_MS)
        self._flush_timer.timeout.connect(self.flush)
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
        suffix = f"/{index}" if index is not None else ""
        return f"{ACTION_SCHEME}:{self._action_token}/{kind}/{message_id}{suffix}"

    def _link(self, kind: TranscriptAction, text: str, message_id: int = 0, index: int | None = None) -> str:
        """``<a>`` to one of the app's own actions; ``text`` is the app's own words (not escaped)."""
        return f'<a href="{self.action_href(kind, message_id, index)}">{text}</a>'

    def _on_anchor(self, url: QUrl) -> None:
        scheme = url.scheme().lower()
        if scheme == ACTION_SCHEME:
            parts = url.path().split("/")
            if len(parts) < 3 or not hmac.compare_digest(parts[0].encode(), self._action_token.encode()):
                return  # not one of ours (e.g. "trayai:retry/1" written by the model)
            try:
                kind, message_id = TranscriptAction(parts[1]), int(parts[2])
                index = int(parts[3]) if len(parts) > 3 else -1
            except ValueError:
                return  # a kind the view never writes, or no number: ignored
            if kind is TranscriptAction.EARLIER:
                self.load_earlier.emit()
            elif kind is TranscriptAction.THINKING:
                self.toggle_thinking(message_id)
            else:
                self.action.emit(kind, message_id, index)
        elif scheme in ("http", "https"):
            QDesktopServices.openUrl(url)

    # ------------------------------------------------------------------ palette

    def is_dark(self) -> bool:
        return self.palette().color(QPalette.ColorRole.Base).lightness() < 128

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            dark = self.is_dark()
            if dark != self.renderer.palette.dark:
                self.renderer = MarkdownRenderer(Palette(dark=dark))
                self.palette_changed.emit()

    # ------------------------------------------------------------------ whole messages

    def clear_messages(self) -> None:
        self._flush_timer.stop()
        self._stream = None
        self._frames.clear()
        self._contents.clear()
        self._codes.clear()
        self._thinking.clear()
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
            cursor.insertHtml(
                f'<p align="center">{self._link(TranscriptAction.EARLIER, "↑ Load earlier messages")}</p>'
            )
            cursor.insertBlock()
        self._has_earlier = show

    def append_latest_link(self) -> None:
        """Under a slice that is not the end of the conversation: a link back to the newest messages."""
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml(
            f'<p align="center">{self._link(TranscriptAction.LATEST, "↓ Show the latest messages")}</p>'
        )

    def _frame_format(self, role: str) -> QTextFrameFormat:
        fmt = QTextFrameFormat()
        fmt.setPadding(8)
        fmt.setTopMargin(4)
        fmt.setBottomMargin(4)
        fmt.setBorder(0)
        if role == "user":
            base = self.palette().color(QPalette.ColorRole.AlternateBase)
            highlight = self.palette().color(QPalette.ColorRole.Highlight)
            tint = QColor(base)
            if tint == self.palette().color(QPalette.ColorRole.Base):
                tint = QColor.fromHslF(highlight.hslHueF(), 0.35, 0.25 if self.is_dark() else 0.94)
            fmt.setBackground(tint)
        return fmt

    def _insert_message(self, cursor: QTextCursor, message: StoredMessage) -> QTextFrame:
        """Insert one message as a frame at ``cursor``; the cursor ends after the frame."""
        frame = cursor.insertFrame(self._frame_format(message.role))
        frame_format = frame.frameFormat()
        frame_format.setProperty(QTextFormat.Property.UserProperty, message.id)
        frame.setFrameFormat(frame_format)
        inner = frame.firstCursorPosition()
        inner.insertHtml(self._header_html(message))
        if message.role == "assistant" and message.thinking:
            seconds = message.meta.get("thinking_s")
            self._thinking[message.id] = (
                message.thinking,
                seconds if isinstance(seconds, (int, float)) else None,
            )
            fresh_block(inner)
            inner.insertHtml(self._thinking_html(message.id))
            block = inner.block()
            block.setUserState(THINKING_STATE)
            if message.id in self._thinking_open:
                block.previous().setUserState(THINKING_STATE)
        if message.role == "assistant" and len(message.content) > AnswerWriter.BLOCK_MARKDOWN_LIMIT:
            # A long answer goes through the same writer as a streamed one (plain text for huge
            # blocks, no highlighting of megabytes of code), all at once.
            fresh_block(inner)
            codes: list[str] = []
            writer = self._writer(frame, inner.position(), message.id, codes)
            writer.add(message.content)
            writer.finish()
            while writer.step():
                pass
            inner = self._cursor_at(frame.lastPosition())
            if inner.block().length() > 1:
                fresh_block(inner)
        else:
            body, codes = self._body_html(message)
            if body:
                fresh_block(inner)
                inner.insertHtml(body)
            fresh_block(inner)
        inner.insertHtml(self._tail_html(message))
        self._frames[message.id] = frame
        self._contents[message.id] = message.content
        self._codes[message.id] = codes
        cursor.setPosition(frame.lastPosition() + 1)
        return frame

    # ------------------------------------------------------------------ thinking

    def _thinking_html(self, message_id: int) -> str:
        """The collapsed line, and the text too when this message's thinking is expanded."""
        text, seconds = self._thinking.get(message_id, ("", None))
        muted = self.renderer.palette.muted
        expanded = message_id in self._thinking_open
        out = collapsed_html(
            self.action_href(TranscriptAction.THINKING, message_id), seconds, muted, expanded=expanded
        )
        if expanded:
            out += text_html(text, muted, limit=EXPANDED_CHARS, from_end=False)
        return out

    def thinking_text(self, message_id: int) -> str | None:
        """A message's whole thinking (for Copy thinking), None when it has none."""
        stream = self._stream
        if stream is not None and stream.message.id == message_id and stream.thinking:
            return "".join(stream.thinking)
        found = self._thinking.get(message_id)
        return found[0] if found else None

    def toggle_thinking(self, message_id: int) -> None:
        frame = self._frames.get(message_id)
        if frame is None or message_id not in self._thinking:
            return
        if message_id in self._thinking_open:
            self._thinking_open.discard(message_id)
        else:
            self._thinking_open.add(message_id)
        cursor = QTextCursor(self.document())
        cursor.beginEditBlock()
        replace_section(frame, self._thinking_html(message_id))
        cursor.endEditBlock()

    def add_thinking(self, text: str) -> None:
        """Thinking of the answer being streamed: shown live until the answer starts."""
        stream = self._stream
        if stream is None or not text or stream.final is not None:
            return
        if stream.thinking_started is None:
            stream.thinking_started = time.monotonic()
        stream.thinking.append(text)
        if not self._flush_timer.isActive():
            self._flush_timer.start()

    def _show_live_thinking(self, stream: _Stream) -> None:
        """Redraw the live section when the thinking grew (bounded: its last characters only)."""
        total = sum(len(t) for t in stream.thinking)
        if stream.thinking_closed or total == stream.thinking_shown:
            return
        stream.thinking_shown = total
        muted = self.renderer.palette.muted
        live = f'<p style="margin:0; color:{muted}"><small>Thinking…</small></p>' + text_html(
            "".join(stream.thinking)[-LIVE_TAIL_CHARS:], muted, limit=LIVE_TAIL_CHARS, from_end=True
        )
        replace_section(stream.frame, live)

    def _close_thinking(self, stream: _Stream, seconds: float | None) -> None:
        """The answer started (or the stream ended): the section becomes its one line."""
        if stream.thinking_closed or not stream.thinking:
            return
        stream.thinking_closed = True
        if seconds is None and stream.thinking_started is not None:
            seconds = time.monotonic() - stream.thinking_started
        message_id = stream.message.id
        self._thinking[message_id] = ("".join(stream.thinking), seconds)
        replace_section(stream.frame, self._thinking_html(message_id))

    def _alternatives_html(self, message: StoredMessage) -> str:
        """ "‹ 2/3 ›": the slot's answers, the arrows links where there is one to go to."""
        here, count = message.version, message.versions
        back = (
            f'<a href="{self.action_href(TranscriptAction.ALTERNATIVE, message.id, here - 1)}">‹</a>'
            if here > 1
            else "‹"
        )
        ahead = (
            f'<a href="{self.action_href(TranscriptAction.ALTERNATIVE, message.id, here + 1)}">›</a>'
            if here < count
            else "›"
        )
        return f"{back} {here}/{count} {ahead}"

    def _header_html(self, message: StoredMessage) -> str:
        who = {"user": "You", "assistant": "Assistant", "system": "System"}.get(message.role, message.role)
        model = message.meta.get("model") if message.role == "assistant" else None
        label = f"{who} · {html.escape(str(model))}" if model else who
        return f'<p style="margin:0"><b>{label}</b></p>'

    def _body_html(self, message: StoredMessage) -> tuple[str, list[str]]:
        if message.role == "user":
            return plain_text_to_html(message.content) + self._attachments_html(message), []
        if not message.content and message.status == MessageStatus.ERROR:
            return "", []
        rendered = self.renderer.render(message.content, code_link=lambda i: self._code_href(message.id, i))
        return rendered.html, rendered.code_blocks

    def _attachments_html(self, message: StoredMessage) -> str:
        """The files that went with a question: image thumbnails (trayai's own copies, registered
        as document resources under this view's secret name) and file names."""
        if not message.attachments:
            return ""
        pieces = []
        for index, attachment in enumerate(message.attachments):
            name = html.escape(attachment.label)
            if attachment.kind is AttachmentKind.IMAGE:
                image = QImage(str(attachment.path))
                if not image.isNull():
                    thumb = (
                        image
                        if image.width() <= 240 and image.height() <= 160
                        else image.scaled(
                            240,
                            160,
                            Qt.AspectRatioMode.KeepAspectRatio,
                            Qt.TransformationMode.SmoothTransformation,
                        )
                    )
                    key = QUrl(f"attachment:{self._action_token}/{message.id}/{index}")
                    self.document().addResource(QTextDocument.ResourceType.ImageResource.value, key, thumb)
                    pieces.append(
                        f'<img src="{key.toString()}" width="{thumb.width()}" height="{thumb.height()}" '
                        f'alt="{name}" title="{name}">'
                    )
                    continue
                pieces.append(f"Image {name} (no longer there)")
            else:
                pieces.append(f"File: {name}")
        muted = self.renderer.palette.muted
        return f'<p style="margin:4px 0 0 0; color:{muted}"><small>{"&nbsp; ".join(pieces)}</small></p>'

    def _code_href(self, message_id: int, index: int) -> str:
        return self.action_href(TranscriptAction.COPY_CODE, message_id, index)

    def _writer(self, frame: QTextFrame, start: int, message_id: int, codes: list[str]) -> AnswerWriter:
        return AnswerWriter(frame, start, self.renderer, codes, lambda i: self._code_href(message_id, i))

    def _tail_html(self, message: StoredMessage) -> str:
        """Error box, footer and action links under a message."""
        palette = self.renderer.palette
        out = ""
        error = message.meta.get("error")
        if message.status == MessageStatus.ERROR and isinstance(error, dict):
            text = html.escape(str(error.get("message", "The request failed")))
            hint = html.escape(str(error.get("hint", "")))
            colour = "#ff8080" if palette.dark else "#b00020"
            out += (
                f'<table width="100%" cellpadding="6" cellspacing="0" style="border: 1px solid {colour}">'
                f'<tr><td><span style="color:{colour}"><b>{text}</b></span>'
                f"{'<br>' + hint if hint else ''}"
                f"<br>{self._link(TranscriptAction.RETRY, 'Retry', message.id)}</td></tr></table>"
            )
        links = [self._link(TranscriptAction.COPY, "Copy", message.id)]
        if message.role == "user":
            links.append(self._link(TranscriptAction.EDIT, "Edit", message.id))
        if message.role == "assistant" and message.thinking:
            links.append(
                f'<a href="{self.action_href(TranscriptAction.COPY_THINKING, message.id)}">Copy thinking</a>'
            )
        if message.role == "assistant" and message.status != MessageStatus.ERROR:
            links.append(
                f'<a href="{self.action_href(TranscriptAction.REGENERATE, message.id)}">Regenerate</a>'
            )
        if message.role == "assistant" and message.versions > 1:
            links.insert(0, self._alternatives_html(message))
        footer = reply_footer(message.meta, message.status) if message.role == "assistant" else ""
        line = " · ".join(links)
        if footer:
            line = f"{html.escape(footer)} · {line}"
        out += f'<p style="margin:0; color:{palette.muted}"><small>{line}</small></p>'
        return out

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
        frame = cursor.insertFrame(self._frame_format("assistant"))
        inner = frame.firstCursorPosition()
        inner.insertHtml(self._header_html(message))
        inner.insertBlock()
        codes: list[str] = []
        self._stream = _Stream(message, frame, self._writer(frame, inner.position(), message.id, codes))
        self._frames[message.id] = frame
        self._codes[message.id] = codes
        if at_bottom:
            self.scroll_to_bottom()

    def add_delta(self, text: str) -> None:
        stream = self._stream
        if stream is None or not text or stream.final is not None:
            return
        if stream.thinking and not stream.thinking_closed:
            cursor = QTextCursor(self.document())
            cursor.beginEditBlock()
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
        self._show_live_thinking(stream)
        more = stream.writer.step()
        cursor.endEditBlock()
        if more:
            self._flush_timer.start()
        elif stream.final is not None:
            self._finalize(stream)
        if at_bottom:
            self.scroll_to_bottom()

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

    def _finalize(self, stream: _Stream) -> None:
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
            inner.insertHtml(self._tail_html(message))
        cursor.endEditBlock()
        self._contents[message.id] = message.content
        self._stream = None
        if at_bottom:
            self.scroll_to_bottom()

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
        if frame is None:
            return False
        cursor = QTextCursor(self.document())
        cursor.setPosition(frame.firstPosition())
        rect = self.document().documentLayout().frameBoundingRect(frame)
        self.verticalScrollBar().setValue(max(0, int(rect.top()) - 8))
        self.highlight_words(words or [], frame)
        return True

    def highlight_words(self, words: list[str], frame: QTextFrame | None = None) -> int:
        selections: list[QTextEdit.ExtraSelection] = []
        fmt = QTextCharFormat()
        fmt.setBackground(QColor("#ffd54f"))
        fmt.setForeground(QColor("#000000"))
        doc = self.document()
        start = frame.firstPosition() if frame is not None else 0
        end = frame.lastPosition() if frame is not None else doc.characterCount()
        for word in words:
            if not word:
                continue
            cursor = doc.find(word, start)
            while not cursor.isNull() and cursor.selectionStart() < end:
                selection = QTextEdit.ExtraSelection()
                selection.cursor = cursor
                selection.format = fmt
                selections.append(selection)
                cursor = doc.find(word, cursor)
        self.setExtraSelections(selections)
        return len(selections)

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


__all__ = [
    "ACTION_SCHEME",
    "TranscriptAction",
    "TranscriptView",
]
