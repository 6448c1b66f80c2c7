"""The tray's menu: built from a :class:`MenuModel` (``core/traymodel.py`` decides what it says),
rebuilt only when that changed and never under the pointer, and every choice sent out as a signal.
Where the menu shows — the tray icon or the status window — is ``ui/tray.py``'s.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QObject, Qt, QUrl, Signal
from PySide6.QtGui import QAction, QActionGroup, QDesktopServices
from PySide6.QtWidgets import QMenu

import trayai
from trayai.core.embedded import RunState
from trayai.core.status import ServerState
from trayai.core.traymodel import MenuModel, status_header
from trayai.ui.icons import app_icon, state_icon
from trayai.ui.tools_keeper import ToolsKeeper
from trayai.ui.tools_menu import ToolsMenu


class TrayMenu(QObject):
    """Owns the menu (no parent widget: ``dispose`` of the tray deletes it) and Tools ▸; its signals
    are the person's choices."""

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
        self, gather: Callable[[], MenuModel], tools: ToolsKeeper | None, parent: QObject | None
    ) -> None:
        super().__init__(parent)
        self._gather = gather
        self.tools = ToolsMenu(tools, self) if tools is not None else None  # Tools ▸ (ui/tools_menu.py)
        if self.tools is not None:
            self.tools.settings_requested.connect(self.tools_settings_requested)
        self.menu = QMenu()
        self.menu.aboutToShow.connect(self._on_about_to_show)
        self._disposed = False
        self._shown_model: MenuModel | None = None
        self.rebuilds = 0  # how often the menu was rebuilt (tests: only when what it shows changed)

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

    # ------------------------------------------------------------------ building

    def _on_about_to_show(self) -> None:
        self.menu_opened.emit()
        self._rebuild(self._gather())

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


__all__ = ["TrayMenu"]
