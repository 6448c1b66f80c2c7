"""Search hits in the transcript: a message brought into view and the words found marked in it.

Marks are extra selections (never edits of the document), so the answer's text and its copy stay
what the model sent.
"""

from __future__ import annotations

from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor, QTextFrame
from PySide6.QtWidgets import QTextEdit

MARK_BACKGROUND = "#ffd54f"  # a highlighter's yellow with black text: 13:1, readable in both themes
MARK_TEXT = "#000000"


def reveal(view: QTextEdit, frame: QTextFrame, words: list[str]) -> bool:
    """Scroll ``view`` so ``frame`` starts at the top, then mark ``words`` in it."""
    cursor = QTextCursor(view.document())
    cursor.setPosition(frame.firstPosition())
    rect = view.document().documentLayout().frameBoundingRect(frame)
    view.verticalScrollBar().setValue(max(0, int(rect.top()) - 8))
    highlight(view, words, frame)
    return True


def highlight(view: QTextEdit, words: list[str], frame: QTextFrame | None = None) -> int:
    """Mark every occurrence of ``words`` (in ``frame``, else the whole view); returns how many."""
    selections: list[QTextEdit.ExtraSelection] = []
    fmt = QTextCharFormat()
    fmt.setBackground(QColor(MARK_BACKGROUND))
    fmt.setForeground(QColor(MARK_TEXT))
    doc = view.document()
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
    view.setExtraSelections(selections)
    return len(selections)


__all__ = ["highlight", "reveal"]
