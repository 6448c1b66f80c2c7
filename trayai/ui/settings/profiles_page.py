"""The Endpoints page: the profile list (add, duplicate, delete, use) beside the chosen profile's
fields — name, base URL (from a preset, normalised live), model, API key, timeouts, fallbacks — with
its server asked live (``server_checks.py``) and its key held until OK (``profile_keys.py``).

Profiles are kept under stable ids (names change while typing); values an environment variable or
``.env`` sets for the active profile are shown locked and never stored.
"""

from __future__ import annotations

import copy
import itertools
import logging
from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QBoxLayout,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from trayai.core.net.urls import InvalidURLError, normalize_base_url
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.presets import PRESETS
from trayai.core.settings.rules import (
    EditedProfile,
    duplicate_name,
    follow_active,
    follow_renames,
    profile_problem,
    unique_name,
)
from trayai.core.settings.secrets import PLACEHOLDER_KEY
from trayai.ui.settings.fallback_picker import FallbackEditor
from trayai.ui.settings.fields import FieldEditor, field_of, form, label_for
from trayai.ui.settings.lists import LIST_WIDTH, set_list_beside
from trayai.ui.settings.page import PageContext, ProfilePart, SettingsPage
from trayai.ui.settings.profile_keys import PendingKeys
from trayai.ui.settings.server_checks import ServerChecks, Target

log = logging.getLogger(__name__)

PROFILE_FIELDS = ("first_token_timeout", "stall_timeout", "answer_timeout", "context_tokens", "fallback")
IN_USE = "  (in use)"


class ProfilesPage(SettingsPage):
    """Edits the profiles it was loaded with and which one is active; per-profile values shown on other
    pages (``ProfilePart``s, given with ``drive``) follow the profile selected here."""

    section = "Endpoints"
    rows_at_top = False

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self._loaded = context.loaded
        self._running = context.running
        self.keys = PendingKeys(context.secrets)
        self.checks = ServerChecks(context.tasks, context.client_factory, self._typed_target)
        self._parts: tuple[ProfilePart, ...] = ()
        self._uids = itertools.count(1)
        self._edited: list[EditedProfile] = []
        self._original_names: dict[int, str] = {}  # uid → name when loaded
        self._current: EditedProfile | None = None
        self._active = ""  # the active profile's name
        self._active_loaded = ""  # … when loaded
        self._build()

    # ------------------------------------------------------------------ layout

    def _build(self) -> None:
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
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("api_key")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_clear = QPushButton("Remove key")
        key_row = QHBoxLayout()
        key_row.addWidget(self.key_edit, 1)
        key_row.addWidget(self.key_clear)
        self.key_note = QLabel()
        self.key_note.setWordWrap(True)
        self.fallback = FallbackEditor(field_of(Profile, "fallback"))
        self.editors = {
            name: self.fallback if name == "fallback" else FieldEditor(field_of(Profile, name))
            for name in PROFILE_FIELDS
        }

        fields = form()
        fields.addRow("&Name", self.name_edit)
        fields.addRow("Preset", self.preset_combo)
        fields.addRow("&Base URL", self.url_edit)
        fields.addRow("", self.url_note)
        model_label = QLabel("&Model")
        model_label.setBuddy(self.checks.model_combo)
        fields.addRow(model_label, self.checks.model_row)
        fields.addRow("", self.checks.models_note)
        key_label = QLabel("API &key")
        key_label.setBuddy(self.key_edit)
        fields.addRow(key_label, key_row)
        fields.addRow("", self.key_note)
        for name, editor in self.editors.items():
            fields.addRow(label_for(name), editor.widget)
        test_row = QHBoxLayout()
        test_row.addWidget(self.checks.test_button)
        test_row.addStretch(1)
        fields.addRow(test_row)
        fields.addRow(self.checks.test_result)  # its own panel, the form's whole width
        right = QWidget()
        right.setLayout(fields)
        self._layout = QBoxLayout(QBoxLayout.Direction.LeftToRight, self)
        self._layout.addLayout(left)
        self._layout.addWidget(right, 1)

        self.profiles.currentRowChanged.connect(self._on_profile_selected)
        self.add_button.clicked.connect(self.add_profile)
        self.duplicate_button.clicked.connect(self.duplicate_profile)
        self.delete_button.clicked.connect(self.delete_profile)
        self.use_button.clicked.connect(self.use_current)
        self.preset_combo.activated.connect(self._on_preset)
        self.url_edit.textChanged.connect(self._on_url_changed)
        self.key_edit.textEdited.connect(self._on_key_edited)
        self.key_clear.clicked.connect(self._on_key_cleared)
        self.name_edit.textEdited.connect(self._on_name_edited)

    def set_narrow(self, *, narrow: bool) -> None:
        set_list_beside(self._layout, self.profiles, beside=not narrow)

    def drive(self, parts: Sequence[ProfilePart]) -> None:
        """Show the selected profile on these other pages too (call before ``load``)."""
        self._parts = tuple(parts)

    # ------------------------------------------------------------------ the contract

    def load(self, settings: Settings) -> None:
        self._edited = [EditedProfile(next(self._uids), p) for p in settings.profiles]
        self._original_names = {e.uid: e.profile.name for e in self._edited}
        self._active = self._active_loaded = settings.active_profile
        self._current = None
        self._fill_profiles()

    def store(self, settings: Settings) -> None:
        self._store_current()
        settings.profiles = [e.profile for e in self._edited]
        settings.active_profile = self._active

    def problem(self) -> str | None:
        """A profile without a name, a usable URL (normalised in place) or a model; two of one name."""
        self._store_current()
        for entry in self._edited:
            url_locked = self._locked(entry.profile, "base_url") is not None
            message = profile_problem(entry.profile, url_locked=url_locked)
            if message:
                self.select(entry.uid)
                return message
        twin = duplicate_name([e.profile for e in self._edited])
        if twin is not None:
            self.select(next(e.uid for e in self._edited if e.profile is twin))
            return f"Two endpoints are named “{twin.name}”: names must differ."
        return None

    def follow_names(self, settings: Settings) -> None:
        """Once every page is right: the active profile and fallbacks follow renames (before saving)."""
        follow_active(settings, self._edited, self._original_names)
        follow_renames(self._edited, self._original_names)
        self._active = settings.active_profile

    def origins(self) -> dict[str, str | None]:
        """Each profile's name now → its name when loaded (None: added here), for the merge."""
        return {e.profile.name: self._original_names.get(e.uid) for e in self._edited}

    def apply_keys(self) -> list[str]:
        """Write the keys typed here through the keychain (OK); its warnings."""
        return self.keys.apply(self._edited, self._original_names)

    # ------------------------------------------------------------------ the list

    def _fill_profiles(self, select: str | None = None) -> None:
        self.profiles.blockSignals(True)
        self.profiles.clear()
        for entry in self._edited:
            profile = entry.profile
            item = QListWidgetItem(profile.name + (IN_USE if profile.name == self._in_use() else ""))
            item.setData(Qt.ItemDataRole.UserRole, entry.uid)
            self.profiles.addItem(item)
        self.profiles.blockSignals(False)
        names = [e.profile.name for e in self._edited]
        wanted = select if select in names else (self._active if self._active in names else names[0])
        self._current = None
        self.profiles.setCurrentRow(names.index(wanted))
        self._on_profile_selected(names.index(wanted))

    def _entry_at(self, row: int) -> EditedProfile | None:
        if not 0 <= row < self.profiles.count():
            return None
        wanted = self.profiles.item(row).data(Qt.ItemDataRole.UserRole)
        return next((e for e in self._edited if e.uid == wanted), None)

    def _on_profile_selected(self, row: int) -> None:
        self._store_current()
        entry = self._entry_at(row)
        self._current = entry
        if entry is not None:
            self._load_profile(entry)

    def select(self, uid: int) -> None:
        """Show the profile of this id (a problem is about it)."""
        for row in range(self.profiles.count()):
            entry = self._entry_at(row)
            if entry is not None and entry.uid == uid:
                self.profiles.blockSignals(True)
                self.profiles.setCurrentRow(row)
                self.profiles.blockSignals(False)
                self._current = entry
                self._load_profile(entry)
                return

    def _in_use(self) -> str | None:
        """The profile this run talks to (None: an ``--endpoint`` run uses none); once one is chosen
        here, that one — OK makes it the one in use."""
        running = self._running
        if running is None or self._active != self._active_loaded:
            return self._active
        return running.own_profile

    def add_profile(self) -> None:
        self._store_current()
        # No model yet: Refresh / Test connection fill it from the server's own list.
        name = unique_name("New endpoint", (e.profile.name for e in self._edited))
        profile = Profile(name=name, model="")
        self._edited = [*self._edited, EditedProfile(next(self._uids), profile)]
        self._current = None
        self._fill_profiles(select=profile.name)
        self.name_edit.setFocus()
        self.name_edit.selectAll()
        log.info("settings: profile %r added", profile.name)

    def duplicate_profile(self) -> None:
        if self._current is None:
            return
        source = self._current.profile
        self._store_current()
        profile = copy.deepcopy(source)
        profile.name = unique_name(f"{source.name} (copy)", (e.profile.name for e in self._edited))
        profile.key_in_keychain = False  # keys are per profile: the copy starts without one
        self._edited = [*self._edited, EditedProfile(next(self._uids), profile)]
        self._current = None
        self._fill_profiles(select=profile.name)

    def delete_profile(self) -> None:
        if self._current is None or len(self._edited) <= 1:
            return
        gone = self._current
        self._edited = [e for e in self._edited if e is not gone]
        if self._active == self._original_names.get(gone.uid, gone.profile.name):
            self._active = self._edited[0].profile.name
        self._current = None
        self._fill_profiles()

    def use_current(self) -> None:
        if self._current is None:
            return
        profile = self._current.profile
        self._store_current()
        self._active = profile.name
        self._fill_profiles(select=profile.name)
        log.info("settings: profile %r will be used", profile.name)

    # ------------------------------------------------------------------ the chosen profile

    def _locked(self, profile: Profile, setting: str) -> str | None:
        """Why a value of the active profile cannot be edited here (an environment override)."""
        if profile.name != self._loaded.settings.active().name:
            return None
        override = self._loaded.overrides.get(setting)
        return None if override is None else f"{override.variable} ({override.source})"

    def _load_profile(self, entry: EditedProfile) -> None:
        profile = entry.profile
        self.name_edit.setText(profile.name)
        model_combo = self.checks.model_combo
        for widget, setting, value in (
            (self.url_edit, "base_url", profile.base_url),
            (model_combo, "model", profile.model),
        ):
            locked = self._locked(profile, setting)
            override = self._loaded.overrides.get(setting)
            shown = override.value if locked and override is not None else value
            if isinstance(widget, QLineEdit):
                widget.setText(shown)
            else:
                widget.setEditText(shown)
            widget.setEnabled(locked is None)
            widget.setToolTip(f"Set by {locked}; not saved to the settings file." if locked else "")
        self._on_url_changed(self.url_edit.text())
        self.key_edit.clear()
        key_lock = self._locked(profile, "api_key")
        self.key_edit.setEnabled(key_lock is None)
        self.key_clear.setEnabled(key_lock is None)
        self._show_key_state(entry, key_lock)
        self.fallback.set_choices([e.profile.name for e in self._edited if e is not entry])
        for name, editor in self.editors.items():
            editor.load(getattr(profile, name))
        for part in self._parts:
            part.show_profile(profile)
        self.checks.clear()
        self.delete_button.setEnabled(len(self._edited) > 1)

    def _store_current(self) -> None:
        """Copy the editors into the chosen profile (unchecked; OK validates)."""
        if self._current is None:
            return
        profile = self._current.profile
        profile.name = self.name_edit.text().strip()
        if self._locked(profile, "base_url") is None:
            profile.base_url = self.url_edit.text().strip()
        if self._locked(profile, "model") is None:
            profile.model = self.checks.model_combo.currentText().strip()
        for name, editor in self.editors.items():
            setattr(profile, name, editor.value())
        for part in self._parts:
            part.store_profile(profile)

    def _show_key_state(self, entry: EditedProfile, locked: str | None) -> None:
        self.key_note.setText(self.keys.note(entry, locked))
        self.key_edit.setPlaceholderText("••••••••" if self.keys.shows_stored(entry) else "")

    def _typed_target(self) -> Target | None:
        """The chosen profile's server as typed now (raises ``InvalidURLError`` for an unusable URL)."""
        if self._current is None:
            return None
        entry = self._current
        profile = entry.profile
        self._store_current()
        raw_url = self.url_edit.text() if self._locked(profile, "base_url") else profile.base_url
        url = normalize_base_url(raw_url).url
        key = self.keys.current(entry, self._original_names.get(entry.uid, profile.name))
        if self._locked(profile, "api_key"):
            override = self._loaded.overrides.get("api_key")
            key = override.value if override else key
        model = self.checks.model_combo.currentText().strip()
        return Target(entry.uid, profile, url, key or PLACEHOLDER_KEY, model)

    def _on_name_edited(self, text: str) -> None:
        item = self.profiles.item(self.profiles.currentRow())
        if item is not None and self._current is not None:
            in_use = self._current.profile.name == self._in_use()
            item.setText(text + (IN_USE if in_use else ""))

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
            self.keys.typed(self._current.uid, text)
            self._show_key_state(self._current, None)

    def _on_key_cleared(self) -> None:
        if self._current is not None:
            self.key_edit.clear()
            self.keys.remove(self._current.uid)
            self._show_key_state(self._current, None)


__all__ = ["PROFILE_FIELDS", "ProfilesPage"]
