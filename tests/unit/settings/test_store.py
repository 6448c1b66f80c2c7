"""The settings file: defaults when absent, minimal 0600 atomic saves, damage recovery, old files
migrated on load, environment overrides never saved."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest

from tests.unit.settings.samples import two_profiles
from trayai.core import files
from trayai.core.errors import ConfigError
from trayai.core.paths import AppPaths
from trayai.core.settings.config import (
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    DEFAULT_PROFILE_NAME,
    SCHEMA_VERSION,
    BuiltinServerSettings,
    Profile,
    Settings,
)
from trayai.core.settings.store import (
    ConfigStore,
    LoadedConfig,
    Override,
    settings_from_dict,
    settings_to_dict,
)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def write_config(paths: AppPaths, data: Any) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    text = data if isinstance(data, str) else json.dumps(data)
    paths.config_file.write_text(text, encoding="utf-8")


def siblings(paths: AppPaths, pattern: str) -> list[Path]:
    return sorted(paths.config_dir.glob(pattern))


# --------------------------------------------------------------------------- defaults


def test_defaults(paths: AppPaths) -> None:
    loaded = ConfigStore(paths).load()
    assert loaded.warnings == []
    assert loaded.overrides == {}
    assert loaded.path == paths.config_file
    assert loaded.settings == Settings()
    profile = loaded.effective_profile()
    assert profile.base_url == DEFAULT_BASE_URL == "http://localhost:8080/v1"
    assert profile.model == DEFAULT_MODEL == "ai/smollm2"
    assert profile.name == DEFAULT_PROFILE_NAME
    assert loaded.settings.active_profile == DEFAULT_PROFILE_NAME
    assert len(loaded.settings.profiles) == 1
    assert loaded.settings.builtin_server.port == 8080
    assert loaded.settings.left_click == "chat"
    assert profile.generation.temperature == 0.7
    assert not paths.config_dir.exists()  # loading writes nothing


# --------------------------------------------------------------------------- saving


def test_saving_defaults_writes_only_the_schema_version(paths: AppPaths) -> None:
    path = ConfigStore(paths).save(Settings())
    assert path == paths.config_file
    assert json.loads(path.read_text(encoding="utf-8")) == {"schema_version": SCHEMA_VERSION}


def test_save_writes_only_non_defaults(paths: AppPaths) -> None:
    settings = Settings()
    settings.poll_interval = 10.0
    settings.builtin_server.port = 9090
    settings.left_click = "menu"
    settings.profiles.append(Profile(name="Ollama", base_url="http://localhost:11434/v1", model="smollm2"))
    settings.profiles[1].generation.temperature = 0.2
    store = ConfigStore(paths)
    data = json.loads(store.save(settings).read_text(encoding="utf-8"))
    assert data == {
        "schema_version": SCHEMA_VERSION,
        "poll_interval": 10.0,
        "builtin_server": {"port": 9090},
        "left_click": "menu",
        "profiles": [
            {"name": DEFAULT_PROFILE_NAME},
            {
                "name": "Ollama",
                "base_url": "http://localhost:11434/v1",
                "model": "smollm2",
                "generation": {"temperature": 0.2},  # one changed parameter: only that one is saved
            },
        ],
    }
    assert store.load().settings == settings


def test_saved_profiles_hold_their_name_and_differences_only() -> None:
    data = settings_to_dict(two_profiles())
    assert data["active_profile"] == "Remote"
    assert data["profiles"][0] == {
        "name": "Local",
        "base_url": "http://localhost:12434/engines/v1",
        "model": "ai/qwen3",
    }
    assert data["profiles"][1] == {
        "name": "Remote",
        "base_url": "https://api.example.com/v1",
        "model": "gpt-x",
        "generation": {
            "temperature": None,
            "top_p": 0.9,
            "max_tokens": None,
            "system_prompt": "Be brief.",
            "stream": False,
        },
        "first_token_timeout": 30.0,
        "key_in_keychain": True,
    }


def test_file_is_user_only_in_a_user_only_directory(paths: AppPaths) -> None:
    ConfigStore(paths).save(Settings())
    assert mode(paths.config_file) == 0o600
    assert mode(paths.config_dir) == 0o700


def test_an_existing_readable_file_becomes_user_only(paths: AppPaths) -> None:
    write_config(paths, {"schema_version": 1})
    paths.config_file.chmod(0o644)
    ConfigStore(paths).save(Settings())
    assert mode(paths.config_file) == 0o600


def test_round_trip_of_profiles_with_generation_params(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    settings = two_profiles()
    settings.builtin_server = BuiltinServerSettings(
        model_file="/m/x.gguf", port=8099, threads=4, autostart=False
    )
    settings.hotkey = ""
    settings.notifications = False
    settings.start_at_login = True
    store.save(settings)
    loaded = store.load()
    assert loaded.warnings == []
    assert loaded.settings == settings
    remote = loaded.settings.profile("Remote")
    assert remote.generation.temperature is None
    assert remote.generation.top_p == 0.9
    assert remote.generation.stream is False
    assert isinstance(loaded.settings.builtin_server.port, int)


def test_round_trip_of_unicode(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    settings = Settings(active_profile="Café ☕", profiles=[Profile(name="Café ☕")])
    settings.profiles[0].generation.system_prompt = "Réponds en français.\nBref."
    store.save(settings)
    assert "Café ☕" in paths.config_file.read_text(encoding="utf-8")
    assert store.load().settings == settings


def test_atomic_write_leaves_no_temp_files(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    store.save(Settings())
    store.save(two_profiles())
    assert [p.name for p in paths.config_dir.iterdir()] == ["config.json"]


def test_a_failed_write_keeps_the_old_file_and_no_temp(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ConfigStore(paths)
    store.save(two_profiles())
    before = paths.config_file.read_text(encoding="utf-8")

    def fail(self: Path, target: Any) -> Path:
        raise OSError("disk full")

    with monkeypatch.context() as patch, pytest.raises(OSError, match="disk full"):
        patch.setattr(Path, "replace", fail)
        store.save(Settings())
    assert paths.config_file.read_text(encoding="utf-8") == before
    assert [p.name for p in paths.config_dir.iterdir()] == ["config.json"]


def test_a_symlinked_config_stays_a_link_and_its_target_is_replaced(paths: AppPaths, tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles"
    dotfiles.mkdir()
    target = dotfiles / "trayai.json"
    target.write_text("{}\n", encoding="utf-8")
    target.chmod(0o644)
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.symlink_to(Path("..") / "dotfiles" / "trayai.json")
    assert paths.config_file.resolve() == target.resolve()

    ConfigStore(paths).save(two_profiles())

    assert paths.config_file.is_symlink()
    assert paths.config_file.resolve() == target.resolve()
    assert json.loads(target.read_text(encoding="utf-8"))["active_profile"] == "Remote"
    assert mode(target) == 0o600
    assert ConfigStore(paths).load().settings.active_profile == "Remote"
    leftovers = [p.name for p in dotfiles.iterdir()] + [p.name for p in paths.config_dir.iterdir()]
    assert sorted(leftovers) == ["config.json", "trayai.json"]


def test_a_dangling_config_link_creates_its_target(paths: AppPaths, tmp_path: Path) -> None:
    target = tmp_path / "dotfiles" / "trayai.json"
    target.parent.mkdir()
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    paths.config_file.symlink_to(target)
    ConfigStore(paths).save(two_profiles())
    assert paths.config_file.is_symlink()
    assert mode(target) == 0o600
    assert ConfigStore(paths).load().settings.active_profile == "Remote"


def test_invalid_settings_are_never_saved(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    store.save(two_profiles())
    before = paths.config_file.read_text(encoding="utf-8")
    bad = two_profiles()
    bad.profiles[1].name = "Local"
    with pytest.raises(ConfigError, match="same name"):
        store.save(bad)
    assert paths.config_file.read_text(encoding="utf-8") == before


# --------------------------------------------------------------------------- damaged files


@pytest.mark.parametrize(
    "content",
    ["{not json", "", "\x00\x01garbage", '{"schema_version": 1,}'],
)
def test_corrupt_json_is_moved_aside(paths: AppPaths, content: str) -> None:
    write_config(paths, content)
    loaded = ConfigStore(paths).load()
    assert loaded.settings == Settings()
    assert not paths.config_file.exists()
    moved = siblings(paths, "config.json.corrupt-*")
    assert len(moved) == 1
    assert moved[0].read_text(encoding="utf-8") == content
    assert len(loaded.warnings) == 1
    assert str(moved[0]) in loaded.warnings[0]
    assert "defaults" in loaded.warnings[0]


@pytest.mark.parametrize("content", ["[1, 2]", '"text"', "42", "null", "true"])
def test_non_object_json_is_moved_aside(paths: AppPaths, content: str) -> None:
    write_config(paths, content)
    loaded = ConfigStore(paths).load()
    assert loaded.settings == Settings()
    moved = siblings(paths, "config.json.corrupt-*")
    assert len(moved) == 1
    assert moved[0].read_text(encoding="utf-8") == content
    assert str(moved[0]) in loaded.warnings[0]
    assert "not a JSON object" in loaded.warnings[0]


def test_undecodable_bytes_are_moved_aside(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_bytes(b'{"hotkey": "\xff\xfe"}')
    loaded = ConfigStore(paths).load()
    assert loaded.settings == Settings()
    assert len(siblings(paths, "config.json.corrupt-*")) == 1


def test_an_earlier_corrupt_copy_is_never_overwritten(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "_stamp", lambda: "20250101-000000")  # two damages, one second
    write_config(paths, "{first")
    first = ConfigStore(paths).load()
    write_config(paths, "{second")
    second = ConfigStore(paths).load()
    moved = {p.read_text(encoding="utf-8"): p for p in siblings(paths, "config.json.corrupt-*")}
    assert set(moved) == {"{first", "{second"}
    assert str(moved["{first"]) in first.warnings[0]
    assert str(moved["{second"]) in second.warnings[0]


def test_the_moved_file_can_be_recovered_and_defaults_are_saveable(paths: AppPaths) -> None:
    write_config(paths, "{oops")
    store = ConfigStore(paths)
    loaded = store.load()
    store.save(loaded.settings)
    assert json.loads(paths.config_file.read_text(encoding="utf-8")) == {"schema_version": SCHEMA_VERSION}
    assert siblings(paths, "config.json.corrupt-*")[0].read_text(encoding="utf-8") == "{oops"


def test_single_invalid_values_are_reset_and_named(paths: AppPaths) -> None:
    original = {
        "schema_version": 1,
        "poll_interval": 12.0,
        "hotkey": "Ctrl+Shift+A",
        "left_click": "banana",
        "builtin_server": {"port": "abc", "threads": 2},
        "active_profile": "Mine",
        "profiles": [
            {"name": "Mine", "model": "ai/qwen3", "generation": {"temperature": 5.0, "top_p": 0.5}},
        ],
    }
    write_config(paths, original)
    loaded = ConfigStore(paths).load()
    settings = loaded.settings
    # reset to defaults
    assert settings.left_click == "chat"
    assert settings.builtin_server.port == 8080
    assert settings.profiles[0].generation.temperature == 0.7
    # everything else kept
    assert settings.poll_interval == 12.0
    assert settings.hotkey == "Ctrl+Shift+A"
    assert settings.builtin_server.threads == 2
    assert settings.active_profile == "Mine"
    assert settings.profiles[0].model == "ai/qwen3"
    assert settings.profiles[0].generation.top_p == 0.5
    # one warning naming each value, and where the untouched original went
    assert len(loaded.warnings) == 1
    warning = loaded.warnings[0]
    for name in (
        "left_click",
        "'banana'",
        "builtin_server.port",
        "'abc'",
        "profiles[0].generation.temperature",
        "5.0",
    ):
        assert name in warning
    copies = siblings(paths, "config.json.invalid-*")
    assert len(copies) == 1
    assert str(copies[0]) in warning
    assert json.loads(copies[0].read_text(encoding="utf-8")) == original
    assert mode(copies[0]) == 0o600
    assert json.loads(paths.config_file.read_text(encoding="utf-8")) == original  # not rewritten by load


@pytest.mark.parametrize(
    ("data", "field_name", "default"),
    [
        ({"poll_interval": "fast"}, "poll_interval", 5.0),
        ({"poll_interval": 0.1}, "poll_interval", 5.0),
        ({"poll_interval": True}, "poll_interval", 5.0),
        ({"poll_interval": None}, "poll_interval", 5.0),
        ({"poll_interval": float("nan")}, "poll_interval", 5.0),
        ({"poll_interval": float("inf")}, "poll_interval", 5.0),
        ({"poll_interval": 10**400}, "poll_interval", 5.0),
        ({"notifications": "yes"}, "notifications", True),
        ({"notifications": 1}, "notifications", True),
        ({"hotkey": 5}, "hotkey", "Ctrl+Alt+Space"),
        ({"left_click": "Chat"}, "left_click", "chat"),
        ({"builtin_server": {"port": 99999}}, "builtin_server.port", 8080),
        ({"builtin_server": {"port": 0}}, "builtin_server.port", 8080),
        ({"builtin_server": {"port": 8080.5}}, "builtin_server.port", 8080),
        ({"builtin_server": {"port": float("nan")}}, "builtin_server.port", 8080),
        ({"builtin_server": {"port": float("inf")}}, "builtin_server.port", 8080),
        ({"builtin_server": {"port": 10**30}}, "builtin_server.port", 8080),
        ({"builtin_server": "not an object"}, "builtin_server", BuiltinServerSettings()),
    ],
)
def test_invalid_value_falls_back_to_its_default(
    paths: AppPaths, data: dict[str, Any], field_name: str, default: Any
) -> None:
    write_config(paths, {"schema_version": 1, **data})
    loaded = ConfigStore(paths).load()
    value: Any = loaded.settings
    for part in field_name.split("."):
        value = getattr(value, part)
    assert value == default
    assert len(loaded.warnings) == 1
    assert field_name in loaded.warnings[0]
    assert len(siblings(paths, "config.json.invalid-*")) == 1


def test_nan_written_literally_in_the_file_does_not_crash(paths: AppPaths) -> None:
    write_config(paths, '{"schema_version": 1, "poll_interval": NaN, "builtin_server": {"port": Infinity}}')
    loaded = ConfigStore(paths).load()
    assert loaded.settings.poll_interval == 5.0
    assert loaded.settings.builtin_server.port == 8080
    assert "poll_interval" in loaded.warnings[0]
    assert "builtin_server.port" in loaded.warnings[0]


@pytest.mark.parametrize(
    ("data", "field_name", "expected"),
    [
        ({"builtin_server": {"port": 9000.0}}, "builtin_server.port", 9000),
        ({"poll_interval": 7}, "poll_interval", 7.0),
        ({"builtin_server": {"startup_timeout": 5}}, "builtin_server.startup_timeout", 5.0),
    ],
)
def test_numbers_are_coerced_to_the_field_type(
    paths: AppPaths, data: dict[str, Any], field_name: str, expected: Any
) -> None:
    write_config(paths, {"schema_version": 1, **data})
    loaded = ConfigStore(paths).load()
    value: Any = loaded.settings
    for part in field_name.split("."):
        value = getattr(value, part)
    assert value == expected
    assert type(value) is type(expected)
    assert loaded.warnings == []


def test_unknown_keys_are_ignored_without_warning(paths: AppPaths) -> None:
    write_config(paths, {"schema_version": 1, "no_such_setting": 1, "builtin_server": {"gpu": True}})
    loaded = ConfigStore(paths).load()
    assert loaded.settings == Settings()
    assert loaded.warnings == []


def test_duplicate_profile_names_keep_the_first(paths: AppPaths) -> None:
    write_config(
        paths,
        {
            "schema_version": 1,
            "active_profile": "A",
            "profiles": [
                {"name": "A", "model": "first"},
                {"name": "B"},
                {"name": "A", "model": "second"},
            ],
        },
    )
    loaded = ConfigStore(paths).load()
    assert [(p.name, p.model) for p in loaded.settings.profiles] == [("A", "first"), ("B", DEFAULT_MODEL)]
    assert "profiles[2]" in loaded.warnings[0]
    assert "duplicate name 'A'" in loaded.warnings[0]
    assert len(siblings(paths, "config.json.invalid-*")) == 1


def test_active_profile_pointing_nowhere_uses_the_first(paths: AppPaths) -> None:
    write_config(
        paths,
        {"schema_version": 1, "active_profile": "Gone", "profiles": [{"name": "A"}, {"name": "B"}]},
    )
    loaded = ConfigStore(paths).load()
    assert loaded.settings.active_profile == "A"
    assert loaded.effective_profile().name == "A"
    assert "active_profile" in loaded.warnings[0]
    assert "'Gone'" in loaded.warnings[0]


def test_profiles_without_the_default_name_and_no_active_profile(paths: AppPaths) -> None:
    write_config(paths, {"schema_version": 1, "profiles": [{"name": "Only"}]})
    loaded = ConfigStore(paths).load()
    assert loaded.settings.active_profile == "Only"
    assert loaded.warnings == []


@pytest.mark.parametrize(
    ("profiles", "problem"),
    [
        ("not a list", "profiles: expected a list"),
        ([1, {"name": "ok"}], "profiles[0]: expected an object"),
    ],
)
def test_malformed_profiles(paths: AppPaths, profiles: Any, problem: str) -> None:
    write_config(paths, {"schema_version": 1, "profiles": profiles})
    loaded = ConfigStore(paths).load()
    assert problem in loaded.warnings[0]
    assert len(loaded.settings.profiles) == 1


def test_settings_from_dict_reports_problems_in_place() -> None:
    problems: list[str] = []
    settings = settings_from_dict({"left_click": "banana", "profiles": []}, problems)
    assert settings.left_click == "chat"
    assert settings.profiles == [Profile()]
    assert problems == ["left_click: 'banana' is not one of chat, prompt, menu"]


# --------------------------------------------------------------------------- migrations and versions


def test_migration_from_schema_0_makes_a_profile_and_drops_the_plaintext_key(paths: AppPaths) -> None:
    write_config(
        paths,
        {
            "base_url": "http://localhost:1234/v1",
            "model": "qwen",
            "api_key": "sk-plaintext-123",
            "hotkey": "F9",
        },
    )
    store = ConfigStore(paths)
    loaded = store.load()
    profile = loaded.effective_profile()
    assert (profile.name, profile.base_url, profile.model) == (
        DEFAULT_PROFILE_NAME,
        "http://localhost:1234/v1",
        "qwen",
    )
    assert loaded.settings.hotkey == "F9"
    assert loaded.settings.schema_version == SCHEMA_VERSION
    assert len(loaded.warnings) == 1
    assert "plain text" in loaded.warnings[0]
    assert "keychain" in loaded.warnings[0]
    assert "sk-plaintext-123" not in loaded.warnings[0]
    assert "sk-plaintext-123" not in repr(loaded)
    store.save(loaded.settings)
    text = paths.config_file.read_text(encoding="utf-8")
    assert "sk-plaintext-123" not in text
    assert "api_key" not in text
    assert json.loads(text)["schema_version"] == SCHEMA_VERSION
    assert json.loads(text)["profiles"] == [
        {"name": DEFAULT_PROFILE_NAME, "base_url": "http://localhost:1234/v1", "model": "qwen"}
    ]
    again = store.load()
    assert again.warnings == []
    assert again.settings == loaded.settings


@pytest.mark.parametrize(("version", "words"), [(99, "newer trayai"), (-1, "invalid"), ("1", "invalid")])
def test_unsupported_schema_is_moved_aside(paths: AppPaths, version: Any, words: str) -> None:
    original = {"schema_version": version, "poll_interval": 30.0}
    write_config(paths, original)
    loaded = ConfigStore(paths).load()
    assert loaded.settings == Settings()
    assert not paths.config_file.exists()
    moved = siblings(paths, "config.json.unsupported-*")
    assert len(moved) == 1
    assert json.loads(moved[0].read_text(encoding="utf-8")) == original
    assert words in loaded.warnings[0]
    assert str(moved[0]) in loaded.warnings[0]


# --------------------------------------------------------------------------- environment overrides


def write_env(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_overrides_from_the_process_environment(paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_MODEL_BASE_URL", "http://localhost:11434/v1")
    monkeypatch.setenv("LOCAL_MODEL_NAME", "  qwen2.5:0.5b  ")
    monkeypatch.setenv("LOCAL_API_KEY", "sk-env")
    loaded = ConfigStore(paths).load()
    assert loaded.overrides == {
        "base_url": Override("base_url", "LOCAL_MODEL_BASE_URL", "http://localhost:11434/v1", "environment"),
        "model": Override("model", "LOCAL_MODEL_NAME", "qwen2.5:0.5b", "environment"),
        "api_key": Override("api_key", "LOCAL_API_KEY", "sk-env", "environment"),
    }
    assert loaded.env_api_key is not None and loaded.env_api_key.value == "sk-env"
    profile = loaded.effective_profile()
    assert (profile.base_url, profile.model) == ("http://localhost:11434/v1", "qwen2.5:0.5b")
    assert loaded.settings.active().base_url == DEFAULT_BASE_URL  # the stored settings are untouched


def test_precedence_environment_then_cwd_env_then_config_dir_env(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    cwd_env = Path.cwd() / ".env"
    write_env(cwd_env, "# project\nLOCAL_MODEL_NAME=from-cwd\nLOCAL_API_KEY=sk-cwd\n")
    write_env(
        paths.env_file,
        "LOCAL_MODEL_BASE_URL=http://config-dir:1/v1\nLOCAL_MODEL_NAME=from-config-dir\nLOCAL_API_KEY=sk-cfg\n",
    )
    monkeypatch.setenv("LOCAL_API_KEY", "sk-process")
    overrides = ConfigStore(paths).load().overrides
    assert overrides["api_key"] == Override("api_key", "LOCAL_API_KEY", "sk-process", "environment")
    assert overrides["model"] == Override("model", "LOCAL_MODEL_NAME", "from-cwd", f"{cwd_env}:2")
    assert overrides["base_url"] == Override(
        "base_url", "LOCAL_MODEL_BASE_URL", "http://config-dir:1/v1", f"{paths.env_file}:1"
    )


def test_blank_values_do_not_override(paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_MODEL_NAME", "   ")
    write_env(Path.cwd() / ".env", "LOCAL_MODEL_NAME=\nLOCAL_MODEL_BASE_URL=''\n")
    write_env(paths.env_file, "LOCAL_MODEL_NAME=from-config-dir\n")
    overrides = ConfigStore(paths).load().overrides
    assert set(overrides) == {"model"}
    assert overrides["model"].value == "from-config-dir"


def test_explicit_environ_and_cwd(paths: AppPaths, tmp_path: Path) -> None:
    project = tmp_path / "project"
    write_env(project / ".env", "export LOCAL_MODEL_NAME='ai/gemma3'\n")
    store = ConfigStore(paths, environ={"LOCAL_MODEL_BASE_URL": "http://x:1/v1"}, cwd=project)
    overrides = store.load().overrides
    assert overrides["base_url"].source == "environment"
    assert overrides["model"] == Override("model", "LOCAL_MODEL_NAME", "ai/gemma3", f"{project / '.env'}:1")


def test_the_config_dir_env_when_it_is_also_the_cwd_env(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_env(paths.env_file, "LOCAL_MODEL_NAME=here\n")
    monkeypatch.chdir(paths.config_dir)
    overrides = ConfigStore(paths).load().overrides
    assert overrides["model"].value == "here"


def test_overrides_apply_only_to_the_active_profile(paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ConfigStore(paths)
    store.save(two_profiles())  # active: Remote
    monkeypatch.setenv("LOCAL_MODEL_BASE_URL", "http://localhost:9999/v1")
    monkeypatch.setenv("LOCAL_MODEL_NAME", "env-model")
    loaded = store.load()
    active = loaded.effective_profile()
    assert (active.name, active.base_url, active.model) == ("Remote", "http://localhost:9999/v1", "env-model")
    assert active.generation.top_p == 0.9  # everything else still from the profile
    named_active = loaded.effective_profile("Remote")
    assert named_active.base_url == "http://localhost:9999/v1"
    other = loaded.effective_profile("Local")
    assert (other.base_url, other.model) == ("http://localhost:12434/engines/v1", "ai/qwen3")
    with pytest.raises(KeyError):
        loaded.effective_profile("Nope")


def test_effective_profile_is_a_copy(paths: AppPaths) -> None:
    loaded = LoadedConfig(settings=two_profiles())
    loaded.effective_profile().model = "changed"
    loaded.effective_profile("Local").generation.temperature = 0.0
    assert loaded.settings.profile("Remote").model == "gpt-x"
    assert loaded.settings.profile("Local").generation.temperature == 0.7


def test_saving_after_loading_with_overrides_never_writes_them(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_MODEL_BASE_URL", "http://override-host:4321/v1")
    monkeypatch.setenv("LOCAL_API_KEY", "sk-env-never-saved")
    write_env(Path.cwd() / ".env", "LOCAL_MODEL_NAME=override-model-from-dotenv\n")
    store = ConfigStore(paths)
    loaded = store.load()
    assert loaded.effective_profile().model == "override-model-from-dotenv"
    loaded.settings.poll_interval = 8.0
    store.save(loaded.settings)
    text = paths.config_file.read_text(encoding="utf-8")
    for value in ("override-host", "4321", "sk-env-never-saved", "override-model-from-dotenv", "LOCAL_"):
        assert value not in text
    assert json.loads(text) == {"schema_version": SCHEMA_VERSION, "poll_interval": 8.0}
