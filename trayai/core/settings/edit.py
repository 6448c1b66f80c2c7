"""Settings by dotted key (``poll_interval``, ``builtin_server.port``, ``profile.generation.<field>``),
profile add/remove/use and preset add/remove: one implementation for ``trayai config``/``profile``/
``preset`` and the settings dialog, so what the dialog does stays scriptable (docs/architecture.md,
"The settings dialog"). Each changes the ``Settings`` it is given: the CLI and the tray give it the
file as it is now, under the settings lock (``ConfigStore.update``), so no other change is undone.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

from trayai.core.errors import ConfigError
from trayai.core.net.urls import InvalidURLError, normalize_base_url
from trayai.core.settings.config import Preset, Profile, Settings
from trayai.core.settings.fields import FieldSpec, coerce_value, field_spec, setting_specs
from trayai.core.settings.validate import validate_settings

PROFILE_PREFIX = "profile."


def setting_keys() -> list[str]:
    """Every key ``config get/set`` accepts."""
    keys = [k for k, _ in setting_specs(Settings) if k != "schema_version"]
    keys += [PROFILE_PREFIX + k for k, _ in setting_specs(Profile)]
    return keys


def _locate(settings: Settings, key: str, profile: str | None) -> tuple[Any, FieldSpec]:
    """The object holding ``key`` and the spec describing it."""
    if key not in setting_keys():
        raise ConfigError(f"Unknown setting {key!r} — `trayai config show` lists them")
    if key.startswith(PROFILE_PREFIX):
        name = profile or settings.active().name
        if not settings.has_profile(name):
            raise ConfigError(f"No profile named {name!r}")
        owner: Any = settings.profile(name)
        parts = key[len(PROFILE_PREFIX) :].split(".")
    else:
        owner = settings
        parts = key.split(".")
    for part in parts[:-1]:
        owner = getattr(owner, part)
    return owner, field_spec(type(owner), parts[-1])


def get_setting(settings: Settings, key: str, profile: str | None = None) -> Any:
    owner, field = _locate(settings, key, profile)
    return getattr(owner, field.name)


def parse_value(text: str) -> Any:
    """Command-line text to a JSON-ish value: true/false/null, numbers, else the text itself."""
    lowered = text.strip().lower()
    if lowered in ("true", "false", "null", "none"):
        return {"true": True, "false": False}.get(lowered)
    try:
        return json.loads(text)
    except ValueError:
        return text


def set_setting(settings: Settings, key: str, text: str, profile: str | None = None) -> list[str]:
    """Set ``key`` from command-line ``text`` on a copy, validate, then apply; returns notes to show."""
    candidate = copy.deepcopy(settings)
    owner, field = _locate(candidate, key, profile)
    notes: list[str] = []
    value = parse_value(text)
    if field.kind == "str" and value is not None:
        value = text  # always text, even when it looks like a number
    if field.name == "base_url":
        try:
            normalized = normalize_base_url(str(value))
        except InvalidURLError as exc:
            raise ConfigError(str(exc)) from exc
        value = normalized.url
        notes += [f"base URL: {change}" for change in normalized.changes]
    if field.name == "name" and isinstance(owner, Profile):
        old = owner.name
        if candidate.active_profile == old:
            candidate.active_profile = str(value)
    try:
        setattr(owner, field.name, coerce_value(value, field))
    except ConfigError as exc:
        raise ConfigError(f"{key}: {exc}") from exc
    validate_settings(candidate)
    _copy_into(settings, candidate)
    return notes


def add_profile(
    settings: Settings,
    name: str,
    base_url: str,
    model: str | None = None,
    fallback: list[str] | None = None,
) -> list[str]:
    if settings.has_profile(name):
        raise ConfigError(f"A profile named {name!r} exists already")
    try:
        normalized = normalize_base_url(base_url)
    except InvalidURLError as exc:
        raise ConfigError(str(exc)) from exc
    profile = Profile(name=name, base_url=normalized.url)
    if model:
        profile.model = model
    if fallback:
        profile.fallback = ", ".join(fallback)
    candidate = copy.deepcopy(settings)
    candidate.profiles.append(profile)
    validate_settings(candidate)
    _copy_into(settings, candidate)
    return [f"base URL: {change}" for change in normalized.changes]


def remove_profile(settings: Settings, name: str) -> None:
    if not settings.has_profile(name):
        raise ConfigError(f"No profile named {name!r}")
    if len(settings.profiles) == 1:
        raise ConfigError("The last profile cannot be removed (edit it instead)")
    settings.profiles = [p for p in settings.profiles if p.name != name]
    if settings.active_profile == name:
        settings.active_profile = settings.profiles[0].name
    for profile in settings.profiles:  # nobody falls back to a profile that is gone
        if name in profile.fallback_names():
            profile.fallback = ", ".join(n for n in profile.fallback_names() if n != name)


def set_profile(
    settings: Settings,
    name: str,
    *,
    base_url: str | None = None,
    model: str | None = None,
    fallback: list[str] | None = None,
) -> list[str]:
    """Change a profile's URL, model or fallbacks (``[]`` clears them), validated as one edit."""
    if not settings.has_profile(name):
        raise ConfigError(f"No profile named {name!r}")
    candidate = copy.deepcopy(settings)
    notes: list[str] = []
    if base_url is not None:
        notes += set_setting(candidate, "profile.base_url", base_url, name)
    if model is not None:
        set_setting(candidate, "profile.model", model, name)
    if fallback is not None:
        candidate.profile(name).fallback = ", ".join(fallback)
        if name in fallback:
            raise ConfigError(f"Profile {name!r} cannot fall back to itself")
    validate_settings(candidate)
    _copy_into(settings, candidate)
    return notes


def use_profile(settings: Settings, name: str) -> None:
    if not settings.has_profile(name):
        names = ", ".join(repr(p.name) for p in settings.profiles)
        raise ConfigError(f"No profile named {name!r} (profiles: {names})")
    settings.active_profile = name


def add_preset(
    settings: Settings,
    name: str,
    system_prompt: str,
    *,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> Preset:
    """Add a preset (name and values checked as on loading: bounds, a one-line unique name)."""
    name = name.strip()
    if any(p.name == name for p in settings.presets):
        raise ConfigError(f"A preset named {name!r} exists already (remove it first to replace it)")
    preset = Preset(name=name, system_prompt=system_prompt, temperature=temperature, max_tokens=max_tokens)
    candidate = copy.deepcopy(settings)
    candidate.presets.append(preset)
    validate_settings(candidate)
    _copy_into(settings, candidate)
    return preset


def remove_preset(settings: Settings, name: str) -> None:
    if not any(p.name == name for p in settings.presets):
        names = ", ".join(repr(p.name) for p in settings.presets) or "none"
        raise ConfigError(f"No preset named {name!r} (presets: {names})")
    settings.presets = [p for p in settings.presets if p.name != name]


def _copy_into(target: Settings, source: Settings) -> None:
    for f in dataclasses.fields(target):
        setattr(target, f.name, getattr(source, f.name))
