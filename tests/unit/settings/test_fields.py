"""Each setting described once from its type hint and metadata: kinds, bounds, choices, defaults."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from trayai.core.errors import ConfigError
from trayai.core.settings.config import (
    DEFAULT_BASE_URL,
    LIST_FIELDS,
    SCHEMA_VERSION,
    BuiltinServerSettings,
    GenerationParams,
    Profile,
    Settings,
)
from trayai.core.settings.fields import describe_fields


def leaf_fields(cls: type[Any], prefix: str = "") -> set[str]:
    names: set[str] = set()
    for f in dataclasses.fields(cls):
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        if dataclasses.is_dataclass(default):
            names |= leaf_fields(type(default), f"{prefix}{f.name}.")
        elif f.name not in LIST_FIELDS:
            names.add(f"{prefix}{f.name}")
    return names


@pytest.mark.parametrize("cls", [Settings, Profile, GenerationParams, BuiltinServerSettings])
def test_describe_fields_describes_every_field(cls: type[Any]) -> None:
    rows = describe_fields(cls)
    assert {key for key, _, _ in rows} == leaf_fields(cls)
    for key, description, _ in rows:
        assert description.strip(), key
        assert description.endswith((".", ")")), key


def test_describe_fields_gives_defaults() -> None:
    rows = {key: default for key, _, default in describe_fields(Settings)}
    assert rows["builtin_server.port"] == 8080
    assert rows["left_click"] == "chat"
    assert rows["schema_version"] == SCHEMA_VERSION
    profile_rows = {key: default for key, _, default in describe_fields(Profile)}
    assert profile_rows["base_url"] == DEFAULT_BASE_URL
    assert profile_rows["generation.temperature"] == 0.7
    assert profile_rows["generation.top_p"] is None


def test_field_specs_read_the_type_hints_once() -> None:
    """Kinds, optionality, bounds and choices come from the annotations, not from substrings."""
    from trayai.core.settings.fields import field_spec, field_specs

    temperature = field_spec(GenerationParams, "temperature")
    assert (temperature.kind, temperature.optional, temperature.minimum, temperature.maximum) == (
        "float",
        True,
        0.0,
        2.0,
    )
    max_tokens = field_spec(GenerationParams, "max_tokens")
    assert (max_tokens.kind, max_tokens.optional) == ("int", True)
    assert field_spec(BuiltinServerSettings, "port").kind == "int"
    assert field_spec(Settings, "notifications").kind == "bool"
    left_click = field_spec(Settings, "left_click")
    assert (left_click.kind, left_click.choices) == ("str", ("chat", "prompt", "menu"))
    assert field_spec(Settings, "builtin_server").nested is BuiltinServerSettings
    assert field_spec(Settings, "profiles").kind == "object"
    assert field_specs(Profile) is field_specs(Profile)  # computed once per class


def test_text_settings_keep_text_that_looks_like_a_number() -> None:
    from trayai.core.settings.edit import set_setting

    settings = Settings()
    set_setting(settings, "builtin_server.models_dir", "2024")
    set_setting(settings, "profile.model", "7")
    assert settings.builtin_server.models_dir == "2024"
    assert settings.active().model == "7"
    with pytest.raises(ConfigError, match="is not one of chat, prompt, menu"):
        set_setting(settings, "left_click", "tray")
