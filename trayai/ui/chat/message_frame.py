"""One stored message drawn into the transcript's document as a frame: header, thinking section,
body (through the streaming writer for a long answer, so a reopened answer looks exactly like the
finished one), footer, error box and ‹ n/m ›.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QTextCursor, QTextFormat, QTextFrame

from trayai.core.chat.history_records import StoredMessage
from trayai.ui.chat.answer_writer import AnswerWriter, fresh_block
from trayai.ui.chat.message_html import MessageHtml
from trayai.ui.chat.thinking_view import ThinkingSections, mark_section

WriterFactory = Callable[[QTextFrame, int, int, list[str]], AnswerWriter]  # frame, start, message id, codes


def insert_message(
    cursor: QTextCursor,
    message: StoredMessage,
    html: MessageHtml,
    thinking: ThinkingSections,
    writer_for: WriterFactory,
) -> tuple[QTextFrame, list[str]]:
    """Insert ``message`` as a frame at ``cursor`` (which ends after it); the frame and the message's
    code blocks (for Copy code)."""
    frame = cursor.insertFrame(html.frame_format(message.role))
    mark_message(frame, message.id)
    inner = frame.firstCursorPosition()
    inner.insertHtml(html.header(message))
    if message.role == "assistant" and message.thinking:
        seconds = message.meta.get("thinking_s")
        thinking.remember(
            message.id, message.thinking, seconds if isinstance(seconds, (int, float)) else None
        )
        fresh_block(inner)
        start = inner.position()
        inner.insertHtml(thinking.html(message.id, html.renderer.palette))
        mark_section(inner, start)
    codes: list[str] = []
    if message.role == "assistant" and len(message.content) > AnswerWriter.BLOCK_MARKDOWN_LIMIT:
        # A long answer goes through the same writer as a streamed one (plain text for huge
        # blocks, no highlighting of megabytes of code), all at once.
        fresh_block(inner)
        writer = writer_for(frame, inner.position(), message.id, codes)
        writer.add(message.content)
        writer.finish()
        while writer.step():
            pass
        inner = QTextCursor(frame.document())
        inner.setPosition(frame.lastPosition())
        if inner.block().length() > 1:
            fresh_block(inner)
        inner.insertHtml(html.tail(message))
    else:
        body, codes = html.body(message)
        if body:
            fresh_block(inner)
            inner.insertHtml(body)
        tail = html.tail(message)  # "" for a plain question: its buttons float over the card
        if tail:
            fresh_block(inner)
            inner.insertHtml(tail)
    cursor.setPosition(frame.lastPosition() + 1)
    return frame, codes


def mark_message(frame: QTextFrame, message_id: int) -> None:
    """Name the message a card shows on its frame (the toolbar finds the card under the pointer)."""
    frame_format = frame.frameFormat()
    frame_format.setProperty(QTextFormat.Property.UserProperty, message_id)
    frame.setFrameFormat(frame_format)


__all__ = ["insert_message", "mark_message"]
