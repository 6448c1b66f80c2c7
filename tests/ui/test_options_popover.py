"""Slip 5 of the UX review: the Options popover opened ~350 px past the chat window's right edge."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QRect, QTimer
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from tests.support.fitting import settle
from trayai.ui.chat.options_bar import OptionsBar


def opened_geometry(bar: OptionsBar) -> QRect:
    """Open the popover as the button does and read where it went (it runs its own loop until closed)."""
    seen: list[QRect] = []

    def look_and_close() -> None:
        seen.append(bar.popover.geometry())
        bar.popover.close()

    QTimer.singleShot(0, look_and_close)
    bar.options_button.showMenu()
    assert seen, "the popover never opened"
    return seen[0]


def bar_in_window(qtbot: QtBot, x: int, width: int) -> tuple[OptionsBar, QRect, QWidget]:
    """An options bar filling a window at ``x`` of ``width`` px, shown; the window's screen rectangle,
    and the window itself (the caller keeps it alive: the bar dies with it)."""
    window = QWidget()
    qtbot.addWidget(window)
    bar = OptionsBar()
    QVBoxLayout(window).addWidget(bar)
    window.setGeometry(x, 150, width, 300)
    window.show()
    qtbot.waitExposed(window)
    settle(window)
    return bar, QRect(window.mapToGlobal(QPoint(0, 0)), window.size()), window


def test_the_options_popover_opens_inside_the_window(qtbot: QtBot) -> None:
    bar, frame, _window = bar_in_window(qtbot, 200, 520)
    button = QRect(bar.options_button.mapToGlobal(QPoint(0, 0)), bar.options_button.size())
    assert button.right() > frame.right() - 120  # the button sits at the right edge, as in the chat
    popover = opened_geometry(bar)
    assert popover.width() > 200  # the real form, not an empty menu
    assert frame.left() <= popover.left() and popover.right() <= frame.right(), (popover, frame)
    assert popover.top() >= button.bottom() - 2  # below the button it belongs to


def test_a_window_narrower_than_the_popover_keeps_its_left_edge_in_sight(qtbot: QtBot) -> None:
    bar, frame, _window = bar_in_window(qtbot, 300, 330)
    popover = opened_geometry(bar)
    assert popover.left() == frame.left() or popover.width() <= frame.width()
