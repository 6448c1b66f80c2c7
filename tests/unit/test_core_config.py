"""Configuration: defaults, minimal atomic saves, env/.env overrides, corrupt files, migrations."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from trayai.core.config import (
    DEFAULT_BASE_URL,
    DEFAULT_MODEL,
    ConfigError,
    ConfigStore,
    Profile,
    Settings,
    describe_fields,
    validate_settings,
)
from trayai.core.envfile import parse_env_text, read_env_file
from trayai.core.paths import AppPaths


def store(paths: AppPaths) -> ConfigStore:
    return ConfigStore(paths)


def test_defaults_without_a_file(paths: AppPaths) -> None:
    loaded = store(paths).load()
    profile = loaded.effective_profile()
    assert profile.base_url == DEFAULT_BASE_URL == "http://localhost:8080/v1"
    assert profile.model == DEFAULT_MODEL == "ai/smollm2"
    assert loaded.warnings == [] and loaded.overrides == {}


def test_save_writes_only_non_defaults_user_only(paths: AppPaths) -> None:
    settings = Settings()
    settings.poll_interval = 10.0
    settings.profiles.append(Profile(name="Ollama", base_url="http://localhost:11434/v1", model="smollm2"))
    settings.profiles[1].generation.temperature = 0.2
    path = store(paths).save(settings)
    data = json.loads(path.read_text())
    assert data["schema_version"] == 1 and data["poll_interval"] == 10.0
    assert "hotkey" not in data and "builtin_server" not in data
    assert data["profiles"][1] == {
        "name": "Ollama",
        "base_url": "http://localhost:11434/v1",
        "model": "smollm2",
        "generation": {"temperature": 0.2},
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert [p.name for p in path.parent.iterdir()] == ["config.json"]  # no temp files left
    again = store(paths).load().settings
    assert again == settings


def test_corrupt_file_is_moved_aside_and_reported(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text('{"poll_interval": 3,,,')
    loaded = store(paths).load()
    assert loaded.settings == Settings()
    moved = list(paths.config_dir.glob("config.json.corrupt-*"))
    assert len(moved) == 1 and moved[0].read_text() == '{"poll_interval": 3,,,'
    assert str(moved[0]) in loaded.warnings[0]
    assert not paths.config_file.exists()


def test_invalid_values_fall_back_and_the_rest_is_kept(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    original = {
        "schema_version": 1,
        "poll_interval": 12,
        "left_click": "banana",
        "builtin_server": {"port": "abc", "alias": "mine"},
        "profiles": [{"name": "A", "generation": {"temperature": 5}}],
    }
    paths.config_file.write_text(json.dumps(original))
    loaded = store(paths).load()
    s = loaded.settings
    assert s.poll_interval == 12 and s.builtin_server.alias == "mine"
    assert s.left_click == "chat" and s.builtin_server.port == 8080
    assert s.profiles[0].generation.temperature == 0.7
    warning = loaded.warnings[0]
    assert "left_click" in warning and "builtin_server.port" in warning and "temperature" in warning
    copies = list(paths.config_dir.glob("config.json.invalid-*"))
    assert len(copies) == 1 and json.loads(copies[0].read_text()) == original


def test_migration_from_a_flat_file_drops_a_plaintext_key(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(
        json.dumps(
            {"base_url": "http://localhost:1234/v1", "model": "qwen", "api_key": "sk-plaintext-secret"}
        )
    )
    st = store(paths)
    loaded = st.load()
    assert loaded.effective_profile().base_url == "http://localhost:1234/v1"
    assert loaded.effective_profile().model == "qwen"
    assert any("plain text" in w for w in loaded.warnings)
    st.save(loaded.settings)
    assert "sk-plaintext-secret" not in paths.config_file.read_text()


def test_newer_schema_is_not_clobbered(paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text(json.dumps({"schema_version": 99}))
    loaded = store(paths).load()
    assert "newer trayai" in loaded.warnings[0]
    assert list(paths.config_dir.glob("config.json.unsupported-*"))


def test_environment_beats_dotenv_beats_config_dir_dotenv(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths.config_dir.mkdir(parents=True)
    (paths.config_dir / ".env").write_text(
        "LOCAL_MODEL_BASE_URL=http://cfgdir:1/v1\nLOCAL_MODEL_NAME=from-config-dir\nLOCAL_API_KEY=k-cfg\n"
    )
    Path(".env").write_text("# project\nLOCAL_MODEL_NAME='from-cwd'\n")
    monkeypatch.setenv("LOCAL_API_KEY", "k-env")
    loaded = store(paths).load()
    o = loaded.overrides
    assert o["base_url"].value == "http://cfgdir:1/v1" and o["base_url"].source.endswith(".env:1")
    assert o["model"].value == "from-cwd" and o["model"].source.endswith(".env:2")
    assert o["api_key"].value == "k-env" and o["api_key"].source == "environment"
    assert loaded.effective_profile().model == "from-cwd"


def test_overrides_apply_to_the_active_profile_only_and_are_never_saved(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings()
    settings.profiles.append(Profile(name="Other", base_url="http://other:1/v1"))
    st = store(paths)
    st.save(settings)
    monkeypatch.setenv("LOCAL_MODEL_BASE_URL", "http://from-env:9/v1")
    monkeypatch.setenv("LOCAL_API_KEY", "sk-env-secret")
    loaded = st.load()
    assert loaded.effective_profile().base_url == "http://from-env:9/v1"
    assert loaded.effective_profile("Other").base_url == "http://other:1/v1"
    st.save(loaded.settings)
    text = paths.config_file.read_text()
    assert "from-env" not in text and "sk-env-secret" not in text


def test_validation() -> None:
    settings = Settings()
    settings.profiles.append(Profile(name=settings.profiles[0].name))
    with pytest.raises(ConfigError, match="same name"):
        validate_settings(settings)
    settings.profiles[1].name = " "
    with pytest.raises(ConfigError, match="name"):
        validate_settings(settings)
    settings.profiles[1] = Profile(name="X", base_url="ftp://bad")
    with pytest.raises(ConfigError, match="Unsupported scheme"):
        validate_settings(settings)


def test_every_setting_is_described() -> None:
    rows = describe_fields(Settings) + describe_fields(Profile)
    assert len(rows) > 15
    assert all(description for _, description, _ in rows)


def test_env_file_parsing(tmp_path: Path) -> None:
    text = (
        "# comment\nexport A=1\nB=\"two words\"\nC='x # not a comment'\nD=plain # comment\n"
        'junk line\nE="line\\nbreak"\n'
    )
    values = parse_env_text(text, "f")
    assert {k: v.value for k, v in values.items()} == {
        "A": "1",
        "B": "two words",
        "C": "x # not a comment",
        "D": "plain",
        "E": "line\nbreak",
    }
    assert values["B"].source == "f:3"
    assert read_env_file(tmp_path / "missing") == {}
