"""Per-model settings in the settings file: saved as non-defaults by name, merged model by model and
value by value, checked on loading (a bad entry dropped and named, the rest kept), and the schema 1 → 2
migration keeping the context and threads an old file chose for its model."""

from __future__ import annotations

import copy
import json

import pytest

from trayai.core.errors import ConfigError
from trayai.core.paths import AppPaths
from trayai.core.settings.config import SCHEMA_VERSION, ModelSettings, Settings
from trayai.core.settings.merge import Conflict, Side, merge_settings, save_merged
from trayai.core.settings.migrations import migrate
from trayai.core.settings.store import ConfigStore


def with_models(*entries: ModelSettings) -> Settings:
    settings = Settings()
    settings.model_settings = list(entries)
    return settings


def test_entries_are_saved_by_name_with_their_set_values_only(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    settings = with_models(ModelSettings("qwen3-4b", context_size=16_384, chat_template="chatml", top_k=20))
    data = json.loads(store.save(settings).read_text(encoding="utf-8"))
    assert data == {
        "schema_version": SCHEMA_VERSION,
        "model_settings": [
            {"name": "qwen3-4b", "context_size": 16_384, "chat_template": "chatml", "top_k": 20}
        ],
    }
    loaded = store.load()
    assert loaded.warnings == []
    assert loaded.settings.model_entry("qwen3-4b") == settings.model_settings[0]
    assert loaded.settings.model_entry("other") == ModelSettings("other")


def test_a_bad_entry_is_dropped_and_named_while_the_others_stay(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    entries = [
        {"name": "good", "temperature": 0.5},
        {"name": "hot", "temperature": 7},
        {"name": "", "threads": 2},
        {"name": "good", "threads": 2},
        {"name": "two\nlines"},
        "not an object",
    ]
    paths.config_file.write_text(json.dumps({"schema_version": SCHEMA_VERSION, "model_settings": entries}))
    loaded = ConfigStore(paths).load()
    # A bad value is reset (its model keeps the entry), a bad entry dropped: each one named.
    assert loaded.settings.model_settings == [ModelSettings("good", temperature=0.5), ModelSettings("hot")]
    (warning,) = loaded.warnings
    assert "model_settings[1].temperature: 7.0 is outside 0.0…2.0" in warning
    assert "model_settings[2]: Model settings need the model's name (dropped)" in warning
    assert "model_settings[3]: Two entries of model settings are for 'good' (dropped)" in warning
    assert "model_settings[4]: The model name 'two" in warning and "is not a library model's name" in warning
    assert "model_settings[5]: expected an object" in warning


def test_settings_with_two_entries_for_one_model_are_never_saved(paths: AppPaths) -> None:
    with pytest.raises(ConfigError, match="'twice'"):
        ConfigStore(paths).save(
            with_models(ModelSettings("twice", threads=1), ModelSettings("twice", top_p=0.5))
        )
    assert not paths.config_file.exists()


def test_two_writers_changing_one_model_keep_both_values() -> None:
    base = with_models(ModelSettings("m", context_size=4_096))
    mine, theirs = copy.deepcopy(base), copy.deepcopy(base)
    mine.model_settings[0].temperature = 0.3  # the library window
    theirs.model_settings[0].context_size = 8_192  # `trayai library set m --context 8192` meanwhile
    theirs.model_settings.append(ModelSettings("n", threads=2))  # and another model
    result = merge_settings(base, mine, theirs)
    assert result.conflicts == ()
    assert result.settings.model_settings == [
        ModelSettings("m", context_size=8_192, temperature=0.3),
        ModelSettings("n", threads=2),
    ]


def test_one_value_changed_both_ways_is_a_conflict_named_by_model() -> None:
    base = with_models(ModelSettings("m", context_size=4_096))
    mine, theirs = copy.deepcopy(base), copy.deepcopy(base)
    mine.model_settings[0].context_size = 2_048
    theirs.model_settings[0].context_size = 8_192
    result = merge_settings(base, mine, theirs, prefer=Side.THEIRS)
    assert result.conflicts == (
        Conflict("model_settings[m].context_size", "Model “m” ▸ context_size", "2048", "8192"),
    )
    assert result.settings.model_settings[0].context_size == 8_192


def test_a_save_after_another_process_set_a_model_keeps_its_entry(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    base = store.load().settings
    mine = copy.deepcopy(base)
    mine.poll_interval = 9.0  # the settings dialog, open for a while
    store.update(lambda s: s.model_settings.append(ModelSettings("m", top_k=10)))  # the CLI meanwhile
    assert save_merged(store, base, mine).saved
    saved = store.load().settings
    assert (saved.poll_interval, saved.model_settings) == (9.0, [ModelSettings("m", top_k=10)])


def test_schema_1_keeps_the_context_and_threads_of_the_model_it_served() -> None:
    data = migrate(
        {
            "schema_version": 1,
            "builtin_server": {
                "model_file": "~/models/qwen3-4b-Q4_K_M.gguf",
                "context_size": 16_384,
                "threads": 3,
            },
        },
        [],
    )
    assert data["schema_version"] == 2
    assert data["model_settings"] == [{"name": "qwen3-4b-Q4_K_M", "context_size": 16_384, "threads": 3}]
    assert data["builtin_server"] == {
        "model_file": "~/models/qwen3-4b-Q4_K_M.gguf",
        "context_size": 16_384,
        "threads": 3,
    }  # the one-model server keeps them too


def test_schema_1_migration_of_the_bundled_model_and_of_nothing_set() -> None:
    bundled = migrate({"schema_version": 1, "builtin_server": {"context_size": 2_048, "threads": 0}}, [])
    assert bundled["model_settings"] == [{"name": "ai/smollm2", "context_size": 2_048}]  # 0 threads: auto
    untouched = migrate({"schema_version": 1, "builtin_server": {"port": 9000}}, [])
    assert "model_settings" not in untouched
    assert migrate({"schema_version": 1}, []) == {"schema_version": SCHEMA_VERSION}


def test_a_schema_1_file_loads_with_its_model_settings(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    old = {"schema_version": 1, "builtin_server": {"model_file": "/m/phi.gguf", "context_size": 8_192}}
    paths.config_file.write_text(json.dumps(old))
    loaded = ConfigStore(paths).load()
    assert loaded.warnings == []
    assert loaded.settings.model_settings == [ModelSettings("phi", context_size=8_192)]
