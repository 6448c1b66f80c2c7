"""Prompt presets, Qt-free: flags > preset > profile, and what the chat's picker applies."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from trayai.core.errors import ConfigError
from trayai.core.net.client import GenerationOptions
from trayai.core.settings.config import DEFAULT_PRESETS, GenerationParams, Preset
from trayai.core.settings.prompt_presets import (
    PresetValues,
    apply_preset,
    find_preset,
    matching_preset,
    preset_values,
    request_options,
)

PROFILE = GenerationParams(temperature=0.7, top_p=0.9, max_tokens=1024, system_prompt="Be kind.")


@dataclass(frozen=True)
class Options:
    """Shaped like the chat's ChatOptions (which this module must not import)."""

    model: str | None
    system_prompt: str
    temperature: float | None
    max_tokens: int | None


def test_find_preset_or_say_which_there_are() -> None:
    presets = list(DEFAULT_PRESETS)
    assert find_preset(presets, "Translator") is presets[2]
    with pytest.raises(ConfigError) as caught:
        find_preset(presets, "Pirate")
    assert str(caught.value) == "No preset named 'Pirate' — presets: 'Concise', 'Code reviewer', 'Translator'"
    with pytest.raises(ConfigError, match="none"):
        find_preset([], "Pirate")


def test_a_preset_sets_what_it_gives_and_leaves_the_rest_to_the_profile() -> None:
    full = Preset("Full", "Be brief.", 0.1, 50)
    assert preset_values(full, PROFILE) == PresetValues("Be brief.", 0.1, 50)
    partial = Preset("Partial", "", None, 200)
    assert preset_values(partial, PROFILE) == PresetValues("Be kind.", 0.7, 200)
    assert preset_values(None, PROFILE) == PresetValues("Be kind.", 0.7, 1024)
    zero = Preset("Zero", "x", 0.0, None)
    assert preset_values(zero, PROFILE).temperature == 0.0  # 0 is a choice, not "unset"


def test_request_options_flags_win_over_the_preset() -> None:
    preset = Preset("Cold", "Be exact.", 0.1, 64)
    system, options = request_options(PROFILE, preset)
    assert system == "Be exact."
    assert options == GenerationOptions(temperature=0.1, top_p=0.9, max_tokens=64)
    system, options = request_options(PROFILE, preset, system="Flag.", temperature=0.0, max_tokens=5)
    assert system == "Flag."
    assert options == GenerationOptions(temperature=0.0, top_p=0.9, max_tokens=5)
    system, options = request_options(PROFILE, None)
    assert (system, options.temperature, options.max_tokens) == ("Be kind.", 0.7, 1024)


def test_apply_preset_to_chat_like_options() -> None:
    options = Options("ai/qwen3", "Be kind.", 0.7, 1024)
    applied = apply_preset(options, Preset("Cold", "Be exact.", 0.1, None), PROFILE)
    assert applied == Options("ai/qwen3", "Be exact.", 0.1, 1024)  # the model is the conversation's
    assert apply_preset(applied, None, PROFILE) == options  # "no preset" goes back to the profile's
    assert PresetValues("s", 0.1, 3).options() == {"system_prompt": "s", "temperature": 0.1, "max_tokens": 3}


def test_matching_preset_tells_the_picker_which_is_chosen() -> None:
    presets = [Preset("Cold", "Be exact.", 0.1, None), Preset("Terse", "", None, 50)]
    assert matching_preset(presets, Options(None, "Be exact.", 0.1, 1024), PROFILE) is presets[0]
    assert matching_preset(presets, Options(None, "Be kind.", 0.7, 50), PROFILE) is presets[1]
    assert matching_preset(presets, Options(None, "Be kind.", 0.7, 1024), PROFILE) is None
