"""Loading and saving the settings file: non-default values only, atomic 0600 saves, environment and
``.env`` overrides that are never saved, damaged files set aside (never lost), the settings lock and
:meth:`ConfigStore.update` (re-read, change, save under it). See docs/architecture.md, "Resolving what
to talk to" and "Saving without losing a change".
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from trayai.core.errors import ConfigError
from trayai.core.filelock import FileLockedError, exclusive_lock
from trayai.core.files import atomic_write_text, copy_aside, move_aside
from trayai.core.paths import AppPaths, ensure_private_dir
from trayai.core.settings.config import (
    LIST_FIELDS,
    SCHEMA_VERSION,
    Action,
    ModelSettings,
    Preset,
    Profile,
    Settings,
)
from trayai.core.settings.envfile import EnvValue, read_env_file
from trayai.core.settings.fields import coerce_value, field_specs
from trayai.core.settings.migrations import migrate
from trayai.core.settings.validate import item_clash, item_problem, validate_settings

ENV_BASE_URL = "LOCAL_MODEL_BASE_URL"
ENV_MODEL = "LOCAL_MODEL_NAME"
ENV_API_KEY = "LOCAL_API_KEY"
T = TypeVar("T")


@dataclass(frozen=True)
class Override:
    """A value that came from the environment or a ``.env`` file and must not be saved."""

    setting: str  # e.g. "base_url"
    variable: str  # e.g. "LOCAL_MODEL_BASE_URL"
    value: str
    source: str  # "environment" or "/path/.env:3"


@dataclass
class LoadedConfig:
    """Settings as stored, plus run-time overrides and whatever went wrong while loading."""

    settings: Settings
    overrides: dict[str, Override] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    path: Path | None = None

    def effective_profile(self, name: str | None = None) -> Profile:
        """The profile to use: ``name`` as stored, or the active one with env overrides applied.

        Overrides apply only to the active profile: choosing another profile by name is an explicit
        choice that the environment must not silently redirect.
        """
        if name is not None and name != self.settings.active().name:
            return copy.deepcopy(self.settings.profile(name))
        profile = copy.deepcopy(self.settings.active())
        if "base_url" in self.overrides:
            profile.base_url = self.overrides["base_url"].value
        if "model" in self.overrides:
            profile.model = self.overrides["model"].value
        return profile

    @property
    def env_api_key(self) -> Override | None:
        return self.overrides.get("api_key")


@dataclass(frozen=True)
class Updated(Generic[T]):
    """What :meth:`ConfigStore.update` saved: the change's own result and the settings written."""

    value: T
    settings: Settings


class ConfigStore:
    """Loads and saves :class:`Settings` at ``paths.config_file``."""

    LOCK_WAIT = 5.0  # seconds a writer waits for another's read-modify-write before giving up
    LOCK_POLL = 0.01  # seconds between attempts to take the lock

    def __init__(
        self, paths: AppPaths, *, environ: Mapping[str, str] | None = None, cwd: Path | None = None
    ) -> None:
        self.paths = paths
        self._environ = os.environ if environ is None else environ
        self._cwd = cwd

    @property
    def path(self) -> Path:
        return self.paths.config_file

    def load(self) -> LoadedConfig:
        """Read the file (tolerating any damage), then collect environment overrides."""
        warnings: list[str] = []
        settings = self._load_settings(warnings)
        overrides = self._collect_overrides()
        return LoadedConfig(settings=settings, overrides=overrides, warnings=warnings, path=self.path)

    def save(self, settings: Settings) -> Path:
        """Write only non-default values (a file a person can read and diff), atomically, mode 0600.

        This writes ``settings`` whole: a writer that held them for a while merges first
        (core/settings/merge.py), one that changes a field uses :meth:`update`.
        """
        validate_settings(settings)
        data = settings_to_dict(settings)
        text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
        atomic_write_text(self.path, text)
        return self.path

    @property
    def lock_path(self) -> Path:
        """The file locked around a read-modify-write (not the config itself: a save replaces it)."""
        return self.path.with_name(f".{self.path.name}.lock")

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """Hold the settings lock, so the CLI, the tray and the dialog never interleave a
        read-modify-write; waits up to ``LOCK_WAIT`` for another holder (each holds it for milliseconds)."""

        ensure_private_dir(self.lock_path.parent)
        os.close(os.open(self.lock_path, os.O_WRONLY | os.O_CREAT, 0o600))  # user-only before it is locked
        with contextlib.ExitStack() as stack:
            try:
                lock = exclusive_lock(
                    self.lock_path, what="another trayai", wait=self.LOCK_WAIT, poll=self.LOCK_POLL
                )
                stack.enter_context(lock)
            except FileLockedError:
                raise ConfigError(
                    f"The settings are being saved by another trayai process ({self.lock_path} is locked "
                    f"for more than {self.LOCK_WAIT:g} s)",
                    hint="Try again; if it lasts, end the trayai process that hangs.",
                ) from None
            yield

    def read_current(self) -> Settings | None:
        """The settings in the file now, or None when it is missing, unreadable or has invalid values.

        Unlike :meth:`load` nothing is moved aside: a merge treats such a file as holding nobody's change.
        """
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                return None
            raw = migrate(raw, [])
        except (OSError, UnicodeDecodeError, ValueError):
            return None
        problems: list[str] = []
        settings = settings_from_dict(raw, problems)
        return None if problems else settings

    def update(self, change: Callable[[Settings], T]) -> Updated[T]:
        """Re-read the file, apply ``change`` to it and save, under the lock: a one-field writer (the
        CLI, the tray's model or endpoint choice) keeps every other change, whoever made it."""
        with self.locked():
            settings = self._load_settings([])
            value = change(settings)
            self.save(settings)
        return Updated(value, settings)

    # -- internals

    def _load_settings(self, warnings: list[str]) -> Settings:
        """Damage never stops the app: an unreadable file is moved aside, invalid values are reset
        (after copying the file aside), and ``warnings`` says where the user's file went."""
        path = self.path
        if not path.exists():
            return Settings()
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(raw, dict):
                raise ValueError("the top level is not a JSON object")
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            moved = _set_aside(move_aside, path, "corrupt")
            where = f"it was moved to {moved}" if moved else "it could not be moved aside"
            warnings.append(
                f"The configuration file {path} could not be read ({_short(exc)}); defaults are used "
                f"and {where}."
            )
            return Settings()
        try:
            raw = migrate(raw, warnings)
        except ValueError as exc:
            moved = _set_aside(move_aside, path, "unsupported")
            warnings.append(
                f"The configuration file {path} {exc}; defaults are used and it was moved to {moved}."
            )
            return Settings()
        problems: list[str] = []
        settings = settings_from_dict(raw, problems)
        if problems:
            backup = _set_aside(copy_aside, path, "invalid")
            warnings.append(
                "Some settings were invalid and reset to their defaults: "
                + "; ".join(problems)
                + (f". The original file was copied to {backup}." if backup else ".")
            )
        return settings

    def _collect_overrides(self) -> dict[str, Override]:
        """Process environment first, then ``./.env``, then the config dir's ``.env``."""
        sources: list[dict[str, EnvValue]] = []
        cwd = self._cwd if self._cwd is not None else Path.cwd()
        sources.append(read_env_file(cwd / ".env"))
        if self.paths.env_file.resolve() != (cwd / ".env").resolve():
            sources.append(read_env_file(self.paths.env_file))
        result: dict[str, Override] = {}
        for setting, variable in (("base_url", ENV_BASE_URL), ("model", ENV_MODEL), ("api_key", ENV_API_KEY)):
            value = self._environ.get(variable, "").strip()
            if value:
                result[setting] = Override(setting, variable, value, "environment")
                continue
            for env_file in sources:
                if variable in env_file and env_file[variable].value.strip():
                    entry = env_file[variable]
                    result[setting] = Override(setting, variable, entry.value.strip(), entry.source)
                    break
        return result


# --------------------------------------------------------------------------- (de)serialisation


def settings_to_dict(settings: Settings) -> dict[str, Any]:
    """Only values that differ from the defaults; ``schema_version`` is always written.

    ``Any``, not ``object``: the file's shape nests per field (profiles hold generation objects), and
    its readers (json.dumps, the tests' checks of what is written) index into it freely.
    """
    data = _diff(settings, Settings())
    data["schema_version"] = SCHEMA_VERSION
    defaults = Settings()
    if settings.profiles != defaults.profiles:
        data["profiles"] = [_diff(p, Profile()) | {"name": p.name} for p in settings.profiles]
    if settings.presets != defaults.presets:
        data["presets"] = [{"name": p.name} | _diff(p, Preset()) for p in settings.presets]
    if settings.actions != defaults.actions:
        # all three fields, always: an action reads as a whole ("{selection}" is also the default template)
        data["actions"] = [
            {"name": a.name, "key": a.key, "template": a.template}
            | ({"replaces": True} if a.replaces else {})
            for a in settings.actions
        ]
    if settings.model_settings:
        data["model_settings"] = [
            {"name": m.name} | _diff(m, ModelSettings()) for m in settings.model_settings
        ]
    return data


def _diff(obj: Any, default: Any) -> dict[str, object]:
    out: dict[str, object] = {}
    for f in dataclasses.fields(obj):
        value, base = getattr(obj, f.name), getattr(default, f.name)
        if f.name in LIST_FIELDS:
            continue
        if dataclasses.is_dataclass(value):
            nested = _diff(value, base)
            if nested:
                out[f.name] = nested
        elif value != base:
            out[f.name] = value
    return out


def settings_from_dict(data: Mapping[str, object], problems: list[str]) -> Settings:
    """Build :class:`Settings`, resetting (and reporting in ``problems``) each invalid value."""
    settings: Settings = _fill(Settings, data, "", problems)
    raw_profiles = data.get("profiles")
    if raw_profiles is not None:
        profiles: list[Profile] = []
        if not isinstance(raw_profiles, list):
            problems.append("profiles: expected a list")
        else:
            for index, item in enumerate(raw_profiles):
                if not isinstance(item, dict):
                    problems.append(f"profiles[{index}]: expected an object")
                    continue
                profile = _fill(Profile, item, f"profiles[{index}].", problems)
                if any(p.name == profile.name for p in profiles):
                    problems.append(f"profiles[{index}]: duplicate name {profile.name!r} dropped")
                    continue
                profiles.append(profile)
        settings.profiles = profiles or [Profile()]
    if not settings.has_profile(settings.active_profile):
        if "active_profile" in data:
            problems.append(f"active_profile: no profile named {settings.active_profile!r}")
        settings.active_profile = settings.profiles[0].name
    presets = _items_from(data, "presets", Preset, problems)
    if presets is not None:
        settings.presets = presets
    actions = _items_from(data, "actions", Action, problems)
    if actions is not None:
        settings.actions = actions
    model_settings = _items_from(data, "model_settings", ModelSettings, problems)
    if model_settings is not None:
        settings.model_settings = model_settings
    return settings


def _items_from(
    data: Mapping[str, object], key: str, cls: type[Any], problems: list[str]
) -> list[Any] | None:
    """The presets or actions in ``data`` (None: absent or not a list, so the defaults stay).

    Each unusable item is dropped and reported: an empty list is a choice, kept as such.
    """
    raw = data.get(key)
    if raw is None:
        return None
    if not isinstance(raw, list):
        problems.append(f"{key}: expected a list")
        return None
    items: list[Any] = []
    for index, entry in enumerate(raw):
        where = f"{key}[{index}]"
        if not isinstance(entry, dict):
            problems.append(f"{where}: expected an object")
            continue
        item = _fill(cls, entry, f"{where}.", problems)
        problem = item_problem(item) or item_clash(item, items)
        if problem:
            problems.append(f"{where}: {problem} (dropped)")
            continue
        items.append(item)
    return items


def _fill(cls: type[Any], data: Mapping[str, object], prefix: str, problems: list[str]) -> Any:
    obj = cls()
    specs = field_specs(cls)
    for f in dataclasses.fields(obj):
        if f.name in LIST_FIELDS or f.name not in data:
            continue
        value = data[f.name]
        default = getattr(obj, f.name)
        if dataclasses.is_dataclass(default):
            if isinstance(value, dict):
                setattr(obj, f.name, _fill(type(default), value, f"{prefix}{f.name}.", problems))
            else:
                problems.append(f"{prefix}{f.name}: expected an object")
            continue
        try:
            setattr(obj, f.name, coerce_value(value, specs[f.name]))
        except ConfigError as exc:
            problems.append(f"{prefix}{f.name}: {exc}")
    return obj


def _set_aside(how: Callable[[Path, str], Path], path: Path, reason: str) -> Path | None:
    """Move or copy the user's file aside; None when that failed (the warning says so)."""
    try:
        return how(path, reason)
    except OSError:
        return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 120 else text[:117] + "…"
