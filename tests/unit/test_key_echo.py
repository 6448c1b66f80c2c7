"""A server that echoes the API key back: the key is never printed, put in --json or stored."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import cli
from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import MessageStatus
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.redact import REDACTED, Redactor

KEY = "sk-echoed-0123456789"


@pytest.fixture
def echoing(server: ScriptedServer, monkeypatch: pytest.MonkeyPatch) -> ScriptedServer:
    monkeypatch.setenv("LOCAL_API_KEY", KEY)
    server.echo_auth = True
    return server


@pytest.mark.parametrize(
    "reply",
    [
        Reply(status=500, error_message="internal failure"),
        Reply(status=400, error_message="bad parameter"),
        Reply(status=400, error_body="plain text error", content_type="text/plain"),
        Reply(error_event_after=2, n_tokens=5, error_message="model crashed"),
    ],
    ids=["500", "400", "plain-body", "sse-error-event"],
)
def test_ask_never_prints_an_echoed_key(echoing: ScriptedServer, reply: Reply) -> None:
    echoing.script(reply)
    code, out, err = cli("ask", "--endpoint", echoing.base_url, "--no-resolve", "hi")
    assert code == 1
    assert echoing.chat_requests()[0].headers["authorization"] == f"Bearer {KEY}"  # it was sent…
    assert KEY not in out and KEY not in err  # …and never shown
    assert REDACTED in err and "error:" in err


def test_status_and_models_never_show_an_echoed_key(echoing: ScriptedServer) -> None:
    echoing.api_key = "the-right-key"  # ours is wrong: the 401 body quotes it
    for argv in (("status", "--quick"), ("status", "--quick", "--json"), ("models",), ("models", "--json")):
        code, out, err = cli(*argv, "--endpoint", echoing.base_url)
        assert code == 1, argv
        assert KEY not in out and KEY not in err, argv
    _, out, _ = cli("status", "--json", "--endpoint", echoing.base_url)
    report = json.loads(out)  # still valid JSON
    assert REDACTED in json.dumps(report["status"]["error"])


def test_status_json_of_a_generation_error_has_no_key(echoing: ScriptedServer) -> None:
    echoing.script(Reply(status=500, error_message="out of memory"))
    code, out, _ = cli("status", "--json", "--endpoint", echoing.base_url)
    assert code == 1 and KEY not in out
    generation = json.loads(out)["checks"][-1]
    assert generation["name"] == "Generation" and REDACTED in generation["detail"]


def test_history_bytes_never_hold_a_known_key(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path, redactor=Redactor([KEY])) as history:
        conv = history.create_conversation()
        history.add_message(conv.id, "user", f"my key is {KEY}")
        answer = history.add_message(conv.id, "assistant", "", status=MessageStatus.STREAMING)
        error = make_error(ErrorCode.SERVER_ERROR, f"failed: key {KEY} refused", detail=KEY)
        history.update_message(
            answer.id, content=f"partial {KEY}", status=MessageStatus.ERROR, meta={"error": error.to_dict()}
        )
        assert KEY not in history.message(answer.id).content
    files = [p for p in tmp_path.iterdir() if p.name.startswith("history.sqlite3")]
    assert files and all(KEY.encode() not in p.read_bytes() for p in files)


def test_redacted_errors_keep_everything_but_the_key() -> None:
    error = make_error(
        ErrorCode.RATE_LIMITED,
        f"slow down {KEY}",
        detail=f"Authorization: Bearer {KEY}",
        status=429,
        retry_after=2.0,
        suggestions=[KEY],
    )
    error.partial = "kept"
    clean = error.redacted(Redactor([KEY]).redact)
    assert KEY not in json.dumps(clean.to_dict())
    assert (clean.code, clean.status, clean.retry_after, clean.partial) == (
        ErrorCode.RATE_LIMITED,
        429,
        2.0,
        "kept",
    )
    assert clean.message == f"slow down {REDACTED}" and clean.hint == error.hint


def test_stored_text_keeps_credential_examples_but_not_the_key() -> None:
    redactor = Redactor([KEY])
    example = "curl -H 'Authorization: Bearer abc123'"
    assert redactor.redact_secrets(f"{example} {KEY}") == f"{example} {REDACTED}"
    assert redactor.redact(example) != example  # logs and errors use the patterns as well
    assert redactor.redact_data({"a": [KEY, 1]}) == {"a": [REDACTED, 1]}
