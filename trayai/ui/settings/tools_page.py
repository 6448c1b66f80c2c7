"""Settings ▸ Tools: the MCP servers of ``mcp.json`` — listed with their state, added, edited, removed,
imported from another app's ``mcpServers`` JSON (a file or the clipboard), tested, and each tool given
a policy. OK saves them merged onto the file as it is then (a change the CLI made meanwhile is kept),
secrets moved to the keychain as ``trayai tools`` does; the running app follows the file.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QBoxLayout,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from trayai.core.errors import AppError, ConfigError
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.settings.config import Settings
from trayai.core.settings.secrets import TOOLS_SERVICE, SecretStore
from trayai.core.tools.config import (
    KEYCHAIN_REF,
    ServerConfig,
    ToolsConfig,
    ToolsStore,
    check_name,
    parse_servers,
)
from trayai.core.tools.hub import ServerStatus, ToolServerState
from trayai.core.tools.listing import ToolInfo
from trayai.ui.settings.connection_panel import ConnectionTestPanel
from trayai.ui.settings.page import PageContext, SettingsPage
from trayai.ui.settings.tools_drafts import ServerDraft
from trayai.ui.settings.tools_form import ServerForm
from trayai.ui.settings.tools_merge import merge_servers
from trayai.ui.settings.tools_test import probe_server
from trayai.ui.theme import muted_style

log = logging.getLogger(__name__)

STATE_WORDS = {
    ToolServerState.CONNECTED: "connected",
    ToolServerState.STARTING: "starting…",
    ToolServerState.FAILED: "failed",
    ToolServerState.DISABLED: "off",
}


class ToolsPage(SettingsPage):
    """The servers beside the form of the one selected; ``saved()`` writes ``mcp.json`` after OK."""

    section = "Tools"
    rows_at_top = False

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._keeper = context.tools
        self.store_ = context.tools.store if context.tools is not None else self._own_store()
        self._tasks = context.tasks
        self._redactor = Redactor()
        self._base = ToolsConfig()
        self._drafts: list[ServerDraft] = []
        self._probed: dict[int, tuple[ToolInfo, ...]] = {}  # a Test's tools, by draft identity
        self._readable = True
        self._build()
        if self._keeper is not None:
            self._keeper.changed.connect(self._show_current)

    @staticmethod
    def _own_store() -> ToolsStore:
        return ToolsStore.at(AppPaths.from_env(), SecretStore(service=TOOLS_SERVICE))

    def _build(self) -> None:
        self.servers = QListWidget()
        self.servers.setObjectName("tool_servers")
        self.servers.setAccessibleName("Tool servers")
        self.servers.currentRowChanged.connect(self._select)
        self.add = QPushButton("&Add")
        self.remove = QPushButton("&Remove")
        self.import_file = QPushButton("Import &file…")
        self.paste = QPushButton("&Paste JSON")
        self.paste.setToolTip(
            "Add the servers of an mcpServers JSON on the clipboard (Claude Desktop, Cursor, LM Studio)"
        )
        self.add.clicked.connect(self.add_server)
        self.remove.clicked.connect(self.remove_server)
        self.import_file.clicked.connect(self._ask_file)
        self.paste.clicked.connect(
            lambda: self.import_text(QGuiApplication.clipboard().text(), "the clipboard")
        )
        buttons = QGridLayout()  # two by two: the list stays narrow and every button whole
        for index, button in enumerate((self.add, self.remove, self.import_file, self.paste)):
            buttons.addWidget(button, index // 2, index % 2)
        left = QVBoxLayout()
        left.addWidget(self.servers, 1)
        left.addLayout(buttons)
        self.note = QLabel()
        self.note.setObjectName("tools_note")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(muted_style())
        self.note.hide()
        left.addWidget(self.note)
        self.form = ServerForm()
        self.test = QPushButton("&Test")
        self.test.setToolTip("Start this server as shown here and list its tools")
        self.test.clicked.connect(self.run_test)
        self.result = ConnectionTestPanel()
        self.result.setAccessibleName("Tool server test result")
        right = QVBoxLayout()
        right.addWidget(self.form)
        test_row = QHBoxLayout()
        test_row.addWidget(self.test)
        test_row.addStretch(1)
        right.addLayout(test_row)
        right.addWidget(self.result)
        right.addStretch(1)
        left_box, right_box = QWidget(), QWidget()
        left_box.setLayout(left)
        right_box.setLayout(right)
        self.columns = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self.columns.setContentsMargins(0, 0, 0, 0)
        self.columns.addWidget(left_box, 1)
        self.columns.addWidget(right_box, 3)

    # ------------------------------------------------------------------ the page contract

    def load(self, settings: Settings) -> None:
        try:
            self._base = self.store_.load()
        except (AppError, OSError) as exc:
            self._readable = False
            self._base = ToolsConfig()
            self.say(f"{exc} — fix or remove the file; nothing here is saved until it can be read.")
        self._drafts = [ServerDraft.of(server) for server in self._base.servers.values()]
        self._refill(0)

    def store(self, settings: Settings) -> None:
        self.form.store()

    def problem(self) -> str | None:
        if not self._readable:
            return None
        seen: set[str] = set()
        for index, draft in enumerate(self._drafts):
            try:
                check_name(draft.name)
                if draft.name in seen:
                    raise ConfigError(f"Two tool servers are called {draft.name!r}")
                seen.add(draft.name)
                server = draft.config()
            except ConfigError as exc:
                self.servers.setCurrentRow(index)
                return f"Tools: {exc.message}"
            if self.store_.needs_keychain(server) and not self.store_.secrets.persistent:
                self.servers.setCurrentRow(index)
                return (
                    f"Tools: no working keychain ({self.store_.secrets.backend_name}): the secrets of "
                    f"{draft.name!r} would be lost, and they never go in mcp.json"
                )
        return None

    def saved(self) -> None:
        """After OK: the page's changes merged onto ``mcp.json`` as it is now, secrets in the keychain."""
        if not self._readable:
            return
        try:
            self.save_servers()
        except (AppError, OSError) as exc:
            log.warning("tool servers not saved: %s", exc)
            if self._keeper is not None:
                self._keeper.notice.emit("Tool servers not saved", str(exc))

    def save_servers(self) -> None:
        store = self.store_
        mine: list[ServerConfig] = []
        origins: dict[str, str] = {}
        for draft in self._drafts:
            server = draft.config()
            if draft.origin is not None:
                origins[server.name] = draft.origin
                if draft.origin != server.name and draft.origin in self._base.servers:
                    server = self._keychain_values(self._base.servers[draft.origin], server)
            mine.append(server)
        stored = [store.put(server)[0] for server in mine]
        store.update(lambda now: merge_servers(self._base, stored, origins, now))
        kept = {ref.account for server in stored for ref in server.secret_refs()}
        for old in self._base.servers.values():  # removed, renamed or dropped values: out of the keychain
            for ref in old.secret_refs():
                if ref.account not in kept:
                    store.secrets.delete(ref.account)
        self._base = store.load()
        self._drafts = [ServerDraft.of(server) for server in self._base.servers.values()]
        self._refill(self.servers.currentRow())

    def _keychain_values(self, old: ServerConfig, new: ServerConfig) -> ServerConfig:
        """A renamed server with the values its keychain references had under the old name (``put``
        stores them under the new one)."""
        try:
            filled = self.store_.resolved(old)
        except AppError:
            return new
        before = _section_values(filled)
        values = {
            name: before.get(name, value) if value == KEYCHAIN_REF else value
            for name, value in _section_values(new).items()
        }
        return new.with_values("env" if new.stdio is not None else "headers", values)

    def set_narrow(self, *, narrow: bool) -> None:
        direction = QBoxLayout.Direction.TopToBottom if narrow else QBoxLayout.Direction.LeftToRight
        self.columns.setDirection(direction)

    # ------------------------------------------------------------------ actions

    def add_server(self) -> None:
        """A new stdio server named ``server-N``, its form ready to type into."""
        self.form.store()
        taken = {d.name for d in self._drafts}
        name = next(f"server-{n}" for n in range(1, len(taken) + 2) if f"server-{n}" not in taken)
        self._drafts.append(ServerDraft(name))
        self._refill(len(self._drafts) - 1)
        self.form.name.setFocus()

    def remove_server(self) -> None:
        row = self.servers.currentRow()
        if 0 <= row < len(self._drafts):
            self._drafts.pop(row)
            self._refill(min(row, len(self._drafts) - 1))

    def import_text(self, text: str, source: str) -> list[str]:
        """Add the servers of an ``mcpServers`` JSON; a name already here is skipped. Returns the added."""
        self.form.store()
        try:
            servers = parse_servers(text, source)
        except ConfigError as exc:
            self.say(f"Nothing imported: {exc.message}")
            return []
        taken = {d.name for d in self._drafts}
        added = [s.name for s in servers if s.name not in taken]
        skipped = [s.name for s in servers if s.name in taken]
        for server in servers:
            if server.name in added:
                draft = ServerDraft.of(server)
                draft.origin = None
                self._drafts.append(draft)
        words = f"Imported {', '.join(added)} from {source}" if added else f"Nothing new in {source}"
        if skipped:
            words += f"; skipped {', '.join(skipped)} (already here: remove it first to replace it)"
        self.say(words + ". OK saves them.")
        self._refill(len(self._drafts) - 1 if added else self.servers.currentRow())
        return added

    def _ask_file(self) -> None:
        dialog = QFileDialog(self, "Import MCP servers", str(Path.home()), "JSON (*.json);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.import_file_at)
        dialog.open()  # never exec(): the dialog runs inside the asyncio loop
        self._file_dialog = dialog

    def import_file_at(self, path: str) -> None:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.say(f"Cannot read {path}: {getattr(exc, 'strerror', None) or exc}")
            return
        self.import_text(text, Path(path).name)

    def run_test(self) -> None:
        """Test the selected server as the form shows it; the result in its own panel."""
        self.form.store()
        draft = self.form.draft
        if draft is None:
            return
        try:
            server = draft.config()
        except ConfigError as exc:
            self.result.setText(f"Cannot test: {exc.message}")
            return
        if draft.origin is not None and draft.origin != draft.name and draft.origin in self._base.servers:
            server = self._with_old_refs(server, draft.origin)
        self.result.setText(f"Testing {draft.name}…")
        self.test.setEnabled(False)
        self._tasks.exclusive("tools-test", self._test(draft, server))

    def _with_old_refs(self, server: ServerConfig, origin: str) -> ServerConfig:
        return replace(server, name=origin)  # its keychain entries are under the old name until OK

    async def _test(self, draft: ServerDraft, server: ServerConfig) -> None:
        try:
            outcome = await probe_server(self.store_, server, self._redactor)
        finally:
            self.test.setEnabled(True)
        self.result.show_rows(outcome.rows)
        if outcome.tools:
            self._probed[id(draft)] = outcome.tools
            if self.form.draft is draft:
                self.form.store()
                self._show_current()

    # ------------------------------------------------------------------ showing

    def say(self, words: str) -> None:
        self.note.setText(words)
        self.note.show()

    def _status(self, draft: ServerDraft) -> ServerStatus | None:
        if self._keeper is None or draft.origin is None:
            return None
        return next((s for s in self._keeper.statuses() if s.name == draft.origin), None)

    def _state_words(self, draft: ServerDraft) -> str:
        status = self._status(draft)
        if draft.origin is None:
            return "new: saved with OK"
        if status is None:
            return "not running in the tray"
        words = STATE_WORDS[status.state]
        if status.state is ToolServerState.CONNECTED:
            words += f" · {len(status.tools)} tool{'s' if len(status.tools) != 1 else ''}"
        if status.reason:
            words += f": {status.reason}"
        return words

    def _label(self, draft: ServerDraft) -> str:
        status = self._status(draft)
        state = STATE_WORDS[status.state] if status is not None else ("new" if draft.origin is None else "")
        return f"{draft.name}  ({state})" if state else draft.name

    def _refill(self, row: int) -> None:
        self.servers.blockSignals(True)
        self.servers.clear()
        self.servers.addItems([self._label(d) for d in self._drafts])
        self.servers.blockSignals(False)
        self.remove.setEnabled(bool(self._drafts))
        self.test.setEnabled(bool(self._drafts))
        self.servers.setCurrentRow(row if self._drafts else -1)
        self._select(self.servers.currentRow())

    def _select(self, row: int) -> None:
        self.form.store()
        draft = self._drafts[row] if 0 <= row < len(self._drafts) else None
        self._show(draft)

    def _show_current(self) -> None:
        """The keeper's news (a server connected, failed): the list's states and the form's tools."""
        if self.form.draft is not None:
            self.form.store()
        for index, draft in enumerate(self._drafts):
            item = self.servers.item(index)
            if item is not None:
                item.setText(self._label(draft))
        self._show(self.form.draft)

    def _show(self, draft: ServerDraft | None) -> None:
        if draft is None:
            self.form.show_draft(None, (), "Add a server, or import the mcpServers JSON of another app.")
            return
        status = self._status(draft)
        tools = status.tools if status is not None and status.tools else self._probed.get(id(draft), ())
        self.form.show_draft(draft, tools, self._state_words(draft))


def _section_values(server: ServerConfig) -> dict[str, str]:
    if server.stdio is not None:
        return dict(server.stdio.env)
    return dict(server.http.headers) if server.http is not None else {}


__all__ = ["ToolsPage"]
