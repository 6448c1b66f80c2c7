"""What settings must never be saved (nor kept on loading): profiles without a name or a usable base
URL, fallbacks to no profile, presets, actions and per-model settings with bad names, values or
templates. The store refuses such settings; the dialog's rules (core/settings/rules.py) say the same
in its own words first.
"""

from __future__ import annotations

from collections.abc import Sequence

from trayai.core.errors import ConfigError
from trayai.core.net.urls import InvalidURLError, normalize_base_url
from trayai.core.settings.config import MAX_NAME, Action, ModelSettings, Preset, Settings
from trayai.core.settings.fields import coerce_value, field_specs
from trayai.core.templates import template_problem
from trayai.core.textsafe import escape_line


def validate_settings(settings: Settings) -> None:
    """Raise :class:`ConfigError` for settings that must never be saved."""

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
    for items in (settings.presets, settings.actions, settings.model_settings):
        problem = items_problem(items)
        if problem:
            raise ConfigError(problem)


MAX_MODEL_NAME = 255  # a file name's length: library names are GGUF file names without .gguf
MAX_TEMPLATE_SETTING = 4096  # characters of a chat template override (a name or a path)


def model_entry_problem(entry: ModelSettings) -> str | None:
    """What makes one model's settings unusable: a name that is no file name, a value out of bounds,
    a template override that is not one line. Whether the name is a known template or the file is
    there is checked when it is set and when the model loads (a file may come and go meanwhile)."""
    name = entry.name
    if not isinstance(name, str) or not name.strip():
        return "Model settings need the model's name"
    if len(name) > MAX_MODEL_NAME or escape_line(name) != name:
        return f"The model name {escape_line(name)[:40]!r} is not a library model's name"
    for spec in field_specs(ModelSettings).values():
        try:
            coerce_value(getattr(entry, spec.name), spec)
        except ConfigError as exc:
            return f"Model {name!r}: {spec.name}: {exc}"
    template = entry.chat_template
    if template != template.strip() or escape_line(template) != template:
        return f"Model {name!r}: the chat template must be one line without leading or trailing spaces"
    if len(template) > MAX_TEMPLATE_SETTING:
        return f"Model {name!r}: the chat template setting is longer than {MAX_TEMPLATE_SETTING} characters"
    return None


def item_problem(item: Preset | Action | ModelSettings) -> str | None:
    """What makes one preset or action unusable, as a sentence; None when it is fine.

    Names are short single lines (they are menu entries, CLI arguments and part of an IPC command);
    every value is checked against its field's kind and bounds; an action's template must parse.
    """
    if isinstance(item, ModelSettings):
        return model_entry_problem(item)
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


def item_clash(
    item: Preset | Action | ModelSettings, taken: Sequence[Preset | Action | ModelSettings]
) -> str | None:
    """Why ``item`` cannot join ``taken``: a name, or (actions) a key, that one of them has."""
    if any(other.name == item.name for other in taken):
        if isinstance(item, ModelSettings):
            return f"Two entries of model settings are for {item.name!r}"
        return f"Two {'presets' if isinstance(item, Preset) else 'actions'} are named {item.name!r}"
    if isinstance(item, Action):
        other = next((a for a in taken if isinstance(a, Action) and a.key == item.key), None)
        if other is not None:
            return f"Actions {other.name!r} and {item.name!r} both use key {item.key}"
    return None


def items_problem(items: list[Preset] | list[Action] | list[ModelSettings]) -> str | None:
    """The first problem in a list of presets, actions or model settings (each usable, names and keys
    unique)."""
    seen: list[Preset | Action | ModelSettings] = []
    for item in items:
        problem = item_problem(item) or item_clash(item, seen)
        if problem:
            return problem
        seen.append(item)
    return None
