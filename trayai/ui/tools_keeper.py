"""``ToolsKeeper``: the one owner of the running app's MCP tool hub. It reads ``mcp.json``, follows the
file when the CLI or Settings change it, builds the hub only once a server is enabled (the MCP SDK
costs ~0.7 s and ~53 MB: a tray without tools never loads it), and tells the tray, Settings and the
chat when a server's state changes.
"""

from __future__ import annotations

import asyncio
import importlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from trayai.core.errors import AppError
from trayai.core.paths import AppPaths, ensure_private_dir
from trayai.core.redact import Redactor
from trayai.core.settings.secrets import TOOLS_SERVICE, SecretStore
from trayai.core.tasks import TaskOwner
from trayai.core.tools.config import ToolsConfig, ToolsStore
from trayai.core.tools.hub import HubTool, ServerStatus, ToolHub, ToolServerState
from trayai.core.tools.policy import remember

if TYPE_CHECKING:  # the answer's tool loop is loaded with the chat, not the tray
    from trayai.core.chat.tool_loop import ToolSource

log = logging.getLogger(__name__)

SDK_MODULE = "trayai.core.tools.session"  # imports the MCP SDK: done off the UI thread, once
SETTLE_MS = 60  # a save is a rename plus a directory change: read the file once they are done


class ToolsKeeper(QObject):
    """Signals: ``changed()`` — a server's state, the file's servers or their policies changed;
    ``notice(title, text)`` — something the person should hear once (a crash, a damaged file).

    ``start()`` reads the file and begins watching it; ``close()`` stops every server (no stdio child
    outlives the app). ``statuses()`` covers every configured server, hub or not.
    """

    changed = Signal()
    notice = Signal(str, str)

    def __init__(self, store: ToolsStore, redactor: Redactor, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.store = store
        self._redactor = redactor
        self.config = ToolsConfig()
        self.problem: str | None = None  # why the file as it is now cannot be used (the last one is kept)
        self._text: str | None = None  # the file's text last read: an unchanged file is not re-applied
        self._hub: ToolHub | None = None
        self._tasks = TaskOwner()
        self._closed = False
        self._watcher: QFileSystemWatcher | None = None
        self._settle = QTimer(self)
        self._settle.setSingleShot(True)
        self._settle.setInterval(SETTLE_MS)
        self._settle.timeout.connect(self.reload)

    @classmethod
    def at(cls, paths: AppPaths, redactor: Redactor, parent: QObject | None = None) -> ToolsKeeper:
        """The keeper of this user's ``mcp.json``, its secrets in the keychain (read when a server starts)."""
        return cls(ToolsStore.at(paths, SecretStore(service=TOOLS_SERVICE)), redactor, parent)

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        """Read the file, connect its enabled servers (in the background) and follow its changes."""
        if self._closed:
            return
        try:
            ensure_private_dir(self.store.path.parent)  # watched from the start: `trayai tools add` shows up
        except OSError as exc:
            log.info("config folder not made (%s): mcp.json is read again when Tools ▸ opens", exc)
        self._watch()
        self.reload()

    async def close(self) -> None:
        """Stop watching and stop every server (each bounded: stdin closed, SIGTERM, SIGKILL)."""
        self._closed = True
        self._settle.stop()
        if self._watcher is not None:
            self._watcher.deleteLater()
            self._watcher = None
        await self._tasks.cancel_all()
        if self._hub is not None:
            await self._hub.close()

    @property
    def hub(self) -> ToolHub | None:
        """The hub, once a server was enabled (None before: nothing of the SDK is loaded)."""
        return self._hub

    # ------------------------------------------------------------------ what the chat needs

    def current_hub(self) -> ToolSource | None:
        """The hub while an enabled server offers tools; None otherwise (the request goes without)."""
        hub = self._hub
        if hub is None or not hub.tools():
            return None
        return hub

    def remember(self, tool: HubTool) -> None:
        """ "Always for this tool": saved in ``mcp.json`` (as it is now) and followed by the hub at once.
        A file that cannot be saved is said; the call the person allowed still runs."""
        try:
            config = remember(self.store, tool.info.server, tool.info.name)
        except (AppError, OSError) as exc:
            self.notice.emit("Could not remember the tool's permission", str(exc))
            return
        self._follow(config, self._read_text())

    # ------------------------------------------------------------------ what the tray and Settings show

    def statuses(self) -> list[ServerStatus]:
        """Every configured server in the file's order: the hub's state, else disabled or starting."""
        held = {status.name: status for status in self._hub.statuses()} if self._hub is not None else {}
        return [
            held.get(name)
            or ServerStatus(name, ToolServerState.STARTING if server.enabled else ToolServerState.DISABLED)
            for name, server in self.config.servers.items()
        ]

    def set_enabled(self, name: str, *, enabled: bool) -> None:
        """The tray's toggle: saved to ``mcp.json`` (that field, on the file as it is now), then followed."""

        def change(config: ToolsConfig) -> ToolsConfig:
            config.server(name).enabled = enabled
            return config

        try:
            config = self.store.update(change)
        except (AppError, OSError) as exc:
            self.notice.emit(f"Could not {'enable' if enabled else 'disable'} {name}", str(exc))
            return
        self._follow(config, self._read_text())

    def reload(self) -> None:
        """Read ``mcp.json`` again and follow it (nothing happens when its text did not change)."""
        if self._closed:
            return
        self._watch()  # a file replaced by a rename is a new file to watch
        text = self._read_text()
        if text == self._text:
            return
        try:
            config = self.store.load()
        except (AppError, OSError) as exc:
            words = str(exc)
            if words != self.problem:
                self.problem = words
                log.info("mcp.json not followed: %s", words)
                self.notice.emit(
                    "Tool servers: mcp.json cannot be read", f"{words} (the last good one is used)"
                )
                self.changed.emit()
            self._text = text
            return
        self._follow(config, text)

    # ------------------------------------------------------------------ inside

    def _follow(self, config: ToolsConfig, text: str | None) -> None:
        self._text = text
        self.problem = None
        self.config = config
        if self._hub is not None:
            self._hub.apply(config)
        elif any(server.enabled for server in config.servers.values()):
            self._tasks.exclusive("hub", self._build_hub())
        self.changed.emit()

    async def _build_hub(self) -> None:
        """The SDK imported in a worker thread (the window keeps drawing), then the hub made and fed."""
        await asyncio.to_thread(importlib.import_module, SDK_MODULE)
        if self._closed or self._hub is not None:
            return
        self._hub = ToolHub(
            self.store.resolved,
            on_change=lambda _status: self.changed.emit(),
            on_notice=lambda server, words: self.notice.emit(f"Tool server {server}", words),
            redactor=self._redactor,
        )
        self._hub.apply(self.config)
        self.changed.emit()

    def _read_text(self) -> str | None:
        try:
            return self.store.path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None

    def _watch(self) -> None:
        """Watch the config folder (a save replaces the file) and the file itself (an editor's write)."""
        if self._watcher is None:
            self._watcher = QFileSystemWatcher(self)
            self._watcher.directoryChanged.connect(lambda _path: self._settle.start())
            self._watcher.fileChanged.connect(lambda _path: self._settle.start())
        wanted = [str(path) for path in (self.store.path.parent, self.store.path) if Path(path).exists()]
        missing = [path for path in wanted if path not in self._watcher.files() + self._watcher.directories()]
        if missing:
            self._watcher.addPaths(missing)


__all__ = ["ToolsKeeper"]
