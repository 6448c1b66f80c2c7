"""Test connection's result in a panel of its own: one row per check with a coloured ✓/✗, the fix
under a failed one, a bounded height that scrolls — it used to be a label that grew until it pushed
the profile list's buttons out of the window (UX review, 11).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QVBoxLayout, QWidget

from trayai.ui.theme import current_theme

MAX_HEIGHT = 170


@dataclass(frozen=True)
class CheckRow:
    """One line of the result: passed (True), failed (False) or not run (None)."""

    ok: bool | None
    name: str
    detail: str
    hint: str = ""

    @property
    def mark(self) -> str:
        return "✓" if self.ok else ("✗" if self.ok is False else "–")


class ConnectionTestPanel(QScrollArea):
    """Shows "testing…", then the rows; ``text()`` is the whole result as plain lines (copy, tests)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("test_result")
        self.setAccessibleName("Connection test result")
        self.setWidgetResizable(True)
        self.setMaximumHeight(MAX_HEIGHT)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._text = ""
        self._show_rows([], "")
        self.hide()  # nothing to show until a test runs

    def text(self) -> str:
        return self._text

    def setText(self, text: str) -> None:
        """A single status line ("testing…", or why the test could not start); empty hides the panel."""
        self._text = text
        self._show_rows([], text)
        self.setVisible(bool(text))

    def show_rows(self, rows: Sequence[CheckRow]) -> None:
        lines = []
        for row in rows:
            lines.append(f"{row.mark} {row.name}: {row.detail}")
            if row.hint and row.ok is False:
                lines.append(f"    → {row.hint}")
        self._text = "\n".join(lines)
        self._show_rows(rows, "")
        self.setVisible(bool(rows))

    def _show_rows(self, rows: Sequence[CheckRow], status: str) -> None:
        theme = current_theme()
        holder = QWidget()
        holder.setObjectName("test_rows")
        grid = QGridLayout(holder)
        grid.setContentsMargins(8, 6, 8, 6)
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(3)
        grid.setColumnStretch(1, 1)
        if status:
            grid.addWidget(_plain(status), 0, 0, 1, 2)
        colours = {True: theme.success, False: theme.error, None: theme.muted}
        line = 0
        for row in rows:
            mark = QLabel(row.mark)
            mark.setStyleSheet(f"QLabel {{ color: {colours[row.ok]}; font-weight: bold; }}")
            mark.setAccessibleName({True: "passed", False: "failed", None: "not run"}[row.ok])
            grid.addWidget(mark, line, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(_plain(f"{row.name}: {row.detail}"), line, 1)
            line += 1
            if row.hint and row.ok is False:
                hint = _plain(f"→ {row.hint}")
                hint.setStyleSheet(f"QLabel {{ color: {theme.muted}; }}")
                grid.addWidget(hint, line, 1)
                line += 1
        layout_holder = QWidget()
        outer = QVBoxLayout(layout_holder)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(holder)
        outer.addStretch(1)
        self.setWidget(layout_holder)


def _plain(text: str) -> QLabel:
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)  # quotes the server
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


__all__ = ["CheckRow", "ConnectionTestPanel"]
