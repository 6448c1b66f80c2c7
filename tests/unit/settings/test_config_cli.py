"""`trayai config`, `trayai profile`: everything the settings dialog will do, scriptable and validated."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.support.cli import cli
from trayai.core.paths import AppPaths
from trayai.core.settings.store import ConfigStore


def saved(paths: AppPaths) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(paths.config_file.read_text())
    return data


def test_profiles_round_trip(paths: AppPaths) -> None:
    code, _, err = cli("profile", "add", "Ollama", "--base-url", "localhost:11434/api", "--model", "smollm2")
    assert code == 0 and "replaced /api" in err
    assert cli("profile", "add", "Ollama", "--base-url", "http://x/v1")[0] == 2  # duplicate name
    assert cli("profile", "add", "Bad", "--base-url", "ftp://x")[0] == 2
    code, out, _ = cli("profile", "list")
    assert out.splitlines() == [
        "* Local (port 8080): http://localhost:8080/v1  model ai/smollm2",
        "  Ollama: http://localhost:11434/v1  model smollm2",
    ]
    assert cli("profile", "use", "Ollama")[0] == 0
    assert saved(paths)["active_profile"] == "Ollama"
    assert cli("profile", "remove", "Ollama")[0] == 0
    assert saved(paths).get("active_profile") is None  # back to the default profile
    code, _, err = cli("profile", "remove", "Local (port 8080)")
    assert code == 2 and "last profile" in err


def test_config_set_get_validate(paths: AppPaths) -> None:
    assert cli("config", "set", "poll_interval", "12")[0] == 0
    assert cli("config", "get", "poll_interval")[1].strip() == "12.0"
    code, _, err = cli("config", "set", "poll_interval", "0.1")
    assert code == 2 and "outside" in err
    code, _, err = cli("config", "set", "left_click", "banana")
    assert code == 2 and "not one of" in err
    code, _, err = cli("config", "set", "no.such.key", "1")
    assert code == 2 and "Unknown setting" in err
    code, _, err = cli("config", "set", "profile.base_url", "localhost:1234")
    assert code == 0 and "added /v1" in err
    assert cli("config", "get", "profile.base_url")[1].strip() == "http://localhost:1234/v1"
    assert cli("config", "set", "profile.generation.max_tokens", "null")[0] == 0
    assert cli("config", "set", "profile.model", "123")[0] == 0  # a number-looking name stays text
    assert saved(paths)["profiles"][0]["model"] == "123"
    assert cli("config", "set", "profile.name", "Home")[0] == 0
    data = saved(paths)
    assert data["active_profile"] == "Home" and data["profiles"][0]["name"] == "Home"
    assert data["profiles"][0]["generation"] == {"max_tokens": None}
    assert data["poll_interval"] == 12.0


def test_show_reports_sources_and_never_saves_env(paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOCAL_MODEL_NAME", "ai/from-env")
    monkeypatch.setenv("LOCAL_API_KEY", "sk-env-secret-999")
    code, out, _ = cli("config", "show", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["settings"]["profile.model"] == "ai/from-env"
    assert data["sources"]["profile.model"].startswith("LOCAL_MODEL_NAME (environment)")
    assert data["api_key"] == "from LOCAL_API_KEY (environment)"
    assert "sk-env-secret-999" not in out
    code, _, err = cli("config", "set", "profile.model", "ai/saved")
    assert code == 0 and "overrides this" in err
    assert ConfigStore(paths).load().settings.active().model == "ai/saved"
    assert "ai/from-env" not in paths.config_file.read_text()


def test_key_set_refuses_argv_and_empty_input() -> None:
    with pytest.raises(SystemExit):
        cli("key", "set", "Local (port 8080)", "sk-in-argv")  # no such argument: keys never go in argv
    code, _, err = cli("key", "set", "Nope")
    assert code == 2 and "no profile named" in err
