"""A reasoning model's thinking inside a message frame: live while it streams, collapsed to one
line ("▸ Thought for 3.2 s") once the answer starts, expanded on a click. Plain text only (never
Markdown, never HTML from the model); bounded work per update.

The section is the blocks of the frame marked with :data:`THINKING_STATE`, right after the header,
so it can be replaced without touching the answer below it (the answer's own cursors move along).
Thinking text sits in its own bordered, tinted box (a one-cell table) so it never runs into the answer.
"""

from __future__ import annotations

import html

from PySide6.QtGui import QTextCursor, QTextFrame

from trayai.core.chat.render import Palette
from trayai.core.chat.waiting import thinking_words
from trayai.ui.chat.transcript_links import ActionLinks, TranscriptAction

THINKING_STATE = 0x7417  # QTextBlock user state of the thinking section's blocks
LIVE_TAIL_CHARS = 1_500  # while streaming, only the end of the thinking is shown
EXPANDED_CHARS = 200_000  # an expanded section shows this much; Copy thinking gives all of it


def collapsed_html(link: str, seconds: float | None, muted: str, *, expanded: bool) -> str:
    took = thinking_words(seconds, done=True) if seconds is not None else "Thinking"
    arrow = "▾" if expanded else "▸"
    return f'<p style="margin:0; color:{muted}"><small><a href="{link}">{arrow} {took}</a></small></p>'


def text_html(text: str, palette: Palette, *, limit: int, from_end: bool) -> str:
    """The thinking as escaped, muted text in its own bordered, tinted box; cut to ``limit``
    characters (its end or start)."""
    if len(text) > limit:
        text = "…" + text[-limit:] if from_end else text[:limit] + "…"
    body = html.escape(text).replace("\n", "<br>")
    return (
        f'<table width="100%" cellpadding="8" cellspacing="0" bgcolor="{palette.thinking_background}" '
        f'style="border: 1px solid {palette.thinking_border}; border-collapse: collapse; '
        f'margin-top: 4px; margin-bottom: 6px">'
        f'<tr><td bgcolor="{palette.thinking_background}">'
        f'<p style="margin:0; color:{palette.muted}; white-space: pre-wrap"><i>{body}</i></p>'
        "</td></tr></table>"
    )


def mark_section(cursor: QTextCursor, start: int) -> None:
    """Mark the blocks from ``start`` to ``cursor`` (just inserted) as the thinking section."""
    document = cursor.document()
    block = document.findBlock(start)
    while block.isValid() and block.position() <= cursor.position():
        block.setUserState(THINKING_STATE)
        block = block.next()


def replace_section(frame: QTextFrame, section_html: str) -> None:
    """Put ``section_html`` (already escaped) where the frame's thinking section is, or after its
    header when it has none; an empty string removes the section."""
    document = frame.document()
    header = document.findBlock(frame.firstPosition())
    block = header.next()
    start = end = None
    while (
        block.isValid() and block.position() <= frame.lastPosition() and block.userState() == THINKING_STATE
    ):
        if start is None:
            start = block.position()
        end = block.position() + block.length() - 1
        block = block.next()
    cursor = QTextCursor(document)
    if start is not None and end is not None:
        cursor.setPosition(start - 1)  # from the end of the header: the section's blocks go whole
        cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        cursor.block().setUserState(-1)  # the header took the removed blocks' state when they merged
    else:
        cursor.setPosition(header.position() + header.length() - 1)
    if not section_html:
        return
    cursor.insertBlock()
    first = cursor.position()
    cursor.insertHtml(section_html)
    mark_section(cursor, first)


class ThinkingSections:
    """Each shown message's thinking (text, seconds) and which sections are expanded, so a section is
    drawn again the same way (collapsed line, or with its text) after a reload or a toggle."""

    def __init__(self, links: ActionLinks) -> None:
        self._links = links
        self._texts: dict[int, tuple[str, float | None]] = {}  # message id → (thinking, seconds)
        self._open: set[int] = set()  # messages whose thinking is expanded (kept across reloads)

    def clear(self) -> None:
        self._texts.clear()

    def remember(self, message_id: int, text: str, seconds: float | None) -> None:
        self._texts[message_id] = (text, seconds)

    def has(self, message_id: int) -> bool:
        return message_id in self._texts

    def text(self, message_id: int) -> str | None:
        found = self._texts.get(message_id)
        return found[0] if found else None

    def is_open(self, message_id: int) -> bool:
        return message_id in self._open

    def toggle(self, message_id: int) -> None:
        if message_id in self._open:
            self._open.discard(message_id)
        else:
            self._open.add(message_id)

    def html(self, message_id: int, palette: Palette) -> str:
        """The collapsed line, and the text too when this message's thinking is expanded."""
        text, seconds = self._texts.get(message_id, ("", None))
        expanded = message_id in self._open
        link = self._links.href(TranscriptAction.THINKING, message_id)
        out = collapsed_html(link, seconds, palette.muted, expanded=expanded)
        if expanded:
            out += text_html(text, palette, limit=EXPANDED_CHARS, from_end=False)
        return out


__all__ = [
    "EXPANDED_CHARS",
    "LIVE_TAIL_CHARS",
    "THINKING_STATE",
    "ThinkingSections",
    "collapsed_html",
    "mark_section",
    "replace_section",
    "text_html",
]
