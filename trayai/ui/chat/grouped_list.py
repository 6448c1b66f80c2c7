"""Headings (Pinned, Today, Yesterday…) drawn above the first conversation of each group, by the
item delegate: the rows stay conversations only, so selection, keyboard moves and renames are the
list's own."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QSize, Qt
from PySide6.QtGui import QFont, QPainter, QPalette
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem, QWidget

ROLE_GROUP = Qt.ItemDataRole.UserRole + 2  # the heading an item belongs under ("" = none)

Index = QModelIndex | QPersistentModelIndex


def heading_of(index: Index) -> str:
    """The heading drawn above this row: its group's, when the row before is in another group."""
    group = str(index.data(ROLE_GROUP) or "")
    if not group:
        return ""
    above = index.model().index(index.row() - 1, index.column(), index.parent())
    return "" if above.isValid() and str(above.data(ROLE_GROUP) or "") == group else group


class GroupedDelegate(QStyledItemDelegate):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._font = QFont()
        self._font.setBold(True)
        self._font.setPointSizeF(max(6.0, self._font.pointSizeF() * 0.85))

    def _heading_height(self, option: QStyleOptionViewItem) -> int:
        return int(option.fontMetrics.height() * 1.6)

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        size = super().sizeHint(option, index)
        if heading_of(index):
            size.setHeight(size.height() + self._heading_height(option))
        return size

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        heading = heading_of(index)
        if not heading:
            super().paint(painter, option, index)
            return
        extra = self._heading_height(option)
        rect: QRect = option.rect
        painter.save()
        painter.setFont(self._font)
        painter.setPen(option.palette.color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            rect.adjusted(6, 0, -4, -(rect.height() - extra)),
            int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom),
            heading,
        )
        painter.restore()
        item_option = QStyleOptionViewItem(option)
        item_option.rect = rect.adjusted(0, extra, 0, 0)
        super().paint(painter, item_option, index)
