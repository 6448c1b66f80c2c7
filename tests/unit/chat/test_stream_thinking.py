"""A reasoning model's thinking over real HTTP: apart from the answer, timed, never in the text."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.chat.thinking import PartKind
from trayai.core.net.client import Endpoint, GenerationOptions, ModelClient

pytestmark = pytest.mark.anyio


def client_for(server: ScriptedServer) -> ModelClient:
    return ModelClient(Endpoint.create(server.base_url, "dummy-key"))


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
async def test_reasoning_deltas_are_thinking_not_answer(server: ScriptedServer, field: str) -> None:
    server.script(Reply(text="Paris.", reasoning="The capital of France is Paris.", reasoning_field=field))
    async with (
        client_for(server) as client,
        client.stream_chat([{"role": "user", "content": "Capital?"}], model="m") as stream,
    ):
        parts = [p async for p in stream.parts()]
    kinds = [p.kind for p in parts]
    assert kinds[0] is PartKind.THINKING and kinds[-1] is PartKind.ANSWER
    assert kinds.index(PartKind.ANSWER) == kinds.count(PartKind.THINKING)  # all thinking came first
    result = stream.result
    assert result is not None and result.finish_reason == "stop"
    assert result.text == "Paris." and result.thinking == "The capital of France is Paris."
    assert result.thinking_seconds is not None and result.thinking_seconds >= 0
    assert result.to_dict()["thinking_s"] is not None


async def test_a_think_block_in_the_content_is_split_off(server: ScriptedServer) -> None:
    server.script(Reply(tokens=["<th", "ink>", "Hmm, ", "a greeting.", "</thi", "nk>\n\n", "Hello", "!"]))
    async with (
        client_for(server) as client,
        client.stream_chat([{"role": "user", "content": "Hi"}], model="m") as stream,
    ):
        answer = [delta async for delta in stream]  # plain iteration: the answer only
    assert "".join(answer) == "Hello!"
    assert stream.result is not None and stream.result.thinking == "Hmm, a greeting."


async def test_a_non_streamed_completion_splits_thinking_too(server: ScriptedServer) -> None:
    server.script(Reply(text="<think>quick thought</think>\nYes.", reasoning=None))
    async with client_for(server) as client:
        result = await client.complete([{"role": "user", "content": "?"}], model="m")
    assert (result.thinking, result.text) == ("quick thought", "Yes.")
    server.script(Reply(text="No.", reasoning="long thought"))
    async with client_for(server) as client:
        result = await client.complete([{"role": "user", "content": "?"}], model="m")
    assert (result.thinking, result.text) == ("long thought", "No.")


async def test_thinking_counts_against_max_tokens_and_as_progress(server: ScriptedServer) -> None:
    """A model that only thinks, forever, is still stopped by the max_tokens guard."""
    server.script(Reply(text="x", reasoning="think " * 400))
    async with client_for(server) as client:
        stream = client.stream_chat(
            [{"role": "user", "content": "?"}], model="m", options=GenerationOptions(max_tokens=50)
        )
        with pytest.raises(Exception) as failed:
            async with stream:
                async for _ in stream:
                    pass
    assert "ignored max_tokens=50" in str(failed.value)
    assert stream.thinking.startswith("think think")


def test_ask_prints_thinking_on_stderr_and_the_answer_on_stdout(server: ScriptedServer) -> None:
    from tests.support.cli import cli

    server.script(Reply(text="Paris.", reasoning="France's capital\x1b]0;x\x07 is Paris."))
    code, out, err = cli("ask", "--endpoint", server.base_url, "Capital?")
    assert code == 0 and out == "Paris.\n"
    assert err.startswith("Thinking…\nFrance's capital is Paris.\n(thought for ")  # controls removed
    server.script(Reply(text="Paris.", reasoning="France's capital is Paris."))
    code, out, err = cli("ask", "--no-thinking", "--endpoint", server.base_url, "Capital?")
    assert code == 0 and out == "Paris.\n"
    assert "France's capital" not in err and "(thought for " in err


def test_batch_records_keep_thinking_apart(server: ScriptedServer, tmp_path: Path) -> None:
    import json

    from tests.support.cli import cli

    server.script(Reply(text="4", reasoning="2+2 is 4."))
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"id": "a", "prompt": "2+2?"}) + "\n")
    out = tmp_path / "out.jsonl"
    code, _, _ = cli("batch", str(source), "-o", str(out), "--endpoint", server.base_url)
    record = json.loads(out.read_text())
    assert code == 0 and (record["answer"], record["thinking"]) == ("4", "2+2 is 4.")
