"""A Copy button that was clicked says "✓ Copied" in place for a moment, then its own words again:
the feedback is where the eye is, not in the status bar — a link in the document (Copy code) or a
button of the message toolbar (through the two hooks the view sets).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QTextCursor, QTextDocument

from trayai.ui.chat.transcript_links import ActionLinks, TranscriptAction

COPIED_TEXT = "✓\u00a0Copied"


class CopiedButtons(QObject):
    """The Copy buttons of one transcript document saying "✓ Copied" now, put back by one timer."""

    COPIED_MS = 1500

    def __init__(self, document: QTextDocument, links: ActionLinks, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._document = document
        self._links = links
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(self.COPIED_MS)
        self.timer.timeout.connect(self._restore)
        self._words: dict[str, str] = {}  # href of a button saying "✓ Copied" → its own words
        # A real button (the message toolbar's) that says it itself: True when it was shown there.
        self.button_says: Callable[[TranscriptAction, int], bool] = lambda _kind, _message_id: False
        self.button_unsays: Callable[[], None] = lambda: None

    def clear(self) -> None:
        """The document was emptied: nothing to put back."""
        self.timer.stop()
        self._words.clear()

    def show(self, kind: TranscriptAction, message_id: int, index: int | None = None) -> None:
        """The button of ``kind`` under (or in) ``message_id`` says "✓ Copied" for a moment."""
        if index is None and self.button_says(kind, message_id):
            self.timer.start()
            return
        href = self._links.href(kind, message_id, index)
        cursor = self._anchor(href)
        if cursor is None:
            return
        self._words.setdefault(href, cursor.selectedText())
        _replace_text(cursor, COPIED_TEXT)
        self.timer.start()

    def _restore(self) -> None:
        self.button_unsays()
        for href, words in self._words.items():
            cursor = self._anchor(href)
            if cursor is not None and cursor.selectedText() == COPIED_TEXT:  # not redrawn meanwhile
                _replace_text(cursor, words)
        self._words.clear()

    def _anchor(self, href: str) -> QTextCursor | None:
        """A selection of the link text whose address is ``href``, or None when it is not shown."""
        block = self._document.begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.isValid() and fragment.charFormat().anchorHref() == href:
                    cursor = QTextCursor(self._document)
                    cursor.setPosition(fragment.position())
                    end = fragment.position() + fragment.length()
                    it += 1
                    while not it.atEnd() and it.fragment().charFormat().anchorHref() == href:
                        end = it.fragment().position() + it.fragment().length()
                        it += 1
                    cursor.setPosition(end, QTextCursor.MoveMode.KeepAnchor)
                    return cursor
                it += 1
            block = block.next()
        return None


def _replace_text(cursor: QTextCursor, text: str) -> None:
    """Replace the selected link text, keeping the link's own format (it stays a link)."""
    probe = QTextCursor(cursor)
    probe.setPosition(cursor.selectionStart() + 1)
    cursor.insertText(text, probe.charFormat())


__all__ = ["CopiedButtons"]
