"""Presets and actions in config.json: defaults, minimal saves, round trips, damage, validation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trayai.core.errors import ConfigError
from trayai.core.paths import AppPaths
from trayai.core.settings.config import (
    DEFAULT_ACTIONS,
    DEFAULT_PRESETS,
    SCHEMA_VERSION,
    Action,
    Preset,
    Settings,
)
from trayai.core.settings.edit import setting_keys
from trayai.core.settings.fields import describe_fields
from trayai.core.settings.store import ConfigStore, settings_from_dict, settings_to_dict
from trayai.core.settings.validate import validate_settings


def write_config(paths: AppPaths, data: Any) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.write_text(json.dumps(data), encoding="utf-8")


def saved(paths: AppPaths) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paths.config_file.read_text(encoding="utf-8"))
    return data


def siblings(paths: AppPaths, pattern: str) -> list[Path]:
    return sorted(paths.config_dir.glob(pattern))


def test_the_defaults_are_useful_and_valid() -> None:
    settings = Settings()
    assert [p.name for p in settings.presets] == ["Concise", "Code reviewer", "Translator"]
    assert all(p.system_prompt for p in settings.presets)
    assert [(a.name, a.key) for a in settings.actions] == [
        ("Explain", 1),
        ("Summarise", 2),
        ("Translate to English", 3),
        ("Fix grammar", 4),
    ]
    assert all("{selection}" in a.template for a in settings.actions)
    validate_settings(settings)


def test_defaults_are_not_shared_between_settings() -> None:
    first = Settings()
    first.presets[0].system_prompt = "changed"
    first.actions.pop()
    second = Settings()
    assert second.presets[0].system_prompt == DEFAULT_PRESETS[0].system_prompt != "changed"
    assert len(second.actions) == len(DEFAULT_ACTIONS) == 4


def test_default_presets_and_actions_are_not_written(paths: AppPaths) -> None:
    ConfigStore(paths).save(Settings())
    assert saved(paths) == {"schema_version": SCHEMA_VERSION}


def test_changed_lists_are_written_whole_with_each_items_differences(paths: AppPaths) -> None:
    settings = Settings()
    settings.presets = [Preset("Pirate", "Talk like a pirate.", None, 200)]
    settings.actions = [*settings.actions, Action("Reply", "Write a reply to:\n\n{clipboard}", 5)]
    ConfigStore(paths).save(settings)
    data = saved(paths)
    assert data["presets"] == [{"name": "Pirate", "system_prompt": "Talk like a pirate.", "max_tokens": 200}]
    assert data["actions"][0] == {
        "name": "Explain",
        "key": 1,
        "template": DEFAULT_ACTIONS[0].template,
    }
    assert data["actions"][-1] == {"name": "Reply", "key": 5, "template": "Write a reply to:\n\n{clipboard}"}
    assert list(data["actions"][-1]) == ["name", "key", "template"]  # a person reads the name first


def test_round_trip(paths: AppPaths) -> None:
    settings = Settings()
    settings.presets = [
        Preset("Pirate", "Talk like a pirate.", 1.2, None),
        Preset("Terse", "", None, 50),
        Preset("Ünïcode ✓", "Réponds en français.", 0.0, 1),
    ]
    settings.actions = [Action("Only mine", "{{literal}} {input}: {selection}", 9)]
    store = ConfigStore(paths)
    store.save(settings)
    loaded = store.load()
    assert loaded.warnings == []
    assert loaded.settings.presets == settings.presets
    assert loaded.settings.actions == settings.actions


def test_empty_lists_are_a_choice_kept_across_a_save(paths: AppPaths) -> None:
    settings = Settings()
    settings.presets, settings.actions = [], []
    store = ConfigStore(paths)
    store.save(settings)
    assert saved(paths)["presets"] == [] and saved(paths)["actions"] == []
    loaded = store.load()
    assert (loaded.settings.presets, loaded.settings.actions, loaded.warnings) == ([], [], [])


@pytest.mark.parametrize(
    ("key", "value", "words"),
    [
        ("presets", "Concise", "presets: expected a list"),
        ("actions", {"name": "Explain"}, "actions: expected a list"),
    ],
)
def test_a_list_that_is_not_a_list_keeps_the_defaults(
    paths: AppPaths, key: str, value: Any, words: str
) -> None:
    write_config(paths, {"schema_version": 1, key: value, "poll_interval": 9.0})
    loaded = ConfigStore(paths).load()
    assert getattr(loaded.settings, key) == getattr(Settings(), key)
    assert loaded.settings.poll_interval == 9.0  # the rest of the file is kept
    assert len(loaded.warnings) == 1 and words in loaded.warnings[0]
    assert siblings(paths, "config.json.invalid-*")  # the user's file was copied aside


def test_damaged_items_are_dropped_and_named_the_rest_kept(paths: AppPaths) -> None:
    write_config(
        paths,
        {
            "schema_version": 1,
            "presets": [
                {"name": "Good", "system_prompt": "Be good.", "temperature": 0.5},
                "not an object",
                {"system_prompt": "no name"},
                {"name": "Good", "system_prompt": "a twin"},
                {"name": "Hot", "system_prompt": "x", "temperature": 9.5},
                {"name": "Two\nlines", "system_prompt": "x"},
                {"name": "x" * 65},
            ],
            "actions": [
                {"name": "Ask", "template": "{selection}?", "key": 1},
                {"name": "Typo", "template": "{selectoin}", "key": 2},
                {"name": "Same key", "template": "{clipboard}", "key": 1},
                {"name": "Empty", "template": "  ", "key": 3},
                {"name": "Bad key", "template": "{input}", "key": 12},
                {"name": "Fine", "template": "{input}", "key": 7.0},
            ],
        },
    )
    loaded = ConfigStore(paths).load()
    presets, actions = loaded.settings.presets, loaded.settings.actions
    # an out-of-range value is reset to its default like any setting; the item stays
    assert [(p.name, p.temperature) for p in presets] == [("Good", 0.5), ("Hot", None)]
    # key 12 is reset to the default key 1, which "Ask" has: that one goes
    assert [(a.name, a.key) for a in actions] == [("Ask", 1), ("Fine", 7)]
    assert len(loaded.warnings) == 1
    warning = loaded.warnings[0]
    for words in (
        "presets[1]: expected an object",
        "presets[2]: A preset needs a name (dropped)",
        "presets[3]: Two presets are named 'Good' (dropped)",
        "presets[4].temperature: 9.5 is outside 0.0…2.0",
        "presets[5]: The preset name 'Two\\\\nlines' holds a line break",
        "presets[6]: The preset name",
        "actions[1]: Action 'Typo': unknown placeholder {selectoin}",
        "actions[2]: Actions 'Ask' and 'Same key' both use key 1 (dropped)",
        "actions[3]: Action 'Empty': the template is empty (dropped)",
        "actions[4].key: 12 is outside 1…9",
        "actions[4]: Actions 'Ask' and 'Bad key' both use key 1 (dropped)",
    ):
        assert words in warning, words
    ConfigStore(paths).save(loaded.settings)  # what loading kept can always be saved


def test_settings_from_dict_without_the_lists_keeps_the_defaults() -> None:
    problems: list[str] = []
    settings = settings_from_dict({"schema_version": 1, "presets": None}, problems)
    assert settings.presets == Settings().presets and settings.actions == Settings().actions
    assert problems == []


def test_settings_to_dict_and_back_is_the_identity() -> None:
    settings = Settings()
    settings.presets[1].temperature = None
    settings.actions[2].key = 8
    problems: list[str] = []
    assert settings_from_dict(settings_to_dict(settings), problems) == settings
    assert problems == []


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda s: s.presets.append(Preset("", "x")), "A preset needs a name"),
        (lambda s: s.presets.append(Preset(" Padded", "x")), "starts or ends with a space"),
        (lambda s: s.presets.append(Preset("Concise", "x")), "Two presets are named 'Concise'"),
        (lambda s: s.presets.append(Preset("Hot", "x", temperature=3.0)), "temperature: 3.0 is outside"),
        (lambda s: s.presets.append(Preset("Long", "x", max_tokens=0)), "max_tokens: 0 is outside"),
        (lambda s: s.actions.append(Action("Explain", "{input}", 9)), "Two actions are named 'Explain'"),
        (lambda s: s.actions.append(Action("New", "{input}", 2)), "'Summarise' and 'New' both use key 2"),
        (lambda s: s.actions.append(Action("New", "{input}", 0)), "key: 0 is outside 1…9"),
        (lambda s: s.actions.append(Action("New", "{text}", 6)), "unknown placeholder {text}"),
        (lambda s: s.actions.append(Action("New", "", 6)), "the template is empty"),
        (lambda s: s.actions.append(Action("Tab\there", "{input}", 6)), "control character"),
    ],
)
def test_validate_settings_refuses(mutate: Any, words: str) -> None:
    settings = Settings()
    mutate(settings)
    with pytest.raises(ConfigError) as caught:
        validate_settings(settings)
    assert words in str(caught.value)


def test_invalid_presets_are_never_saved(paths: AppPaths) -> None:
    settings = Settings()
    settings.actions.append(Action("Broken", "{nope}", 5))
    with pytest.raises(ConfigError):
        ConfigStore(paths).save(settings)
    assert not paths.config_file.exists()


def test_lists_are_not_dotted_keys() -> None:
    """`config get/set` and `config show` work on single values: the lists have their own commands."""
    keys = setting_keys()
    assert not any(k.startswith(("presets", "actions", "profiles")) for k in keys)
    described = {key for key, _, _ in describe_fields(Settings)}
    assert "presets" not in described and "actions" not in described
    assert {key for key, _, _ in describe_fields(Preset)} == {
        "name",
        "system_prompt",
        "temperature",
        "max_tokens",
    }
    assert {key for key, _, _ in describe_fields(Action)} == {"name", "template", "key", "replaces"}
