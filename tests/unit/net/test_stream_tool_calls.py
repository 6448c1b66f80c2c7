"""Tool calls over real HTTP: the request carries ``tools`` (+ ``tool_choice``) only when given, and the
calls the model streams in fragments (several, interleaved) or sends whole come back on the result."""

from __future__ import annotations

import pytest

from tests.support.scripted_server import Reply, ScriptedCall, ScriptedServer, tool_reply
from trayai.core.net.client import Endpoint, GenerationOptions, ModelClient
from trayai.core.net.wire import ChatMessage

pytestmark = pytest.mark.anyio

TOOL = {"type": "function", "function": {"name": "time__now", "parameters": {"type": "object"}}}
ASK: list[ChatMessage] = [{"role": "user", "content": "What time is it?"}]


def client_for(server: ScriptedServer) -> ModelClient:
    return ModelClient(Endpoint.create(server.base_url, "dummy-key"))


async def test_tools_are_sent_only_when_given(server: ScriptedServer) -> None:
    server.script(Reply(text="a"), Reply(text="b"))
    async with client_for(server) as client:
        async with client.stream_chat(ASK, model="m") as stream:
            assert "".join([t async for t in stream]) == "a"
        options = GenerationOptions(tools=(TOOL,))
        async with client.stream_chat(ASK, model="m", options=options) as stream:
            assert "".join([t async for t in stream]) == "b"
    plain, with_tools = (r.json for r in server.chat_requests())
    assert "tools" not in plain and "tool_choice" not in plain
    assert with_tools["tools"] == [TOOL] and with_tools["tool_choice"] == "auto"


@pytest.mark.parametrize("interleave", [False, True])
async def test_parallel_calls_streamed_in_fragments_are_assembled(
    server: ScriptedServer, interleave: bool
) -> None:
    server.script(
        tool_reply(
            ScriptedCall("time__now", '{"timezone": "Europe/Paris"}', id="a"),
            ScriptedCall("time__now", '{"timezone": "Asia/Tokyo"}', id="b"),
            text="Let me look.",
            tool_fragments=5,
            interleave=interleave,
        )
    )
    options = GenerationOptions(tools=(TOOL,))
    async with client_for(server) as client, client.stream_chat(ASK, model="m", options=options) as stream:
        text = "".join([t async for t in stream])
    result = stream.result
    assert result is not None and text == "Let me look."
    assert result.finish_reason == "tool_calls"
    assert [(c.id, c.name, c.arguments) for c in result.tool_calls] == [
        ("a", "time__now", '{"timezone": "Europe/Paris"}'),
        ("b", "time__now", '{"timezone": "Asia/Tokyo"}'),
    ]


async def test_malformed_arguments_arrive_as_sent(server: ScriptedServer) -> None:
    server.script(tool_reply(ScriptedCall("time__now", '{"timezone": "UT')))
    async with client_for(server) as client, client.stream_chat(ASK, model="m") as stream:
        assert [t async for t in stream] == []
    assert stream.result is not None
    [call] = stream.result.tool_calls
    assert call.arguments == '{"timezone": "UT' and call.id == "call_0"


async def test_a_whole_completion_carries_its_calls(server: ScriptedServer) -> None:
    server.script(tool_reply(ScriptedCall("time__now", "{}"), ScriptedCall("time__now", '{"a": 1}')))
    async with client_for(server) as client:
        result = await client.complete(ASK, model="m", options=GenerationOptions(tools=(TOOL,)))
    assert result.finish_reason == "tool_calls"
    assert [(c.index, c.id, c.arguments) for c in result.tool_calls] == [
        (0, "call_0", "{}"),
        (1, "call_1", '{"a": 1}'),
    ]
    assert server.chat_requests()[0].json["tools"] == [TOOL]


async def test_an_answer_without_calls_has_none(server: ScriptedServer) -> None:
    server.script(Reply(text="Noon."))
    async with client_for(server) as client, client.stream_chat(ASK, model="m") as stream:
        assert "".join([t async for t in stream]) == "Noon."
    assert stream.result is not None and stream.result.tool_calls == ()
