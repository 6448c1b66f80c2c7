"""The tray icon and its menu — or, when the desktop has no tray, a small status window.

What they say is decided in ``core/traymodel.py``; choices go out as signals to the app.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QActionGroup, QCursor, QDesktopServices, QResizeEvent
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

import trayai
from trayai.core.embedded import RunState
from trayai.core.settings.config import LeftClick
from trayai.core.status import ServerState, StatusReport
from trayai.core.textsafe import not_markup
from trayai.core.traymodel import MenuModel, status_header, tooltip_text
from trayai.ui.icons import app_icon, state_icon
from trayai.ui.theme import current_theme, muted_style
from trayai.ui.tools_keeper import ToolsKeeper
from trayai.ui.tools_menu import ToolsMenu

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


class TrayController(QObject):
    model_chosen = Signal(str)
    load_requested = Signal(str)
    unload_requested = Signal(str)
    unload_all_requested = Signal()
    pull_requested = Signal()
    pull_cancel_requested = Signal()
    server_model_chosen = Signal(str)
    profile_chosen = Signal(str)
    server_start_requested = Signal()
    server_stop_requested = Signal()
    quit_requested = Signal()
    chat_requested = Signal()
    settings_requested = Signal()
    prompt_requested = Signal()
    library_requested = Signal()  # Get models…: the model library window
    action_requested = Signal(str)  # a quick prompt action's name (Actions ▸)
    menu_opened = Signal()
    check_requested = Signal()  # the status line was chosen: poll the active server now
    tray_appeared = Signal()  # a tray host showed up after start-up; the icon moved into it
    tools_settings_requested = Signal(str)  # Tools ▸ Tools settings…: the section to open

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
        super().__init__(parent)
        self._gather = gather
        self.tools = ToolsMenu(tools, self) if tools is not None else None  # Tools ▸ (ui/tools_menu.py)
        if self.tools is not None:
            self.tools.settings_requested.connect(self.tools_settings_requested)
        self._adopt = tray_icon  # the icon the bootstrap already showed: kept, not shown anew
        self.notifications = notifications
        self.left_click = left_click
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self._on_about_to_show)
        self.state = ServerState.STARTING
        self.tooltip = "trayai — starting"
        self.tray: QSystemTrayIcon | None = None
        self.window: StatusWindow | None = None
        self.last_message: tuple[str, str] | None = None
        self._disposed = False
        self._shown_model: MenuModel | None = None
        self.rebuilds = 0  # how often the menu was rebuilt (tests: only when what it shows changed)
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

    def refresh_menu(self) -> None:
        """Rebuild the menu now if what it would show changed and it is closed.

        A StatusNotifierItem host reads the menu over D-Bus whenever it likes (xfce4-panel read
        "Starting…" 9 s after the tooltip said ready when items were refreshed only on AboutToShow),
        so the menu follows every state change — but an open menu is never rebuilt under the pointer.
        """
        if self._disposed:
            return
        if self.menu.isVisible():  # only the download lines move under the pointer
            _retext(self.menu, "download", self._gather().downloads)
            return
        model = self._gather()
        if model != self._shown_model:
            self._rebuild(model)

    # ------------------------------------------------------------------ menu

    def _on_about_to_show(self) -> None:
        self.menu_opened.emit()
        self._rebuild(self._gather())

    def _on_activated(self, reason: QSystemTrayIcon.ActivationReason) -> None:
        if reason == QSystemTrayIcon.ActivationReason.Trigger:
            # Left click: what the user chose (``left_click``).
            if self.left_click == "chat":
                self.chat_requested.emit()
            elif self.left_click == "prompt":
                self.prompt_requested.emit()
            else:
                self.menu.popup(QCursor.pos())

    def _rebuild(self, model: MenuModel) -> None:
        self._shown_model = model
        self.rebuilds += 1
        menu = self.menu
        menu.clear()
        # clear() keeps submenus alive as children: drop them, or every menu opening leaks three.
        for old in menu.findChildren(QMenu):
            old.setObjectName("")
            old.deleteLater()
        # The state as a normal (enabled) line with its coloured icon: a disabled item is greyed to
        # near-invisible in most styles. Choosing it checks the server again at once.
        status = menu.addAction(state_icon(model.state), _menu_text(status_header(model)))
        status.setObjectName("status")
        status.setToolTip("Check the server again now")
        status.triggered.connect(self.check_requested)
        if model.summary and model.state is not ServerState.READY:
            detail = menu.addAction(model.summary if len(model.summary) < 90 else model.summary[:87] + "…")
            detail.setEnabled(False)
        if model.fallback:
            fallback = menu.addAction(_menu_text(model.fallback))
            fallback.setEnabled(False)
            fallback.setObjectName("fallback")
        for line in model.downloads:  # choosing one opens Get models…, where it is
            download = menu.addAction(_menu_text(line))
            download.setObjectName("download")
            download.triggered.connect(self.library_requested)
        menu.addSeparator()
        chat = menu.addAction("Open &chat")
        chat.setObjectName("chat")
        chat.triggered.connect(self.chat_requested)
        prompt = menu.addAction(f"&Quick prompt ({model.hotkey})")
        prompt.setObjectName("prompt")
        prompt.triggered.connect(self.prompt_requested)
        self._actions_menu(menu, model)

        if model.entries is None:
            self._choice_menu(
                menu,
                "&Model",
                "models",
                model.models,
                model.current_model,
                model.model_locked_by,
                "(no models listed)",
                self._on_model_action,
            )
        else:
            self._model_menu(menu, model)
        library = menu.addAction("&Get models…")
        library.setObjectName("library")
        library.setToolTip("Download a model for the built-in server, sized for this machine")
        library.triggered.connect(self.library_requested)
        self._servers_menu(menu, model)
        if self.tools is not None:
            menu.addMenu(self.tools.menu)

        server = menu.addMenu("&Built-in server")
        server.setObjectName("server")
        info = server.addAction(f"{model.server_label} — {model.server_state}")
        info.setEnabled(False)
        if model.server_unavailable and model.server_state is not RunState.RUNNING:
            why = server.addAction(f"Unavailable: {model.server_unavailable}")
            why.setEnabled(False)
        start = server.addAction("&Start")
        start.setEnabled(
            model.server_state not in (RunState.RUNNING, RunState.STARTING) and not model.server_unavailable
        )
        start.triggered.connect(self.server_start_requested)
        stop = server.addAction("S&top (unloads the model, frees its memory)")
        stop.setEnabled(model.server_owned or model.server_state is RunState.STARTING)
        stop.triggered.connect(self.server_stop_requested)
        get_models = server.addAction("&Get models…")
        get_models.setObjectName("server_library")
        get_models.triggered.connect(self.library_requested)
        if model.server_models:
            server.addSeparator()
            server.addAction("Serve model (one at a time):").setEnabled(False)
            group = QActionGroup(server)
            for name in model.server_models:
                action = server.addAction(name)
                action.setData(name)
                action.setCheckable(True)
                action.setChecked(name == model.server_model)
                action.setEnabled(not model.server_unavailable or model.server_state is RunState.RUNNING)
                group.addAction(action)
            group.triggered.connect(self._on_server_model_action)

        menu.addSeparator()
        settings = menu.addAction("&Settings…")
        settings.setObjectName("settings")
        settings.triggered.connect(self.settings_requested)
        logs = menu.addAction("Open &logs folder")
        logs.setData(model.log_dir)
        logs.triggered.connect(self._open_logs)
        about = menu.addAction("&About trayai")
        about.triggered.connect(self._about)
        menu.addSeparator()
        quit_action = menu.addAction("&Quit")
        quit_action.setObjectName("quit")
        quit_action.triggered.connect(self.quit_requested)

    def _actions_menu(self, menu: QMenu, model: MenuModel) -> None:
        """Actions ▸: each quick prompt action, its number as the accelerator; one opens the prompt."""
        sub = menu.addMenu("&Actions")
        sub.setObjectName("actions")
        if not model.actions:
            sub.addAction("(no actions: add them in Settings)").setEnabled(False)
        for entry in model.actions:
            action = sub.addAction(f"&{entry.key}  {_menu_text(entry.name)}")
            action.setData(entry.name)
        sub.triggered.connect(self._on_quick_action)

    def _model_menu(self, menu: QMenu, model: MenuModel) -> None:
        """Model ▸: loaded models first with their facts, then what can be done on this server."""
        entries = model.entries or []
        sub = menu.addMenu("&Model")
        sub.setObjectName("models")
        if model.model_locked_by:
            sub.addAction(f"Set by {model.model_locked_by}").setEnabled(False)
        group = QActionGroup(sub)
        for entry in entries:
            action = sub.addAction(_menu_text(entry.label))
            action.setData(entry.id)
            action.setCheckable(True)
            action.setChecked(entry.id == model.current_model)
            action.setEnabled(model.model_locked_by is None and not entry.remote)
            group.addAction(action)
        group.triggered.connect(self._on_model_action)
        snap = model.snapshot
        caps = snap.caps if snap is not None else None
        if (caps is not None and (caps.load or caps.unload or caps.pull)) or model.operation:
            sub.addSeparator()
        if model.operation:
            sub.addAction(_menu_text(model.operation)).setEnabled(False)
        if caps is not None and caps.load:
            self._pick_menu(
                sub,
                "&Load",
                "load",
                [e.id for e in entries if not e.state.in_memory and not e.remote],
                self.load_requested,
            )
        if caps is not None and caps.unload:
            loaded = [e.id for e in entries if e.state.in_memory and not e.remote]
            self._pick_menu(sub, "&Unload", "unload", loaded, self.unload_requested)
            unload_all = sub.addAction("Unload &all")
            unload_all.setObjectName("unload_all")
            unload_all.setEnabled(bool(loaded))
            unload_all.triggered.connect(self.unload_all_requested)
        if caps is not None and caps.pull:
            if model.pulling:
                cancel = sub.addAction("&Cancel the download")
                cancel.setObjectName("pull_cancel")
                cancel.triggered.connect(self.pull_cancel_requested)
            else:
                pull = sub.addAction("&Pull a model…")
                pull.setObjectName("pull")
                pull.triggered.connect(self.pull_requested)
        if model.kind_line:
            sub.addSeparator()
            sub.addAction(model.kind_line).setEnabled(False)

    def _pick_menu(self, parent: QMenu, title: str, name: str, items: list[str], signal: Any) -> None:
        sub = parent.addMenu(title)
        sub.setObjectName(name)
        sub.setEnabled(bool(items))
        for item in items:
            action = sub.addAction(_menu_text(item))
            action.setData(item)
        sub.triggered.connect(lambda action: signal.emit(str(action.data())))

    def _servers_menu(self, menu: QMenu, model: MenuModel) -> None:
        """Servers ▸: every profile's server with its state icon; choosing one makes it the active one
        (unless this run's ``--endpoint`` or the environment fixed the server: then it says so)."""
        sub = menu.addMenu("Ser&vers")
        sub.setObjectName("servers")
        if model.endpoint_locked_by:
            sub.addAction(f"Set by {model.endpoint_locked_by}").setEnabled(False)
            sub.addAction(_menu_text(f"Using {model.base_url}")).setEnabled(False)
            sub.addSeparator()
        if not model.servers:
            sub.addAction("(no profiles)").setEnabled(False)
        group = QActionGroup(sub)
        for entry in model.servers or []:
            action = sub.addAction(_menu_text(entry.label))
            if entry.state is not None:
                action.setIcon(state_icon(entry.state))
            action.setData(entry.profile)
            action.setCheckable(True)
            action.setChecked(entry.active)
            action.setEnabled(model.endpoint_locked_by is None)
            group.addAction(action)
        group.triggered.connect(self._on_profile_action)

    @staticmethod
    def _choice_menu(
        menu: QMenu,
        title: str,
        name: str,
        items: list[str],
        current: str | None,
        locked_by: str | None,
        empty_text: str,
        slot: Callable[[QAction], None],
    ) -> None:
        """A submenu of exclusive, checkable choices, disabled (and saying why) when locked."""
        sub = menu.addMenu(title)
        sub.setObjectName(name)
        if locked_by:
            sub.addAction(f"Set by {locked_by}").setEnabled(False)
        if not items:
            sub.addAction(empty_text).setEnabled(False)
        group = QActionGroup(sub)
        for item in items:
            action = sub.addAction(item)
            action.setData(item)
            action.setCheckable(True)
            action.setChecked(item == current)
            action.setEnabled(locked_by is None)
            group.addAction(action)
        group.triggered.connect(slot)

    # Slots take no bool "checked" argument: lambdas receiving it tripped a PySide6 refcount bug
    # (an interpreter abort at exit), so actions carry their value in data() instead.
    def _on_model_action(self, action: QAction) -> None:
        self.model_chosen.emit(str(action.data()))

    def _on_server_model_action(self, action: QAction) -> None:
        self.server_model_chosen.emit(str(action.data()))

    def _on_profile_action(self, action: QAction) -> None:
        self.profile_chosen.emit(str(action.data()))

    def _on_quick_action(self, action: QAction) -> None:
        if action.data() is not None:
            self.action_requested.emit(str(action.data()))

    def _open_logs(self) -> None:
        for action in self.menu.actions():
            if action.text() == "Open &logs folder":
                QDesktopServices.openUrl(QUrl.fromLocalFile(str(action.data())))

    def _about(self) -> None:
        # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
        from PySide6.QtWidgets import QMessageBox  # made on first use: its enums cost ~0.5 MB

        box = QMessageBox(
            QMessageBox.Icon.Information,
            "About trayai",
            f"trayai {trayai.__version__}\n"
            "A tray assistant for local AI models behind an OpenAI-compatible API.",
        )
        box.setWindowIcon(app_icon())
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()  # never exec(): we run inside the asyncio loop
        self._about_box = box


def _retext(menu: QMenu, name: str, lines: Sequence[str]) -> None:
    """The texts of ``menu``'s items called ``name``, when there are as many lines as items."""
    items = [action for action in menu.actions() if action.objectName() == name]
    if len(items) == len(lines):
        for item, line in zip(items, lines, strict=True):
            item.setText(_menu_text(line))


def _menu_text(text: str) -> str:
    """Server text as a menu label: no accelerator ampersands, no tabs (a shortcut column), bounded."""
    flat = " ".join(text.replace("&", "&&").split())
    return flat if len(flat) <= 120 else flat[:119] + "…"


__all__ = ["NO_TRAY_MESSAGE", "MenuModel", "StatusWindow", "TrayController", "tooltip_text"]
