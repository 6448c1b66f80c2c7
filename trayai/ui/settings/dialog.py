"""The settings dialog: the pages (``PAGES``, one per section) on a copy of the settings, the section
list — a picker when narrow — and OK: every page stored and checked, then merged with the file as it is
now, asking which change to keep where another writer changed the same setting.

It knows no setting itself: each page loads, stores and checks its own (``page.py``). Narrower than
``NARROW_BELOW`` (a tiled window), lists sit above their forms and labels above their fields; every
page scrolls rather than clipping (docs/architecture.md, "The settings dialog").
"""

from __future__ import annotations

import copy
import logging
from typing import TypeVar

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from trayai.core.desktop_entry import DesktopPlaces
from trayai.core.errors import ConfigError
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Settings
from trayai.core.settings.merge import Conflict, Side, merge_with_file, save_merged
from trayai.core.settings.resolve import ResolvedEndpoint
from trayai.core.settings.secrets import SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig
from trayai.core.settings.validate import validate_settings
from trayai.core.tasks import TaskOwner
from trayai.ui.settings.builtin_page import BuiltinPage
from trayai.ui.settings.conflicts import ConflictQuestion
from trayai.ui.settings.general_page import GeneralPage
from trayai.ui.settings.generation_page import GenerationPage
from trayai.ui.settings.hotkey_page import HotkeyPage
from trayai.ui.settings.list_pages import ActionsPage, PresetsPage
from trayai.ui.settings.page import ClientFactory, PageContext, ProfilePart, SettingsPage
from trayai.ui.settings.profiles_page import ProfilesPage
from trayai.ui.settings.tools_page import ToolsPage
from trayai.ui.tools_keeper import ToolsKeeper

log = logging.getLogger(__name__)

PAGES: tuple[type[SettingsPage], ...] = (
    ProfilesPage,
    GenerationPage,
    PresetsPage,
    BuiltinPage,
    HotkeyPage,
    ActionsPage,
    GeneralPage,
    ToolsPage,
)
SECTIONS = tuple(page.section for page in PAGES)  # in this order in the list, and checked in it on OK

PageT = TypeVar("PageT", bound=SettingsPage)


def _scrolling(page: QWidget, *, top: bool = False) -> QScrollArea:
    """``page`` in a frameless scroll area: a short or narrow window scrolls it instead of clipping.

    ``top``: a form keeps its rows' heights at the top (the spare height goes below, not between).
    """
    if top:
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(page)
        column.addStretch(1)
        page = holder
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # pages fit the width
    area.setWidget(page)
    return area


def _default_client(base_url: str, key: str) -> ModelClient:
    return ModelClient(Endpoint.create(base_url, key, models_timeout=5.0, first_token_timeout=30.0))


class SettingsDialog(QDialog):
    """Signals: ``applied(Settings)`` — OK saved these (merged with changes made elsewhere meanwhile).

    ``warnings``: what the keychain said on OK (a key kept for this session only), for the opener.
    """

    applied = Signal(object)  # OK saved these Settings (the app applies them live)

    MIN_WIDTH = 480  # a tiled third of a 1440 px screen: every control still whole
    MIN_HEIGHT = 400  # pages scroll: room for the tallest field (a multi-line box) and a few rows
    NARROW_BELOW = 900  # below this: a section picker, lists above forms (see the module docstring)
    DEFAULT_WIDTH = 940  # wide: the section list, the profiles and a form with room for URLs

    def __init__(
        self,
        loaded: LoadedConfig,
        secrets: SecretStore,
        store: ConfigStore,
        *,
        client_factory: ClientFactory = _default_client,
        hotkey_note: str | None = None,
        desktop_places: DesktopPlaces | None = None,
        running: ResolvedEndpoint | None = None,
        tools: ToolsKeeper | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")  # shown as "Settings — trayai"
        self.loaded = loaded
        self._store = store
        self._base = copy.deepcopy(loaded.settings)  # what OK merges against (the tray may change its copy)
        self.settings: Settings = copy.deepcopy(loaded.settings)
        self.warnings: list[str] = []
        self._keys_applied = False
        self._tasks = TaskOwner()  # live model lists and connection tests, cancelled on closing
        context = PageContext(
            loaded=loaded,
            secrets=secrets,
            tasks=self._tasks,
            client_factory=client_factory,
            running=running,
            hotkey_note=hotkey_note,
            desktop=desktop_places or DesktopPlaces.from_env(AppPaths.from_env().data_dir),
            tools=tools,
        )
        self._pages = [page(context) for page in PAGES]
        self.profiles_page = self.page(ProfilesPage)
        self.general_page = self.page(GeneralPage)
        self.builtin_page = self.page(BuiltinPage)
        self.hotkey_page = self.page(HotkeyPage)
        self.actions_page = self.page(ActionsPage)
        self.profiles_page.drive([page for page in self._pages if isinstance(page, ProfilePart)])
        self.conflicts = ConflictQuestion(self, self._answered)
        self._narrow = False
        self._build()
        for page in self._pages:
            page.load(self.settings)
        # Explicit: the wide layout's larger minimum must not hold the window wide.
        self.setMinimumSize(self.MIN_WIDTH, self.MIN_HEIGHT)
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry().width() * 9 // 10 if screen is not None else self.DEFAULT_WIDTH
        self.resize(max(self.MIN_WIDTH, min(self.DEFAULT_WIDTH, room)), 560)  # never wider than the screen

    def page(self, kind: type[PageT]) -> PageT:
        """The dialog's page of this class."""
        return next(page for page in self._pages if isinstance(page, kind))

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
        self.sections = QListWidget()
        self.sections.addItems(list(SECTIONS))
        self.sections.setFixedWidth(self.sections.sizeHintForColumn(0) + 24)  # every section name in full
        self.section_combo = QComboBox()  # stands in for the list when the dialog is narrow
        self.section_combo.addItems(list(SECTIONS))
        self.section_combo.setAccessibleName("Section")
        self.section_combo.hide()
        self.pages = QStackedWidget()
        for page in self._pages:  # page i is section i
            self.pages.addWidget(_scrolling(page, top=page.rows_at_top))
        self.sections.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.sections.currentRowChanged.connect(self.section_combo.setCurrentIndex)
        self.section_combo.currentIndexChanged.connect(self.sections.setCurrentRow)
        self.show_section(SECTIONS[0])
        self.error_label = QLabel()
        self.error_label.setObjectName("error")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet("QLabel { color: #b00020; }")
        self.error_label.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.try_accept)
        self.buttons.rejected.connect(self.reject)
        top = QHBoxLayout()
        top.addWidget(self.sections)
        right = QVBoxLayout()
        right.addWidget(self.section_combo)
        right.addWidget(self.pages, 1)
        top.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top, 1)
        layout.addWidget(self.error_label)
        layout.addWidget(self.buttons)

    @property
    def narrow(self) -> bool:
        """Narrower than ``NARROW_BELOW``: the section picker and lists above forms are in use."""
        return self._narrow

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        narrow = self.width() < self.NARROW_BELOW
        if narrow != self._narrow:
            self._narrow = narrow
            self.sections.setVisible(not narrow)
            self.section_combo.setVisible(narrow)
            for page in self._pages:
                page.set_narrow(narrow=narrow)

    def show_section(self, name: str) -> None:
        """Show the page of the section called ``name`` (one of ``SECTIONS``)."""
        self.sections.setCurrentRow(SECTIONS.index(name))

    # ------------------------------------------------------------------ OK / Cancel

    def validate(self) -> str | None:
        """Store every page into the copy and check it: the first problem as a sentence, its page
        shown, or None once the copy is ready to save."""
        for page in self._pages:
            page.store(self.settings)
        for page in self._pages:
            problem = page.problem()
            if problem:
                self.show_section(page.section)
                return problem
        self.profiles_page.follow_names(self.settings)
        try:
            validate_settings(self.settings)
        except ConfigError as exc:
            return str(exc)
        return None

    def try_accept(self) -> bool:
        """OK: validate, keep open with the message if wrong, else save keys and settings and close.

        The save merges with the file as it is now, so a change made elsewhere meanwhile (the CLI, the
        tray) is kept; where one clashes with an edit here, the user is asked (False until answered).
        """
        problem = self.validate()
        if problem:
            self.error_label.setText(problem)
            self.error_label.show()
            return False
        return self._save_merged(Side.MINE, ())

    def _save_merged(self, prefer: Side, answered: tuple[Conflict, ...]) -> bool:
        """Merge with the file, ask about conflicts not ``answered`` yet, else save and close."""
        origins = self.profiles_page.origins()
        try:
            found = merge_with_file(self._store, self._base, self.settings, origins=origins, prefer=prefer)
            if any(c not in answered for c in found.conflicts):
                self.conflicts.ask(found.conflicts)
                return False
            if not self._keys_applied:
                self.warnings = self.profiles_page.apply_keys()
                self._keys_applied = True
            result = save_merged(
                self._store, self._base, self.settings, origins=origins, prefer=prefer, answered=answered
            )
        except (OSError, ConfigError) as exc:
            self.error_label.setText(f"Could not save the settings: {exc}")
            self.error_label.show()
            return False
        if not result.saved:  # the file changed again in between: ask about what is new
            self.conflicts.ask(result.conflicts)
            return False
        self.error_label.hide()
        self.settings = result.settings
        for page in self._pages:
            page.saved()
        self.applied.emit(result.settings)
        self.accept()
        return True

    def _answered(self, side: Side | None, conflicts: tuple[Conflict, ...]) -> None:
        """The question's answer: save with that side's values, or (Cancel) back to the dialog."""
        if side is None:
            self.error_label.setText(
                "Not saved: OK asks again which change to keep; Cancel keeps the other change."
            )
            self.error_label.show()
            return
        self._save_merged(side, conflicts)

    def _end_tasks(self) -> None:
        """Closing ends the dialog's network work: its tasks are cancelled (they unwind on their own)."""
        self._tasks.close()

    def done(self, result: int) -> None:
        """Closing (OK, Cancel, Esc, the window button) cancels the dialog's network work."""
        self._end_tasks()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._end_tasks()
        super().closeEvent(event)


__all__ = ["PAGES", "SECTIONS", "SettingsDialog"]
