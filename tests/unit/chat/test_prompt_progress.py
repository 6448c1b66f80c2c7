"""Prompt-reading progress (llama.cpp's ``prompt_progress``) over real HTTP: asked only of servers
known to report it, parsed into typed events before the first token, carried by the answer pipeline,
and worded the same everywhere.

Why: a long prompt is read for seconds to minutes with nothing on screen; an unknown request field
can break a strict server, so the field goes only where ``/models`` proved llama.cpp.
"""

from __future__ import annotations

import pytest

from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.chat.answer import Answer, AnswerTarget, Reading, Text
from trayai.core.chat.thinking import StreamPart
from trayai.core.chat.waiting import Wait, WaitPhase, wait_words
from trayai.core.net.backends.records import ServerKind
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.net.prompt_progress import PromptProgress, parse_prompt_progress, progress_words
from trayai.core.net.wire import ChatMessage

pytestmark = pytest.mark.anyio

QUESTION: list[ChatMessage] = [{"role": "user", "content": "Read all of this."}]


def client_for(server: ScriptedServer, **endpoint: float) -> ModelClient:
    return ModelClient(Endpoint.create(server.base_url, "dummy-key", **endpoint))


def llama(server: ScriptedServer, reply: Reply) -> None:
    server.owned_by = "llamacpp"  # what llama.cpp's /v1/models says (single and router mode)
    server.models = ["m"]
    server.script(reply)


READ_IN_THREE = Reply(text="Done.", progress_steps=[0, 1840, 4096], progress_total=4096)


def test_parsing_takes_only_what_a_server_would_send() -> None:
    assert parse_prompt_progress({"prompt_progress": {"total": 4096, "cache": 12, "processed": 1840}}) == (
        PromptProgress(4096, 1840, 12, 0)
    )
    for junk in (
        {},
        {"prompt_progress": None},
        {"prompt_progress": {"total": 0, "processed": 0}},
        {"prompt_progress": {"total": "4096", "processed": 1}},
        {"prompt_progress": {"total": 10, "processed": -1}},
        {"prompt_progress": {"total": True, "processed": 1}},
    ):
        assert parse_prompt_progress(junk) is None, junk
    over = parse_prompt_progress({"prompt_progress": {"total": 10, "processed": 99, "cache": 50}})
    assert over == PromptProgress(10, 10, 10, 0)  # never more than all of it


def test_words_in_the_chat_and_the_terminal() -> None:
    assert progress_words(PromptProgress(4096, 1840)) == "Reading the prompt… 45 % (1,840 / 4,096 tokens)"
    assert progress_words(PromptProgress(1000, 999)) == "Reading the prompt… 99 % (999 / 1,000 tokens)"
    assert progress_words(PromptProgress(1000, 1000)) == "Reading the prompt… 100 % (1,000 / 1,000 tokens)"
    reading = Wait(WaitPhase.READING, 3.4, "q", reading=PromptProgress(4096, 1840))
    assert wait_words(reading) == "Reading the prompt… 45 % (1,840 / 4,096 tokens) · 3 s"


def test_the_switch_is_per_backend() -> None:
    assert {k for k in ServerKind if k.reports_prompt_progress} == {
        ServerKind.LLAMACPP,
        ServerKind.LLAMACPP_ROUTER,
        ServerKind.BUILTIN,
    }
    assert ServerKind.from_owner("llamacpp") is ServerKind.LLAMACPP
    assert ServerKind.from_owner("vllm") is None  # proves nothing this switch needs
    assert ServerKind.from_owner(None) is None


async def test_llama_cpp_gets_the_field_and_its_progress_comes_first(server: ScriptedServer) -> None:
    llama(server, READ_IN_THREE)
    async with client_for(server) as client:
        await client.list_models()
        assert client.kind is ServerKind.LLAMACPP
        async with client.stream_chat(QUESTION, model="m") as stream:
            pieces = [p async for p in stream.pieces()]
    assert (server.chat_requests()[-1].body or {})["return_progress"] is True
    progress = [p for p in pieces if isinstance(p, PromptProgress)]
    assert [p.processed for p in progress] == [0, 1840, 4096]
    assert all(p.total == 4096 for p in progress)
    first_text = next(i for i, p in enumerate(pieces) if isinstance(p, StreamPart))
    assert first_text == len(progress)  # every report before the first token
    assert stream.progress == PromptProgress(4096, 4096, 0, 20)
    assert stream.result is not None and stream.result.text == "Done."
    assert stream.result.usage.completion_tokens == 1  # progress chunks are not tokens


@pytest.mark.parametrize("owner", ["vllm", "library", "organization_owner", "scripted"])
async def test_other_servers_never_get_the_field(server: ScriptedServer, owner: str) -> None:
    server.owned_by = owner
    server.models = ["m"]
    server.script(READ_IN_THREE)
    async with client_for(server) as client:
        await client.list_models()
        async with client.stream_chat(QUESTION, model="m") as stream:
            pieces = [p async for p in stream.pieces()]
    assert "return_progress" not in (server.chat_requests()[-1].body or {})
    assert not any(isinstance(p, PromptProgress) for p in pieces)


async def test_an_unlisted_server_is_not_asked(server: ScriptedServer) -> None:
    """No /models read yet (``ask --no-resolve``): nothing proves llama.cpp, nothing is sent."""
    llama(server, READ_IN_THREE)
    async with client_for(server) as client, client.stream_chat(QUESTION, model="m") as stream:
        assert [p async for p in stream] == ["Done."]
    assert "return_progress" not in (server.chat_requests()[-1].body or {})


async def test_a_refusal_is_sent_again_without_it_and_remembered(server: ScriptedServer) -> None:
    llama(server, Reply(text="Fine.", repeat=True))
    server.reject_return_progress = True  # a strict proxy in front of llama.cpp
    async with client_for(server) as client:
        await client.list_models()
        for _ in range(2):
            async with client.stream_chat(QUESTION, model="m") as stream:
                assert [p async for p in stream] == ["Fine."]
    assert ["return_progress" in (r.body or {}) for r in server.chat_requests()] == [True, False, False]


async def test_progress_keeps_a_long_read_alive(server: ScriptedServer) -> None:
    """The first-token deadline is for a silent server: one that reports progress is working."""
    slow = Reply(text="Read.", progress_steps=[0, 5, 10, 15, 20], progress_total=20, progress_interval=0.3)
    llama(server, slow)  # 1.2 s of reading, each report well within the 1 s stall deadline
    async with client_for(server, first_token_timeout=0.6, stall_timeout=1.0) as client:
        await client.list_models()
        async with client.stream_chat(QUESTION, model="m") as stream:
            assert [p async for p in stream] == ["Read."]


async def test_the_answer_pipeline_carries_it_as_reading_events(server: ScriptedServer) -> None:
    llama(server, READ_IN_THREE)
    async with client_for(server) as client:
        answer = Answer([AnswerTarget(client, "m", "local")], QUESTION)
        events = [e async for e in answer.events()]
    reading = [e.progress.processed for e in events if isinstance(e, Reading)]
    assert reading == [0, 1840, 4096]
    assert [e.text for e in events if isinstance(e, Text)] == ["Done."]
    assert answer.text == "Done."  # progress is never answer text
