"""The paging links at the transcript's edges: "↑ Load earlier messages" above a slice that does not
start the conversation, "↓ Show the latest messages" under one that does not end it (the slices are
transcript_pages.py's; the links are the view's own, with its secret token).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QTextCursor, QTextDocument

from trayai.ui.chat.transcript_links import ActionLinks, TranscriptAction

EARLIER_TEXT = "↑ Load earlier messages"
LATEST_TEXT = "↓ Show the latest messages"


class PageEdges:
    """Adds and removes one document's paging links; knows whether earlier messages exist."""

    def __init__(self, document: Callable[[], QTextDocument], links: ActionLinks) -> None:
        """``document``: the view's document, asked for each time (a kept wrapper can die first)."""
        self._document = document
        self._links = links
        self.has_earlier = False  # the link above is shown: scrolling to the top loads more

    def set_earlier(self, *, show: bool) -> None:
        """Show or remove the "load earlier" link at the top of the document."""
        doc = self._document()
        first = doc.begin()
        has_link = first.isValid() and first.text().startswith(EARLIER_TEXT)
        if has_link and not show:
            cursor = QTextCursor(first)
            cursor.select(QTextCursor.SelectionType.BlockUnderCursor)
            cursor.movePosition(QTextCursor.MoveOperation.NextBlock, QTextCursor.MoveMode.KeepAnchor)
            cursor.removeSelectedText()
        elif show and not has_link:
            cursor = QTextCursor(doc)
            cursor.movePosition(QTextCursor.MoveOperation.Start)
            cursor.insertHtml(self._centred_link(TranscriptAction.EARLIER, EARLIER_TEXT))
            cursor.insertBlock()
        self.has_earlier = show

    def append_latest(self) -> None:
        """Under a slice that is not the end of the conversation: a link back to the newest messages."""
        cursor = QTextCursor(self._document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml(self._centred_link(TranscriptAction.LATEST, LATEST_TEXT))

    def _centred_link(self, kind: TranscriptAction, text: str) -> str:
        return f'<p align="center">{self._links.anchor(kind, text)}</p>'


__all__ = ["EARLIER_TEXT", "LATEST_TEXT", "PageEdges"]
