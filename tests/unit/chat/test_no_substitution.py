"""Never substitute, never misattribute (issue 23, items 1 and 2), in ``ask``, ``batch`` and ``status``.

Why: a single-model server answers whatever name is sent. Without a check, ``--model gpt-4o`` printed
SmolLM2's answer as GPT-4o's; an ``--endpoint`` run was recorded under the profile it bypassed. The
chat and the quick prompt are covered in tests/ui/test_chat_no_substitution.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli import cli
from tests.support.scripted_server import Reply, ScriptedServer
from tests.unit.chat.test_fallback import configure  # the profiles saved, the first active, no autostart
from trayai.core.chat.modelcheck import check_listed, other_model
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile


def records(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


# ------------------------------------------------------------------------------------------ the rule


def test_a_listed_name_is_sent_in_the_servers_own_spelling() -> None:
    got = check_listed("ai/smollm2", ["docker.io/ai/smollm2:latest"], "http://127.0.0.1:1/v1")
    assert (got.send, got.checked) == ("docker.io/ai/smollm2:latest", True)


def test_a_name_the_server_lacks_is_refused_with_its_names_closest_first() -> None:
    with pytest.raises(TrayaiError) as caught:
        check_listed("ai/smolm2", ["llama3.2", "ai/smollm2", "qwen3"], "http://127.0.0.1:1/v1")
    error = caught.value
    assert error.code is ErrorCode.MODEL_MISSING
    assert "'ai/smolm2' is not on 127.0.0.1:1 — it has: ai/smollm2, llama3.2, qwen3" in error.message
    assert error.hint.startswith("Nothing was sent. Did you mean 'ai/smollm2'?")


def test_a_long_list_is_cut_with_a_count() -> None:
    names = [f"model-{i}" for i in range(20)]
    with pytest.raises(TrayaiError) as caught:
        check_listed("gpt-4o", names, "http://127.0.0.1:1/v1")
    assert caught.value.message.endswith("and 12 more")


def test_no_list_means_the_name_goes_as_given() -> None:
    got = check_listed("gpt-4o", [], "http://127.0.0.1:1/v1")
    assert (got.send, got.checked) == ("gpt-4o", False)


@pytest.mark.parametrize(
    ("sent", "answered", "other"),
    [
        ("ai/smollm2", "ai/smollm2", None),
        ("docker.io/ai/smollm2:latest", "ai/smollm2", None),
        ("smollm2", "/models/smollm2.gguf", None),
        ("gpt-4o", "ai/smollm2", "ai/smollm2"),
        ("ai/smollm2", "", None),
    ],
)
def test_another_model_is_told_apart_from_another_spelling(
    sent: str, answered: str, other: str | None
) -> None:
    assert other_model(sent, answered) == other


# ------------------------------------------------------------------------------------------ ask


def test_ask_refuses_a_model_the_server_does_not_have_and_sends_nothing(server: ScriptedServer) -> None:
    code, out, err = cli("ask", "--endpoint", server.base_url, "--model", "gpt-4o", "hi")
    assert code == 1
    assert out == ""
    assert "'gpt-4o' is not on" in err and "it has: ai/smollm2" in err
    assert server.chat_requests() == []


def test_ask_refuses_the_profiles_model_when_the_server_lacks_it(
    paths: AppPaths, server: ScriptedServer
) -> None:
    configure(paths, Profile(name="mine", base_url=server.base_url, model="llama3"))
    code, out, err = cli("ask", "hi")
    assert code == 1 and out == ""
    assert "'llama3' is not on" in err
    assert server.chat_requests() == []


def test_ask_says_which_model_answered_when_the_server_chose_another(server: ScriptedServer) -> None:
    server.models = ["ai/smollm2"]
    server.script(Reply(text="Blue.", answer_model="qwen3-4b"))
    code, out, err = cli("ask", "--endpoint", server.base_url, "why is the sky blue")
    assert code == 0, err
    assert out == "Blue.\n"
    assert "note: answered by 'qwen3-4b', not 'ai/smollm2'" in err


def test_ask_without_streaming_says_so_too(paths: AppPaths, server: ScriptedServer) -> None:
    profile = Profile(name="mine", base_url=server.base_url, model="ai/smollm2")
    profile.generation.stream = False
    configure(paths, profile)
    server.script(Reply(text="Blue.", answer_model="qwen3-4b"))
    code, out, err = cli("ask", "why")
    assert code == 0, err
    assert out == "Blue.\n"
    assert "note: answered by 'qwen3-4b', not 'ai/smollm2'" in err


def test_ask_no_resolve_sends_the_name_as_given(server: ScriptedServer) -> None:
    code, _, err = cli("ask", "--endpoint", server.base_url, "--model", "gpt-4o", "--no-resolve", "hi")
    assert code == 0, err
    assert [r.json["model"] for r in server.chat_requests()] == ["gpt-4o"]


# ------------------------------------------------------------------------------------------ batch


def test_batch_refuses_a_missing_model_per_line_and_fails_the_run(
    server: ScriptedServer, tmp_path: Path
) -> None:
    source = tmp_path / "in.jsonl"
    source.write_text(
        json.dumps({"id": "good", "prompt": "one"})
        + "\n"
        + json.dumps({"id": "bad", "prompt": "two", "model": "gpt-4o"})
        + "\n"
    )
    out = tmp_path / "out.jsonl"
    code, _, err = cli("batch", str(source), "-o", str(out), "--endpoint", server.base_url)
    assert code == 1, err
    good, bad = records(out)
    assert good["error"] is None and good["model"] == "ai/smollm2"
    assert bad["error"]["code"] == "model_missing" and "it has: ai/smollm2" in bad["error"]["message"]
    assert bad["answer"] is None
    assert [r.json["messages"][-1]["content"] for r in server.chat_requests()] == ["one"]


def test_batch_records_the_model_that_answered_and_says_so_once(
    server: ScriptedServer, tmp_path: Path
) -> None:
    server.script(Reply(text="A.", answer_model="qwen3-4b", repeat=True))
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"id": f"q{i}", "prompt": f"q{i}"}) + "\n" for i in range(3)))
    out = tmp_path / "out.jsonl"
    code, _, err = cli("batch", str(source), "-o", str(out), "--endpoint", server.base_url)
    assert code == 0, err
    got = records(out)
    assert {(r["model"], r["asked_model"]) for r in got} == {("qwen3-4b", "ai/smollm2")}
    assert err.count("note: answered by 'qwen3-4b', not 'ai/smollm2'") == 1


def test_batch_with_endpoint_records_the_url_and_no_profile(
    paths: AppPaths, server: ScriptedServer, tmp_path: Path
) -> None:
    with ScriptedServer() as profiles_own:
        configure(paths, Profile(name="Local (port 8080)", base_url=profiles_own.base_url))
        source = tmp_path / "in.jsonl"
        source.write_text(json.dumps({"prompt": "hi"}) + "\n")
        out = tmp_path / "out.jsonl"
        code, _, err = cli("batch", str(source), "-o", str(out), "--endpoint", server.base_url)
        assert code == 0, err
        assert profiles_own.chat_requests() == []
    (record,) = records(out)
    assert (record["endpoint"], record["profile"]) == (server.base_url, None)


def test_batch_on_the_profiles_server_names_both(
    paths: AppPaths, server: ScriptedServer, tmp_path: Path
) -> None:
    configure(paths, Profile(name="mine", base_url=server.base_url))
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"prompt": "hi"}) + "\n")
    out = tmp_path / "out.jsonl"
    code, _, err = cli("batch", str(source), "-o", str(out))
    assert code == 0, err
    (record,) = records(out)
    assert (record["endpoint"], record["profile"]) == (server.base_url, "mine")


# ------------------------------------------------------------------------------------------ status


def test_status_names_the_server_an_endpoint_run_used(paths: AppPaths, server: ScriptedServer) -> None:
    configure(paths, Profile(name="Local (port 8080)", base_url="http://127.0.0.1:9/v1"))
    code, out, _ = cli("status", "--quick", "--endpoint", server.base_url)
    assert code == 0, out
    header = out.splitlines()[0]
    assert header == f"trayai status — {server.base_url} (from --endpoint)"
    code, out, _ = cli("status", "--quick", "--json", "--endpoint", server.base_url)
    data = json.loads(out)
    assert (data["profile"], data["base_url"]) == (None, server.base_url)


def test_status_names_the_profile_when_it_is_the_profiles_server(
    paths: AppPaths, server: ScriptedServer
) -> None:
    configure(paths, Profile(name="mine", base_url=server.base_url))
    code, out, _ = cli("status", "--quick")
    assert code == 0, out
    assert out.splitlines()[0] == f"trayai status — profile 'mine' ({server.base_url})"
