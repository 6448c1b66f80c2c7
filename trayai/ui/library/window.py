"""Tray ▸ Get models…: the curated catalog sized for this machine, a Hugging Face search, downloads with
progress, and "Use it now" to make the built-in server serve a downloaded model.

The machine is measured and the catalog judged in a worker thread (``nvidia-smi`` may take seconds);
downloads run in ``LibraryDownloads``, which the app keeps (``ui/library/opener.py``) and passes in, so
they go on while the window is hidden; a window made without one (tests) makes its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QUrl
from PySide6.QtGui import QDesktopServices, QKeySequence, QShortcut, QShowEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from trayai.core.embedded import LocalModel
from trayai.core.errors import AppError
from trayai.core.library.catalog import Catalog, load_catalog
from trayai.core.library.download import Downloader
from trayai.core.library.feedback import Help
from trayai.core.library.fit import Verdict
from trayai.core.library.machine import MachineMemory, probe_memory
from trayai.core.library.model_settings import Machine, ModelFacts, probe_machine
from trayai.core.library.pick import Pick, pick_all
from trayai.core.library.reload import OnDemandServer
from trayai.core.settings.secrets import SecretStore
from trayai.core.settings.store import ConfigStore
from trayai.core.tasks import TaskOwner
from trayai.ui.icons import app_icon
from trayai.ui.library.controls import DownloadControls
from trayai.ui.library.downloads import LibraryDownloads, Phase, Target, hub_for
from trayai.ui.library.local_models import EMPTY_WORDS, LocalModels
from trayai.ui.library.model_row import ModelRow
from trayai.ui.library.search import HubSearch
from trayai.ui.library.style import standard_icon, text_style
from trayai.ui.library.token import TokenPanel

SP = QStyle.StandardPixmap


@dataclass(frozen=True)
class LibrarySources:
    """What the window reads and drives (tests pass their own)."""

    secrets: SecretStore
    models_dir: Callable[[], Path | None]
    serve: Callable[[str], Awaitable[None]] | None = None  # BuiltinSide.serve_model
    catalog: Callable[[], Catalog] = load_catalog
    memory: Callable[[], MachineMemory] = probe_memory
    open_url: Callable[[QUrl], object] = field(default=QDesktopServices.openUrl)
    downloader: Downloader | None = None
    store: ConfigStore | None = None  # the settings file: a downloaded model's Settings… (None: no button)
    machine: Callable[[], Machine] = probe_machine  # the per-model editor's auto choices (blocking)
    local_models: Callable[[], list[LocalModel]] | None = None  # what is on disk (blocking; None: no list)


class UseNote(Protocol):
    """Where "Use it now" says what it is doing (a catalog row's controls or a local model's row)."""

    def show_use(self, text: str, kind: str = "muted", *, busy: bool = False) -> None: ...


class LibraryWindow(QWidget):
    """The one "Get models" window. Closing only hides it: ``ui/library/opener.py`` keeps it until the app
    quits, so downloads go on."""

    DEFAULT_SIZE = (760, 720)
    MINIMUM_WIDTH = 480

    def __init__(
        self,
        sources: LibrarySources,
        parent: QWidget | None = None,
        *,
        downloads: LibraryDownloads | None = None,
    ) -> None:
        super().__init__(parent)
        self.sources = sources
        self.tasks = TaskOwner()
        self._own_downloads = downloads is None  # else the app's: they outlive this window
        self.downloads = downloads or LibraryDownloads(
            sources.models_dir, sources.secrets, downloader=sources.downloader, parent=self
        )
        self.downloads.changed.connect(self._on_changed)
        self.downloads.count_changed.connect(self.show_count)
        self._controls: dict[str, list[tuple[DownloadControls, Target]]] = {}
        self._waiting_for_token: list[Target] = []
        self.rows: list[ModelRow] = []
        self.settings_dialog: QDialog | None = None  # the per-model editor open now (tests reach it)
        self._shown_before = False
        self.setWindowTitle("Get models — trayai")
        self.setWindowIcon(app_icon())
        self.setMinimumWidth(self.MINIMUM_WIDTH)
        self.resize(*self.DEFAULT_SIZE)

        outer = QVBoxLayout(self)
        self.intro = QLabel(
            "Models for the built-in server, judged for this machine. A download resumes where it stopped "
            "and is checked against the repository's sha256 before it is offered."
        )
        self.intro.setWordWrap(True)
        outer.addWidget(self.intro)
        self.machine = QLabel("Measuring this machine's memory…")
        self.machine.setWordWrap(True)
        outer.addWidget(self.machine)
        self.count = QLabel()
        self.count.setObjectName("downloadCount")
        self.count.hide()
        outer.addWidget(self.count)
        self.token = TokenPanel(sources.secrets, self.tasks)
        self.token.hide()
        self.token.stored.connect(self._token_stored)
        outer.addWidget(self.token)

        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        page = QWidget()
        self.page = QVBoxLayout(page)
        self.local = LocalModels(page, with_settings=sources.store is not None)
        self.local.settings_requested.connect(lambda row: self._edit(row.model.path, row.model.name))
        self.local.use_requested.connect(lambda row: self._use_name(row, row.model.name))
        if sources.local_models is not None:
            self.page.addWidget(self._heading("On this machine"))
            self.page.addWidget(self.local)
        else:
            self.local.hide()
        self.search = HubSearch(lambda: hub_for(sources.secrets), self.wire, page)
        self.page.addWidget(self._heading("Search Hugging Face"))
        self.page.addWidget(self.search)
        self.page.addWidget(self._heading("Catalog"))
        self.loading = QLabel("Judging the catalog for this machine…")
        self.loading.setWordWrap(True)
        self.page.addWidget(self.loading)
        self.fitting = QVBoxLayout()
        self.page.addLayout(self.fitting)
        self.toggle = QPushButton()
        self.toggle.setCheckable(True)
        self.toggle.setAutoDefault(False)
        self.toggle.setIcon(standard_icon(self, SP.SP_ArrowRight))
        self.toggle.setToolTip("Models that need more memory than this machine has free now")
        self.toggle.toggled.connect(lambda: self._show_too_large(shown=self.toggle.isChecked()))
        self.toggle.hide()
        self.page.addWidget(self.toggle, 0, Qt.AlignmentFlag.AlignLeft)
        self.too_large = QWidget()
        self.too_large_rows = QVBoxLayout(self.too_large)
        self.too_large_rows.setContentsMargins(0, 0, 0, 0)
        self.too_large.hide()
        self.page.addWidget(self.too_large)
        self.page.addStretch(1)
        self.scroller.setWidget(page)
        outer.addWidget(self.scroller, 1)

        buttons = QHBoxLayout()
        self.folder_button = QPushButton("Open the models folder")
        self.folder_button.setIcon(standard_icon(self, SP.SP_DirOpenIcon))
        self.folder_button.setToolTip("Show the folder the built-in server serves its models from")
        self.folder_button.setAutoDefault(False)
        self.folder_button.clicked.connect(self.open_folder)
        self.close_button = QPushButton("Close")
        self.close_button.setIcon(standard_icon(self, SP.SP_DialogCloseButton))
        self.close_button.setToolTip("Close the window; downloads go on")
        self.close_button.setAutoDefault(False)
        self.close_button.clicked.connect(self.close)
        buttons.addWidget(self.folder_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        outer.addLayout(buttons)
        QShortcut(QKeySequence.StandardKey.Find, self, self.search.box.setFocus)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, self.close)
        self.restyle()
        self.show_count(self.downloads.count)
        self.tasks.spawn(self._load())
        self.list_local()

    def _heading(self, text: str) -> QLabel:
        label = QLabel(f"<b>{text}</b>")
        label.setContentsMargins(0, 8, 0, 0)
        return label

    # ------------------------------------------------------------------ the catalog

    async def _load(self) -> None:
        try:
            memory, picks = await asyncio.to_thread(self._judge)
        except AppError as exc:
            self.machine.setText("")
            self.loading.setText(f"{exc.message}\n{exc.hint}".strip())
            self.loading.setStyleSheet(text_style("error"))
            return
        self.machine.setText(f"This machine: {memory.words}.")
        self.loading.hide()
        self.show_picks(picks)

    def _judge(self) -> tuple[MachineMemory, list[Pick]]:
        """Blocking (a worker thread): the machine's memory and each catalog model's pick."""
        memory = self.sources.memory()
        return memory, pick_all(self.sources.catalog(), memory, self.sources.models_dir())

    def show_picks(self, picks: list[Pick]) -> None:
        hidden = 0
        for pick in picks:
            row = ModelRow(pick)
            row.source_clicked.connect(lambda url: self.sources.open_url(QUrl(url)))
            row.settings_clicked.connect(lambda row=row: self.edit_settings(row))
            self.rows.append(row)
            if pick.fit.verdict is Verdict.TOO_LARGE:
                self.too_large_rows.addWidget(row)
                hidden += 1
            else:
                self.fitting.addWidget(row)
            self.wire(row.controls, row.target)
            self._show_settings_button(row)
        self.toggle.setText(f"Show models that do not fit ({hidden})")
        self.toggle.setVisible(hidden > 0)

    def _show_too_large(self, *, shown: bool) -> None:
        self.too_large.setVisible(shown)
        verb = "Hide" if shown else "Show"
        self.toggle.setText(f"{verb} models that do not fit ({self.too_large_rows.count()})")
        self.toggle.setIcon(standard_icon(self, SP.SP_ArrowDown if shown else SP.SP_ArrowRight))

    # ------------------------------------------------------------------ downloads

    def wire(self, controls: DownloadControls, target: Target) -> None:
        """Connect one set of controls to the downloads (a catalog row or a search result)."""
        self._controls.setdefault(target.key, []).append((controls, target))
        controls.get_clicked.connect(lambda: self.downloads.get(target))
        controls.cancel_clicked.connect(lambda: self.downloads.cancel(target))
        controls.remove_clicked.connect(lambda: self.downloads.remove(target))
        controls.use_clicked.connect(lambda: self._use(controls, target))
        controls.help_clicked.connect(lambda help_: self._help(help_, target))
        controls.show_status(self.downloads.status(target))

    def _on_changed(self, key: str) -> None:
        phases = set()
        for controls, target in self._controls.get(key, []):
            status = self.downloads.status(target)
            controls.show_status(status)
            phases.add(status.phase)
        for row in self.rows:
            if row.target.key == key:
                self._show_settings_button(row)
        if phases & {Phase.DONE, Phase.IDLE}:  # a model arrived or was removed: the list follows
            self.list_local()

    # ------------------------------------------------------------------ on this machine

    def list_local(self) -> None:
        """List the models on disk again (off the UI thread: the folder may be large or slow)."""
        if self.sources.local_models is not None:
            self.tasks.exclusive("local models", self._list_local(self.sources.local_models))

    async def _list_local(self, local_models: Callable[[], list[LocalModel]]) -> None:
        try:
            models = await asyncio.to_thread(local_models)
        except OSError as exc:
            self.local.empty.setText(f"The models folder cannot be read: {exc.strerror or exc}")
            self.local.show_models([])
            return
        self.local.empty.setText(EMPTY_WORDS)
        self.local.show_models(models)

    # ------------------------------------------------------------------ per-model settings

    def _show_settings_button(self, row: ModelRow) -> None:
        downloaded = self.downloads.status(row.target).phase is Phase.DONE
        row.settings_button.setVisible(downloaded and self.sources.store is not None)

    def edit_settings(self, row: ModelRow) -> None:
        """Settings… of a downloaded catalog model (named by its file, as the library names it)."""
        path = self.downloads.status(row.target).path
        if path is not None:
            self._edit(path, path.stem)

    def _edit(self, path: Path, name: str) -> None:
        """The per-model editor of ``name`` (the file at ``path``): its figures measured off the UI
        thread first."""
        if self.sources.store is not None:
            self.tasks.exclusive("model settings", self._open_settings(path, name, self.sources.store))

    async def _open_settings(self, path: Path, name: str, store: ConfigStore) -> None:
        # lazy: the editor is made only when asked for
        from trayai.ui.library.model_settings_dialog import ModelSettingsDialog, ModelSettingsSources

        facts, machine = await asyncio.gather(
            asyncio.to_thread(ModelFacts.of_file, path), asyncio.to_thread(self.sources.machine)
        )
        server = store.load().settings.builtin_server
        sources = ModelSettingsSources(
            store,
            machine,
            facts,
            OnDemandServer(server.port),
            startup_timeout=server.startup_timeout,
            on_demand=server.on_demand,
        )
        if self.settings_dialog is not None:
            self.settings_dialog.deleteLater()  # one editor at a time
        self.settings_dialog = ModelSettingsDialog(name, sources, self)
        self.settings_dialog.open()

    def show_count(self, count: int) -> None:
        self.count.setText(
            "1 download in progress"
            if count == 1
            else f"{count} downloads in progress or queued (one at a time)"
        )
        self.count.setVisible(count > 0)
        self.setWindowTitle("Get models — trayai" + (f" ({count} downloading)" if count else ""))

    def _help(self, help_: Help, target: Target) -> None:
        if help_ is Help.RETRY:
            self.downloads.get(target)
        elif help_ is Help.STORE_TOKEN:
            self._waiting_for_token.append(target)
            self.token.ask()
        else:
            self.open_folder()

    def _token_stored(self) -> None:
        waiting, self._waiting_for_token = self._waiting_for_token, []
        for target in waiting:
            if self.downloads.status(target).phase is Phase.FAILED:
                self.downloads.get(target)

    def open_folder(self) -> None:
        folder = self.sources.models_dir()
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
            self.sources.open_url(QUrl.fromLocalFile(str(folder)))

    def _use(self, controls: DownloadControls, target: Target) -> None:
        status = self.downloads.status(target)
        if status.path is not None:
            self._use_name(controls, status.path.stem)

    def _use_name(self, controls: UseNote, name: str) -> None:
        serve = self.sources.serve
        if serve is None:
            controls.show_use("The built-in server is not available in this window.", "error")
            return
        controls.show_use(f"Switching the built-in server to {name}…", busy=True)
        self.tasks.exclusive("use", self._serve(serve, name, controls))

    async def _serve(self, serve: Callable[[str], Awaitable[None]], name: str, controls: UseNote) -> None:
        def say(text: str, kind: str = "muted") -> None:
            if not isinstance(controls, QObject) or shiboken6.isValid(controls):  # its model may be gone
                controls.show_use(text, kind)

        try:
            await serve(name)
        except AppError as exc:
            say(exc.message, "error")
            return
        except asyncio.CancelledError:
            say("")
            raise
        say(f"Ready: the built-in server answers with {name}. Ask in the chat.", "success")

    # ------------------------------------------------------------------ window

    def restyle(self) -> None:
        self.machine.setStyleSheet(text_style("muted"))
        self.count.setStyleSheet(text_style("muted"))
        self.token.restyle()
        self.local.restyle()
        for row in self.rows:
            row.restyle()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self.restyle()

    def showEvent(self, event: QShowEvent) -> None:
        """Shown again (the window is kept while hidden): a model put in the folder meanwhile shows up."""
        super().showEvent(event)
        if self._shown_before:  # the first listing started with the window
            self.list_local()
        self._shown_before = True

    async def shutdown(self) -> None:
        """The app quits: stop every task and wait until each of its own downloads left its part."""
        owners = [self.search.tasks, self.tasks] + ([self.downloads.tasks] if self._own_downloads else [])
        for owner in owners:
            await owner.cancel_all()


__all__ = ["LibrarySources", "LibraryWindow"]
