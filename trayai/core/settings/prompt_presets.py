"""Prompt presets ("assistants"): finding one by name, and what it changes in a request's options
(docs/architecture.md, "Presets and actions").

Qt-free, one rule for ``trayai ask --preset`` and the chat window's per-conversation picker: a preset
sets the system prompt, temperature and max tokens it gives; what it leaves out (an empty system
prompt, None) is the profile's. Flags given on the command line win over both.
(``core/settings/presets.py`` is another thing: the base URLs the settings dialog offers for endpoints.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypedDict, TypeVar

from trayai.core.errors import ConfigError
from trayai.core.net.client import GenerationOptions
from trayai.core.settings.config import GenerationParams, Preset
from trayai.core.settings.precedence import given_or
from trayai.core.suggest import did_you_mean
from trayai.core.textsafe import escape_line


class PresetOptions(Protocol):
    """What a preset changes: any dataclass with these fields (the chat's ``ChatOptions`` is one)."""

    @property
    def system_prompt(self) -> str: ...
    @property
    def temperature(self) -> float | None: ...
    @property
    def max_tokens(self) -> int | None: ...


OptionsT = TypeVar("OptionsT", bound=PresetOptions)


class PresetOptionValues(TypedDict):
    """:class:`PresetValues` as the chat's option keywords."""

    system_prompt: str
    temperature: float | None
    max_tokens: int | None


@dataclass(frozen=True)
class PresetValues:
    """The system prompt and parameters a conversation gets under a preset (or under none)."""

    system_prompt: str
    temperature: float | None
    max_tokens: int | None

    def options(self) -> PresetOptionValues:
        """As keyword arguments: ``ChatController.set_options(**values.options())``."""
        return PresetOptionValues(
            system_prompt=self.system_prompt, temperature=self.temperature, max_tokens=self.max_tokens
        )


def find_preset(presets: Iterable[Preset], name: str) -> Preset:
    """The preset called ``name``; a :class:`ConfigError` listing the names there are otherwise (the
    closest first: a typo is the usual reason)."""
    presets = list(presets)
    for preset in presets:
        if preset.name == name:
            return preset
    names = ", ".join(repr(p.name) for p in presets) or "none (add one with `trayai preset add`)"
    if near := did_you_mean(name, (p.name for p in presets)):
        raise ConfigError(f"No preset named {escape_line(name)!r}{near} (presets: {names})")
    raise ConfigError(f"No preset named {escape_line(name)!r} — presets: {names}")


def preset_values(preset: Preset | None, defaults: GenerationParams) -> PresetValues:
    """The values under ``preset`` for a profile whose generation defaults are ``defaults``.

    ``None`` (no preset) gives the profile's own values, so switching presets back and forth never
    leaves one preset's temperature behind.
    """
    if preset is None:
        return PresetValues(defaults.system_prompt, defaults.temperature, defaults.max_tokens)
    return PresetValues(
        preset.system_prompt or defaults.system_prompt,
        given_or(preset.temperature, defaults.temperature),
        given_or(preset.max_tokens, defaults.max_tokens),
    )


def apply_preset(options: OptionsT, preset: Preset | None, defaults: GenerationParams) -> OptionsT:
    """``options`` (a dataclass such as ``ChatOptions``) with the preset's values; the rest kept."""
    return dataclasses.replace(options, **preset_values(preset, defaults).options())  # type: ignore[type-var]


def matching_preset(
    presets: Sequence[Preset], options: PresetOptions, defaults: GenerationParams
) -> Preset | None:
    """The first preset whose values ``options`` has (what a picker shows as chosen), else None."""
    current = PresetValues(options.system_prompt, options.temperature, options.max_tokens)
    return next((p for p in presets if preset_values(p, defaults) == current), None)


def request_options(
    params: GenerationParams,
    preset: Preset | None,
    *,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> tuple[str, GenerationOptions]:
    """A one-off request's system prompt and options: the flags given, else the preset, else the profile."""
    values = preset_values(preset, params)
    options = GenerationOptions(
        temperature=given_or(temperature, values.temperature),
        top_p=params.top_p,
        max_tokens=given_or(max_tokens, values.max_tokens),
    )
    return given_or(system, values.system_prompt), options


__all__ = [
    "PresetOptions",
    "PresetValues",
    "apply_preset",
    "find_preset",
    "matching_preset",
    "preset_values",
    "request_options",
]
