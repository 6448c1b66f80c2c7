"""The tray icon — or, when the desktop has no tray, a small status window — showing the menu
(``ui/tray_menu.py``) and the state. What they say is decided in ``core/traymodel.py``.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QCursor, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from trayai.core.settings.config import LeftClick
from trayai.core.status import ServerState, StatusReport
from trayai.core.textsafe import not_markup
from trayai.core.traymodel import MenuModel, tooltip_text
from trayai.ui.icons import app_icon, state_icon
from trayai.ui.theme import current_theme, muted_style
from trayai.ui.tools_keeper import ToolsKeeper
from trayai.ui.tray_menu import TrayMenu

NO_TRAY_MESSAGE = (
    "No system tray was found on this desktop, so trayai shows its status in this window. "
    "On GNOME, install and enable the “AppIndicator and KStatusNotifierItem Support” extension; "
    "on other desktops, add a system tray (notification area) to the panel — then restart trayai."
)


MAX_NEWS_LINES = 8


class StatusWindow(QWidget):
    """The tray's stand-in when there is no tray: same states, same menu behind a button."""

    closed = Signal()

    def __init__(self, menu: QMenu) -> None:
        super().__init__()
        self.setWindowTitle("trayai")
        self.setWindowIcon(app_icon())
        self.icon_label = QLabel()
        self.state_label = QLabel("Starting…")
        self.state_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail_label = QLabel("")
        self.detail_label.setTextFormat(Qt.TextFormat.PlainText)  # server text: never rich text
        self.detail_label.setWordWrap(True)
        self.notice = QLabel(NO_TRAY_MESSAGE)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(muted_style())  # palette(mid) is nearly invisible in dark themes
        self._styled_for = current_theme()
        self.menu_button = QPushButton("Menu")
        self.menu_button.setMenu(menu)
        top = QHBoxLayout()
        top.addWidget(self.icon_label)
        top.addWidget(self.state_label, 1)
        top.addWidget(self.menu_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.detail_label)
        layout.addWidget(self.notice)
        layout.addStretch(1)
        self.resize(460, 170)
        self._fit_height()

    def _fit_height(self) -> None:
        """Wrapped lines need more height as the window narrows or news arrives: never clip them."""
        layout = self.layout()
        if layout is None:
            return
        need = layout.totalHeightForWidth(self.width())
        if need > 0:
            self.setMinimumHeight(need)
            if self.height() < need:
                self.resize(self.width(), need)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange and current_theme() != self._styled_for:
            self._styled_for = current_theme()  # Settings ▸ Appearance changed
            self.notice.setStyleSheet(muted_style())

    def add_news(self, line: str) -> None:
        """A notification's line on top of the details (the last few kept: the window stays small)."""
        lines = [line, *self.detail_label.text().splitlines()]
        self.detail_label.setText("\n".join(lines[:MAX_NEWS_LINES]))
        self._fit_height()

    def show_state(self, state: ServerState, tooltip: str) -> None:
        self.icon_label.setPixmap(state_icon(state).pixmap(32, 32))
        lines = tooltip.splitlines()
        self.state_label.setText(f"<b>{lines[0] if lines else state.words}</b>")
        self.detail_label.setText("\n".join(lines[1:]))
        self._fit_height()

    def closeEvent(self, event: object) -> None:
        self.closed.emit()  # closing the only window means quitting: never run invisibly
        super().closeEvent(event)  # type: ignore[arg-type]


class TrayController(TrayMenu):
    """Where the menu shows: the tray icon (its state icon, tooltip and notifications) or, without a
    tray, the status window — moved into a tray that appears later. The menu itself: ``TrayMenu``."""

    def __init__(
        self,
        gather: Callable[[], MenuModel],
        *,
        tray_available: bool,
        notifications: bool = True,
        left_click: LeftClick = "chat",
        parent: QObject | None = None,
        tray_icon: QSystemTrayIcon | None = None,
        tools: ToolsKeeper | None = None,
    ) -> None:
        super().__init__(gather, tools, parent)
        self._adopt = tray_icon  # the icon the bootstrap already showed: kept, not shown anew
        self.notifications = notifications
        self.left_click = left_click
        self.state = ServerState.STARTING
        self.tooltip = "trayai — starting"
        self.tray: QSystemTrayIcon | None = None
        self.window: StatusWindow | None = None
        self.last_message: tuple[str, str] | None = None
        self._tray_watch = QTimer(self)
        self._tray_watch.setInterval(self.tray_watch_interval_ms)
        self._tray_watch.timeout.connect(self._check_tray)
        if tray_available:
            self._make_tray_icon()
        else:
            self.window = StatusWindow(self.menu)
            self.window.closed.connect(self.quit_requested)
            # The panel may simply not be up yet (trayai autostarted before it): keep looking.
            self._tray_watch.start()
        self._rebuild(self._gather())

    tray_watch_interval_ms = 2000

    def _make_tray_icon(self) -> None:
        if self._adopt is not None:
            self.tray, self._adopt = self._adopt, None
            self.tray.setParent(self)
        else:
            self.tray = QSystemTrayIcon(state_icon(self.state), self)
        self.tray.setToolTip(self.tooltip)
        self.tray.setContextMenu(self.menu)
        self.tray.activated.connect(self._on_activated)

    def _check_tray(self) -> None:
        """A tray appeared after start-up: move into it and retire the status window."""
        if self._disposed or not QSystemTrayIcon.isSystemTrayAvailable():
            return
        self._tray_watch.stop()
        self._make_tray_icon()
        assert self.tray is not None
        self.tray.show()
        if self.window is not None:
            self.window.closed.disconnect(self.quit_requested)
            self.window.menu_button.setMenu(None)  # type: ignore[arg-type]
            self.window.hide()
            self.window.deleteLater()
            self.window = None
        self.tray_appeared.emit()

    def show(self) -> None:
        if self.tray is not None:
            self.tray.show()
        elif self.window is not None:
            self.window.show()
            self.window.raise_()

    def hide(self) -> None:
        if self.tray is not None:
            self.tray.hide()
        if self.window is not None:
            self.window.hide()

    def dispose(self) -> None:
        """Delete the top-level widgets while the QApplication still exists.

        Top-level widgets have no QObject parent; left to Python's garbage collector at interpreter
        exit, they can be destroyed after the QApplication, which crashes PySide6.
        """
        if self._disposed:
            return
        self._disposed = True
        self._tray_watch.stop()
        self.hide()
        for widget in (self.window, self.menu, self.tools.menu if self.tools is not None else None):
            if widget is not None:
                widget.deleteLater()
        self.window = None
        QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    def bring_forward(self) -> None:
        """`trayai` run again: show the menu where the user is (or raise the status window)."""
        if self.window is not None:
            self.window.show()
            self.window.raise_()
            self.window.activateWindow()
        else:
            self.menu.popup(QCursor.pos())

    # ------------------------------------------------------------------ state

    def show_status(self, state: ServerState, report: StatusReport | None, extra: list[str]) -> None:
        self.state = state
        self.tooltip = not_markup(tooltip_text(state, report, extra))
        if self.tray is not None:
            self.tray.setIcon(state_icon(state))
            self.tray.setToolTip(self.tooltip)
        if self.window is not None:
            self.window.show_state(state, self.tooltip)

    def message(self, title: str, text: str) -> None:
        """A desktop notification (or, without a tray, a line in the status window)."""
        self.last_message = (title, text)
        if not self.notifications:
            return
        if self.tray is not None and QSystemTrayIcon.supportsMessages():
            self.tray.showMessage(not_markup(title), not_markup(text), state_icon(self.state), 6000)
        elif self.window is not None:
            self.window.add_news(f"{title}: {text}")

    # ------------------------------------------------------------------ menu

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            # Left click: what the user chose (``left_click``).
            if self.left_click == "chat":
                self.chat_requested.emit()
            elif self.left_click == "prompt":
                self.prompt_requested.emit()
            else:
                self.menu.popup(QCursor.pos())


__all__ = ["NO_TRAY_MESSAGE", "MenuModel", "StatusWindow", "TrayController", "TrayMenu", "tooltip_text"]
