"""A reasoning model's thinking inside a message frame: live while it streams, collapsed to one
line ("▸ Thought for 3.2 s") once the answer starts, expanded on a click. Plain text only (never
Markdown, never HTML from the model); bounded work per update.

The section is the blocks of the frame marked with :data:`THINKING_STATE`, right after the header,
so it can be replaced without touching the answer below it (the answer's own cursors move along).
"""

from __future__ import annotations

import html

from PySide6.QtGui import QTextCursor, QTextFrame

from trayai.ui.chat.transcript_links import ActionLinks, TranscriptAction

THINKING_STATE = 0x7417  # QTextBlock user state of the thinking section's blocks
LIVE_TAIL_CHARS = 1_500  # while streaming, only the end of the thinking is shown
EXPANDED_CHARS = 200_000  # an expanded section shows this much; Copy thinking gives all of it


def collapsed_html(link: str, seconds: float | None, muted: str, *, expanded: bool) -> str:
    took = f"Thought for {seconds:.1f} s" if seconds is not None else "Thinking"
    arrow = "▾" if expanded else "▸"
    return f'<p style="margin:0; color:{muted}"><small><a href="{link}">{arrow} {took}</a></small></p>'


def text_html(text: str, muted: str, *, limit: int, from_end: bool) -> str:
    """The thinking as an escaped, muted paragraph; cut to ``limit`` characters (its end or start)."""
    if len(text) > limit:
        text = "…" + text[-limit:] if from_end else text[:limit] + "…"
    body = html.escape(text).replace("\n", "<br>")
    return f'<p style="margin:0; color:{muted}; white-space: pre-wrap"><i>{body}</i></p>'


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
    else:
        cursor.setPosition(header.position() + header.length() - 1)
    if not section_html:
        return
    first = cursor.position()
    cursor.insertBlock()
    cursor.insertHtml(section_html)
    marked = document.findBlock(first).next()
    while marked.isValid() and marked.position() <= cursor.position():
        marked.setUserState(THINKING_STATE)
        marked = marked.next()


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

    def html(self, message_id: int, muted: str) -> str:
        """The collapsed line, and the text too when this message's thinking is expanded."""
        text, seconds = self._texts.get(message_id, ("", None))
        expanded = message_id in self._open
        link = self._links.href(TranscriptAction.THINKING, message_id)
        out = collapsed_html(link, seconds, muted, expanded=expanded)
        if expanded:
            out += text_html(text, muted, limit=EXPANDED_CHARS, from_end=False)
        return out


__all__ = [
    "EXPANDED_CHARS",
    "LIVE_TAIL_CHARS",
    "THINKING_STATE",
    "ThinkingSections",
    "collapsed_html",
    "replace_section",
    "text_html",
]
