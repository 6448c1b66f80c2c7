"""The tray's Tools ▸ menu: each MCP server of ``mcp.json`` with its state (connected, starting, failed
and why), a toggle that enables or disables it (saved to the file) and its tool count; "Tools
settings…" opens Settings ▸ Tools. It keeps its own submenu, rebuilt when the keeper says something
changed, so the tray's menu model stays about the model server.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction, QIcon
from PySide6.QtWidgets import QMenu

from trayai.core.status import ServerState
from trayai.core.tools.hub import ServerStatus, ToolServerState
from trayai.ui.icons import state_icon
from trayai.ui.tools_keeper import ToolsKeeper

TOOLS_SECTION = "Tools"  # the settings page "Tools settings…" opens
REASON_CHARS = 72  # of a failure's reason on its line (the tooltip has it whole)
_ICONS = {
    ToolServerState.CONNECTED: ServerState.READY,
    ToolServerState.STARTING: ServerState.STARTING,
    ToolServerState.FAILED: ServerState.ERROR,
}


def row_text(status: ServerStatus) -> str:
    """A server's line: its name, then its tools or its state."""
    name = _menu_text(status.name)
    if status.state is ToolServerState.CONNECTED:
        count = len(status.tools)
        return f"{name} — {count} tool{'s' if count != 1 else ''}"
    words = {
        ToolServerState.STARTING: "starting…",
        ToolServerState.FAILED: "failed",
        ToolServerState.DISABLED: "off",
    }
    return f"{name} — {words[status.state]}"


def reason_line(status: ServerStatus) -> str:
    """The disabled line under a failed server: why, cut to fit a menu."""
    flat = _menu_text(status.reason or "it stopped")
    return "    " + (flat if len(flat) <= REASON_CHARS else flat[: REASON_CHARS - 1] + "…")


class ToolsMenu(QObject):
    """Owns the Tools ▸ submenu (no parent widget: ``dispose`` deletes it while Qt lives). An open
    submenu is never rebuilt under the pointer: a change meanwhile is shown when it closes."""

    settings_requested = Signal(str)  # "Tools settings…": the section to open

    def __init__(self, keeper: ToolsKeeper, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._keeper = keeper
        self.menu = QMenu("&Tools")
        self.menu.setObjectName("tools")
        self.menu.aboutToShow.connect(keeper.reload)  # a change the file watcher missed shows up here
        self.menu.aboutToHide.connect(self._after_close)
        self.menu.triggered.connect(self._on_action)
        self._stale = False
        self._gone = False  # the tray deleted the menu at shutdown: nothing more to show
        self.menu.destroyed.connect(self._forget_menu)
        self.rebuilds = 0
        keeper.changed.connect(self.rebuild)
        self.rebuild()

    def rebuild(self) -> None:
        if self._gone:
            return
        if self.menu.isVisible():
            self._stale = True
            return
        self._stale = False
        self.rebuilds += 1
        menu = self.menu
        menu.clear()
        statuses = self._keeper.statuses()
        if self._keeper.problem:
            menu.addAction(_menu_text(f"mcp.json: {self._keeper.problem}")[:120]).setEnabled(False)
        if not statuses:
            add = menu.addAction("No tools configured — Add…")
            add.setObjectName("tools_add")
            add.setData(("settings",))
            return
        for status in statuses:
            self._server_row(menu, status)
        menu.addSeparator()
        settings = menu.addAction("Tools &settings…")
        settings.setObjectName("tools_settings")
        settings.setData(("settings",))

    def dispose(self) -> None:
        self.menu.deleteLater()

    def _server_row(self, menu: QMenu, status: ServerStatus) -> None:
        action = menu.addAction(row_text(status))
        action.setObjectName(f"tool_server:{status.name}")
        icon = _ICONS.get(status.state)
        action.setIcon(state_icon(icon) if icon is not None else QIcon())
        action.setCheckable(True)
        action.setChecked(status.state is not ToolServerState.DISABLED)
        action.setData(("toggle", status.name))
        tip = (
            "Enabled: the model may use its tools" if action.isChecked() else "Off: its tools are not offered"
        )
        if status.state is ToolServerState.FAILED:
            tip = f"Failed: {status.reason or 'it stopped'}"
        action.setToolTip(tip)
        if status.state is ToolServerState.FAILED:
            why = menu.addAction(reason_line(status))
            why.setObjectName(f"tool_reason:{status.name}")
            why.setEnabled(False)
            why.setToolTip(status.reason)

    # A slot that takes no "checked" bool (PySide6 refcount trouble): the action carries its purpose.
    def _on_action(self, action: QAction) -> None:
        data = action.data()
        if not isinstance(data, (tuple, list)) or not data:
            return
        if data[0] == "settings":
            self.settings_requested.emit(TOOLS_SECTION)
        elif data[0] == "toggle":
            self._keeper.set_enabled(str(data[1]), enabled=action.isChecked())

    def _forget_menu(self) -> None:
        self._gone = True

    def _after_close(self) -> None:
        if self._stale:  # still visible while it hides: rebuild right after
            QTimer.singleShot(0, self.rebuild)


def _menu_text(text: str) -> str:
    """Server text as a menu label: no accelerator ampersands, no tabs or newlines."""
    return " ".join(text.replace("&", "&&").split())


__all__ = ["TOOLS_SECTION", "ToolsMenu", "reason_line", "row_text"]
