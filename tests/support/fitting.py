"""Whether a window's controls fit it: no label, button, check box or picker cut short, none outside
the window, every input reachable (on screen, or by scrolling its page). The narrow-window tests
(tests/ui/test_narrow_windows.py) and the real-window screenshots (``screens.py narrow``) use it.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QAbstractSpinBox,
    QApplication,
    QCheckBox,
    QComboBox,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QStyle,
    QStyleOptionComboBox,
    QToolButton,
    QWidget,
)

TEXT_CONTROLS = (QLabel, QPushButton, QToolButton, QCheckBox, QComboBox)
INPUTS = (QLineEdit, QAbstractSpinBox, QComboBox, QAbstractButton, QPlainTextEdit, QKeySequenceEdit)


def settle(window: QWidget, passes: int = 20) -> QSize:
    """Run posted layout requests until no widget of ``window`` moves any more; its size then.

    A bar that rearranges its rows asks its parents again and a scroll area lays out its page
    afterwards: it takes a few passes, each one observable (the geometries stop changing).
    """
    before: list[QRect] | None = None
    for _ in range(passes):
        QApplication.processEvents()
        now = [w.geometry() for w in window.findChildren(QWidget)]
        if now == before:
            return window.size()
        before = now
    raise AssertionError(f"the layout of {window.windowTitle()!r} never settled")


def _name(widget: QWidget) -> str:
    text = widget.currentText() if isinstance(widget, QComboBox) else getattr(widget, "text", str)()
    label = text or widget.accessibleName() or widget.objectName()
    return f"{type(widget).__name__} {label[:50]!r}"


def _inside_item_view(widget: QWidget) -> bool:
    """Editors and buttons a view or a combo owns are drawn by it, not laid out by us."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, (QAbstractItemView, QComboBox, QAbstractSpinBox, QKeySequenceEdit)):
            return True
        parent = parent.parentWidget()
    return False


def combo_text_width(combo: QComboBox) -> int:
    """What ``combo`` needs to show its current text whole (its size hint may ask for less)."""
    option = QStyleOptionComboBox()
    combo.initStyleOption(option)
    metrics = combo.fontMetrics()
    text = QSize(metrics.horizontalAdvance(combo.currentText()), metrics.height())
    return combo.style().sizeFromContents(QStyle.ContentsType.CT_ComboBox, option, text, combo).width()


def needed(widget: QWidget) -> QSize:
    """The size ``widget`` needs to show all of its text at its current width."""
    if isinstance(widget, QLabel) and widget.wordWrap():
        return QSize(widget.minimumSizeHint().width(), widget.heightForWidth(widget.width()))
    hint = widget.sizeHint()
    if isinstance(widget, QComboBox) and not widget.isEditable():
        return QSize(max(hint.width(), combo_text_width(widget)), hint.height())
    return hint


def visible_area(widget: QWidget, window: QWidget) -> QRect:
    """Where ``widget`` may be seen in ``window``'s coordinates: the window, or its scroll area's viewport."""
    area = window.rect()
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QScrollArea):
            viewport = parent.viewport()
            area = area.intersected(QRect(viewport.mapTo(window, viewport.rect().topLeft()), viewport.size()))
        parent = parent.parentWidget()
    return area


def _scroll_area_of(widget: QWidget, window: QWidget) -> QScrollArea | None:
    parent = widget.parentWidget()
    while parent is not None and parent is not window:
        if isinstance(parent, QScrollArea):
            return parent
        parent = parent.parentWidget()
    return None


def clipped(window: QWidget) -> list[str]:
    """Every visible text control of ``window`` that is cut short or lies outside what can be seen.

    A control in a scroll area may be below the fold (scrolling reaches it): only its width counts.
    """
    problems = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, TEXT_CONTROLS) or not widget.isVisible() or _inside_item_view(widget):
            continue
        need = needed(widget)
        if need.width() > widget.width() or need.height() > widget.height():
            problems.append(
                f"{_name(widget)} needs {need.width()}x{need.height()}, has {widget.width()}x{widget.height()}"
            )
        where = QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())
        area = visible_area(widget, window)
        scrolled = _scroll_area_of(widget, window) is not None
        if where.left() < area.left() or where.right() > area.right():
            problems.append(
                f"{_name(widget)} at x {where.left()}–{where.right()} outside {area.left()}–{area.right()}"
            )
        if not scrolled and (where.top() < area.top() or where.bottom() > area.bottom()):
            problems.append(
                f"{_name(widget)} at y {where.top()}–{where.bottom()} outside {area.top()}–{area.bottom()}"
            )
    return problems


def unreachable_inputs(page: QWidget, window: QWidget) -> list[str]:
    """Inputs of ``page`` (shown in ``window``) that are neither in view nor brought there by scrolling.

    In a scroll area an input is reachable when it lies in the scrolled content, as wide as the
    viewport at most (no horizontal scrolling) and no taller than it.
    """
    problems = []
    for widget in page.findChildren(QWidget):
        if not isinstance(widget, INPUTS) or widget.isHidden() or _inside_item_view(widget):
            continue
        if not widget.isVisible():
            problems.append(f"{_name(widget)} is not shown")
            continue
        scroller = _scroll_area_of(widget, window)
        if scroller is None:
            where = QRect(widget.mapTo(window, widget.rect().topLeft()), widget.size())
            if not visible_area(widget, window).contains(where):
                problems.append(f"{_name(widget)} lies outside the window")
            continue
        content, viewport = scroller.widget(), scroller.viewport()
        assert content is not None  # a scroll area holding ``widget`` has content
        where = QRect(widget.mapTo(content, widget.rect().topLeft()), widget.size())
        if where.left() < 0 or where.right() >= viewport.width() or not content.rect().contains(where):
            problems.append(
                f"{_name(widget)} at x {where.left()}–{where.right()} beyond the {viewport.width()} px view"
            )
        elif where.height() > viewport.height():
            problems.append(f"{_name(widget)} is taller than the {viewport.height()} px view")
    return problems


__all__ = ["clipped", "combo_text_width", "needed", "settle", "unreachable_inputs", "visible_area"]
