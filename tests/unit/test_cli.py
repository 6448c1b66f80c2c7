"""The `trayai` command line, in-process, against the scripted server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import cli
from tests.support.ports import free_port
from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.paths import AppPaths


def test_ask_streams_the_answer(server: ScriptedServer) -> None:
    server.script(Reply(text="Paris is the capital."))
    code, out, err = cli("ask", "--endpoint", server.base_url, "--stats", "Capital", "of", "France?")
    assert code == 0, err
    assert out == "Paris is the capital.\n"
    assert "4 tokens" in err and "finish: stop" in err
    body = server.chat_requests()[0].body
    assert body is not None and body["messages"][-1] == {"role": "user", "content": "Capital of France?"}


def test_ask_options_and_system_prompt(server: ScriptedServer) -> None:
    code, _, err = cli(
        "ask",
        "--endpoint",
        server.base_url,
        "--system",
        "Be terse.",
        "--temperature",
        "0.1",
        "--max-tokens",
        "3",
        "hi",
    )
    assert code == 0, err
    assert "cut at max tokens" in err
    body = server.chat_requests()[0].body
    assert body is not None
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert body["temperature"] == 0.1 and body["max_tokens"] == 3


def test_ask_uses_the_servers_spelling_of_the_model(server: ScriptedServer) -> None:
    server.models = ["docker.io/ai/smollm2:latest"]
    code, _, err = cli("ask", "--endpoint", server.base_url, "hi")
    assert code == 0, err
    assert server.chat_requests()[0].json["model"] == "docker.io/ai/smollm2:latest"


def test_ask_from_the_environment_and_dotenv(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> None:
    Path(".env").write_text(f"LOCAL_MODEL_BASE_URL={server.base_url}\nLOCAL_MODEL_NAME=ai/other\n")
    server.models = ["ai/smollm2", "ai/other"]
    monkeypatch.setenv("LOCAL_API_KEY", "sk-env-key")
    server.api_key = "sk-env-key"
    code, out, err = cli("ask", "hello")
    assert code == 0, err
    assert out.strip()
    assert server.chat_requests()[0].json["model"] == "ai/other"


def test_ask_reads_stdin() -> None:
    with ScriptedServer() as server:
        proc = subprocess.run(
            [sys.executable, "-m", "trayai.cli", "ask", "--endpoint", server.base_url],
            input="What is 2+2?",
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "Hello from the scripted server.\n"
        body = server.chat_requests()[0].body
        assert body is not None and body["messages"][-1]["content"] == "What is 2+2?"


def test_ask_with_nothing_listening_explains_what_to_do() -> None:
    code, out, err = cli("ask", "--no-autostart", "--endpoint", f"http://localhost:{free_port()}", "hi")
    assert code == 1 and out == ""
    assert "error: Nothing is listening on localhost:" in err
    assert "trayai serve" in err


def test_ask_keeps_the_partial_answer_when_the_connection_drops(server: ScriptedServer) -> None:
    server.script(Reply(text="one two three four", disconnect_after=2))
    code, out, err = cli("ask", "--endpoint", server.base_url, "count")
    assert code == 1
    assert out == "one two \n"
    assert "partial answer above was kept" in err and "closed before the reply finished" in err


def test_ask_invalid_url_and_unknown_profile() -> None:
    code, _, err = cli("ask", "--endpoint", "ftp://nope", "hi")
    assert code == 1 and "Unsupported scheme" in err
    code, _, err = cli("ask", "--profile", "Nope", "hi")
    assert code == 2 and "No profile named 'Nope'" in err


def test_models_lists_and_marks_the_configured_one(server: ScriptedServer) -> None:
    server.models = ["ai/qwen3", "ai/smollm2"]
    code, out, _ = cli("models", "--endpoint", server.base_url)
    assert code == 0
    # A generic OpenAI server cannot say what is loaded: the state column says so.
    assert out.splitlines() == ["  unknown     ai/qwen3  (scripted)", "* unknown     ai/smollm2  (scripted)"]
    code, out, _ = cli("models", "--endpoint", server.base_url, "--json")
    data = json.loads(out)
    assert data["resolved"] == "ai/smollm2" and [m["id"] for m in data["models"]] == [
        "ai/qwen3",
        "ai/smollm2",
    ]


def test_models_when_none_are_loaded(server: ScriptedServer) -> None:
    server.models = []
    code, _, err = cli("models", "--endpoint", server.base_url)
    assert code == 1 and "lists no models" in err


def test_status_human_and_json(server: ScriptedServer) -> None:
    code, out, _ = cli("status", "--endpoint", server.base_url)
    assert code == 0
    assert "✓ Server reachable" in out and "State: ready" in out
    server.models = ["ai/qwen3"]
    code, out, _ = cli("status", "--endpoint", server.base_url, "--json")
    assert code == 1
    data = json.loads(out)
    assert data["ok"] is False and data["status"]["state"] == "model_missing"
    assert data["status"]["error"]["code"] == "model_missing"


def test_corrupt_config_is_reported_and_survived(server: ScriptedServer, paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True)
    paths.config_file.write_text("{ this is not json")
    code, _, err = cli("models", "--endpoint", server.base_url)
    assert code == 0
    assert "could not be read" in err and "config.json.corrupt-" in err
    assert not paths.config_file.exists()


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli("--help")
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("ask", "models", "status", "serve", "chat", "prompt", "settings", "quit"):
        assert command in out
    assert "no command: start the tray app" in out
