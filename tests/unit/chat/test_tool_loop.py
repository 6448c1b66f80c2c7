"""The answer pipeline's tool loop: the scripted model calls tools (streamed in fragments, several per
turn), a fake hub answers, and each decision — allow once, always (saved to mcp.json), deny, never,
invalid arguments, no one to ask, the round limit, Stop mid-call — reaches the model in the API's shape."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.fake_tools import TIME_SCHEMA, FakeToolHub, answering, held_until
from tests.support.scripted_server import Reply, ScriptedCall, ScriptedServer, tool_reply
from tests.support.waiting import until
from trayai.core.chat.answer import Answer, AnswerEvent, AnswerTarget, Done, Failed, Text
from trayai.core.chat.tool_loop import (
    CANCELLED_CONTENT,
    CallOutcome,
    RequestedCall,
    ToolCallDone,
    ToolCallRequested,
    ToolLimitReached,
    ToolUse,
    without_orphans,
)
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.net.wire import ChatMessage
from trayai.core.paths import AppPaths
from trayai.core.settings.memory_keyring import MemoryKeyring
from trayai.core.settings.secrets import TOOLS_SERVICE, SecretStore
from trayai.core.tools.config import ServerConfig, StdioLaunch, ToolPolicy, ToolsConfig, ToolsStore
from trayai.core.tools.hub import HubTool
from trayai.core.tools.policy import Approval, remember
from trayai.core.tools.results import MAX_RESULT_BYTES

pytestmark = pytest.mark.anyio

NOW = "time__get_current_time"
QUESTION: list[ChatMessage] = [{"role": "user", "content": "What time is it in Tokyo?"}]


@pytest.fixture
async def client(server: ScriptedServer) -> AsyncIterator[ModelClient]:
    async with ModelClient(Endpoint.create(server.base_url, "dummy-key")) as client:
        yield client


@pytest.fixture
def hub() -> FakeToolHub:
    hub = FakeToolHub()
    hub.add(
        "time", "get_current_time", answering('{"datetime": "2026-12-07T12:00:00+09:00"}'), schema=TIME_SCHEMA
    )
    return hub


class Person:
    """The approval callback: answers in order, records what it was shown."""

    def __init__(self, *answers: Approval) -> None:
        self.answers = list(answers)
        self.asked: list[RequestedCall] = []

    async def __call__(self, request: RequestedCall) -> Approval:
        self.asked.append(request)
        return self.answers.pop(0)


def tokyo(call_id: str = "call_1") -> ScriptedCall:
    return ScriptedCall(NOW, '{"timezone": "Asia/Tokyo"}', id=call_id)


async def run(answer: Answer) -> list[AnswerEvent]:
    return [event async for event in answer.events()]


def answer_for(client: ModelClient, use: ToolUse, turns: list[ChatMessage] = QUESTION) -> Answer:
    return Answer([AnswerTarget(client, "ai/smollm2", None)], turns, tools=use, check_models=False)


def sent(server: ScriptedServer, index: int) -> list[dict[str, Any]]:
    messages = server.chat_requests()[index].json["messages"]
    assert isinstance(messages, list)
    return messages


async def test_allow_once_runs_the_call_and_the_model_answers_from_it(
    server: ScriptedServer, client: ModelClient, hub: FakeToolHub
) -> None:
    server.script(
        tool_reply(tokyo(), text="Let me check. ", tool_fragments=4), Reply(text="It is noon in Tokyo.")
    )
    person = Person(Approval.ONCE)
    answer = answer_for(client, ToolUse(hub, person))
    events = await run(answer)

    kinds = [type(e).__name__ for e in events]
    assert kinds.index("ToolCallRequested") < kinds.index("ToolCallDone") < len(kinds) - 1
    assert isinstance(events[-1], Done) and answer.rounds == 1
    [request] = person.asked
    assert (request.server, request.tool, json.loads(request.arguments)) == (
        "time",
        "get_current_time",
        {"timezone": "Asia/Tokyo"},
    )
    assert request.arguments == '{\n  "timezone": "Asia/Tokyo"\n}'  # pretty, for the card
    assert hub.calls == [(NOW, {"timezone": "Asia/Tokyo"})]
    assert answer.text == "Let me check. It is noon in Tokyo." and answer.reply_text == "It is noon in Tokyo."

    first, _ = server.chat_requests()
    assert [t["function"]["name"] for t in first.json["tools"]] == [NOW]
    assert first.json["tool_choice"] == "auto"
    assert sent(server, 1)[1:] == [
        {
            "role": "assistant",
            "content": "Let me check. ",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": NOW, "arguments": tokyo().arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"datetime": "2026-12-07T12:00:00+09:00"}'},
    ]
    assert answer.exchange == sent(server, 1)[1:]


async def test_always_is_saved_to_mcp_json_and_not_asked_again(
    server: ScriptedServer, client: ModelClient, hub: FakeToolHub, paths: AppPaths
) -> None:
    store = ToolsStore.at(paths, SecretStore(MemoryKeyring(), service=TOOLS_SERVICE))
    store.save(ToolsConfig({"time": ServerConfig("time", stdio=StdioLaunch("mcp-server-time"))}))

    def saved(tool: HubTool) -> None:
        config = remember(store, tool.info.server, tool.info.name)
        hub.set_policy(tool.name, config.server(tool.info.server).policy(tool.info.name))

    server.script(
        tool_reply(tokyo("a"), ScriptedCall(NOW, '{"timezone": "UTC"}', id="b"), interleave=True),
        tool_reply(tokyo("c")),
        Reply(text="Done."),
    )
    person = Person(Approval.ALWAYS)
    events = await run(answer_for(client, ToolUse(hub, person, saved)))
    assert isinstance(events[-1], Done)
    assert len(person.asked) == 1 and len(hub.calls) == 3  # asked once; the rest ran
    assert store.load().server("time").policies == {"get_current_time": ToolPolicy.ALLOW}
    assert hub.tools[NOW].policy is ToolPolicy.ALLOW


async def test_deny_tells_the_model_and_runs_nothing(
    server: ScriptedServer, client: ModelClient, hub: FakeToolHub
) -> None:
    server.script(tool_reply(tokyo()), Reply(text="I cannot check the time."))
    events = await run(answer_for(client, ToolUse(hub, Person(Approval.DENY))))
    [done] = [e for e in events if isinstance(e, ToolCallDone)]
    assert done.outcome is CallOutcome.DENIED and hub.calls == []
    tool = sent(server, 1)[-1]
    assert tool["role"] == "tool" and tool["content"].startswith("The user denied this call")


async def test_never_and_allow_are_decided_without_asking(
    server: ScriptedServer, client: ModelClient, hub: FakeToolHub
) -> None:
    hub.add("fs", "delete", answering("deleted"), policy=ToolPolicy.NEVER)
    hub.set_policy(NOW, ToolPolicy.ALLOW)
    server.script(tool_reply(ScriptedCall("fs__delete", "{}", id="x"), tokyo("y")), Reply(text="ok"))
    person = Person()
    events = await run(answer_for(client, ToolUse(hub, person)))
    outcomes = [e.outcome for e in events if isinstance(e, ToolCallDone)]
    assert outcomes == [CallOutcome.REFUSED, CallOutcome.RAN] and person.asked == []
    assert hub.calls == [(NOW, {"timezone": "Asia/Tokyo"})]
    assert [t["function"]["name"] for t in server.chat_requests()[0].json["tools"]] == [
        NOW
    ]  # never: not offered
    refused = sent(server, 1)[2]
    assert refused["tool_call_id"] == "x" and "settings do not allow" in refused["content"]


async def test_invalid_arguments_are_refused_with_the_schema_error(
    server: ScriptedServer, client: ModelClient, hub: FakeToolHub
) -> None:
    server.script(
        tool_reply(ScriptedCall(NOW, '{"timezone": 9}', id="bad"), ScriptedCall(NOW, '{"timez', id="cut")),
        Reply(text="Sorry."),
    )
    person = Person()
    events = await run(answer_for(client, ToolUse(hub, person)))
    done = [e for e in events if isinstance(e, ToolCallDone)]
    assert [d.outcome for d in done] == [CallOutcome.INVALID, CallOutcome.INVALID]
    assert person.asked == [] and hub.calls == []
    wrong_type, not_json = (m["content"] for m in sent(server, 1)[2:])
    assert "$.timezone: 9 is not of type 'string'" in wrong_type
    assert "not valid JSON" in not_json


async def test_an_unknown_tool_and_no_one_to_ask(
    server: ScriptedServer, client: ModelClient, hub: FakeToolHub
) -> None:
    server.script(tool_reply(ScriptedCall("web__fetch", "{}"), tokyo()), Reply(text="ok"))
    events = await run(answer_for(client, ToolUse(hub, approve=None)))
    done = [e for e in events if isinstance(e, ToolCallDone)]
    assert [d.outcome for d in done] == [CallOutcome.UNKNOWN, CallOutcome.REFUSED] and hub.calls == []
    assert done[0].request.title == "web__fetch" and done[1].request.title == "time/get_current_time"


async def test_the_round_limit_is_said_and_the_model_answers_without_tools(
    server: ScriptedServer, client: ModelClient, hub: FakeToolHub
) -> None:
    hub.set_policy(NOW, ToolPolicy.ALLOW)
    server.set_default(tool_reply(tokyo()))  # a model that never stops calling
    answer = answer_for(client, ToolUse(hub, max_rounds=2))
    events = await run(answer)
    [limit] = [e for e in events if isinstance(e, ToolLimitReached)]
    assert limit.rounds == 2 and "stopped after 2 rounds" in limit.note
    assert isinstance(events[-1], Done) and len(hub.calls) == 2
    requests = server.chat_requests()
    assert [r.json["tool_choice"] for r in requests] == ["auto", "auto", "auto", "none"]


async def test_stop_during_a_call_cancels_it_and_keeps_what_happened(
    server: ScriptedServer, client: ModelClient
) -> None:
    hub = FakeToolHub()
    release = asyncio.Event()
    hub.add("slow", "wait", held_until(release), policy=ToolPolicy.ALLOW)
    server.script(
        tool_reply(
            ScriptedCall("slow__wait", "{}", id="w"),
            ScriptedCall("slow__wait", "{}", id="v"),
            text="Waiting… ",
        )
    )
    answer = answer_for(client, ToolUse(hub))
    seen: list[AnswerEvent] = []

    async def consume() -> None:
        async with contextlib.aclosing(answer.events()) as events:
            async for event in events:
                seen.append(event)

    task = asyncio.create_task(consume())
    await until(hub.started.is_set, what="the call to start")
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert hub.cancelled == 1 and answer.text == "Waiting… "
    assert [type(e) for e in seen if isinstance(e, (ToolCallRequested, ToolCallDone))] == [ToolCallRequested]
    assistant, first, second = answer.exchange
    assert assistant["tool_calls"][0]["id"] == "w"
    assert (first["tool_call_id"], first["content"]) == ("w", CANCELLED_CONTENT)
    assert (second["tool_call_id"], second["content"]) == ("v", CANCELLED_CONTENT)  # every call answered
    assert len(server.chat_requests()) == 1


async def test_a_hostile_result_is_capped_and_sent_as_text(
    server: ScriptedServer, client: ModelClient
) -> None:
    hub = FakeToolHub()
    flood = "\x1b]0;owned\x07\x1b[2J" + "A" * (2 * MAX_RESULT_BYTES)
    hub.add("evil", "flood", answering(flood), policy=ToolPolicy.ALLOW)
    server.script(tool_reply(ScriptedCall("evil__flood", "{}")), Reply(text="ok"))
    events = await run(answer_for(client, ToolUse(hub)))
    [done] = [e for e in events if isinstance(e, ToolCallDone)]
    assert done.truncated and done.result is not None
    assert len(done.content.encode()) < MAX_RESULT_BYTES + 200 and "truncated" in done.content
    assert sent(server, 1)[-1]["content"] == done.content  # the model gets the capped text


async def test_without_tools_nothing_changes(server: ScriptedServer, client: ModelClient) -> None:
    server.script(tool_reply(tokyo(), text="Hm."))
    answer = Answer([AnswerTarget(client, "ai/smollm2", None)], QUESTION, check_models=False)
    events = await run(answer)
    assert [type(e).__name__ for e in events] == ["Started", "Text", "Done"]
    assert "tools" not in server.chat_requests()[0].json and answer.exchange == []


async def test_a_failed_tool_call_is_told_to_the_model(server: ScriptedServer, client: ModelClient) -> None:
    from trayai.core.error_catalog import ErrorCode
    from trayai.core.errors import make_error

    async def crash(_arguments: object) -> str:
        raise make_error(ErrorCode.TOOL_SERVER_EXITED, "Tool server 'x' exited during the call (exit code 1)")

    hub = FakeToolHub()
    hub.add("x", "boom", crash, policy=ToolPolicy.ALLOW)
    server.script(tool_reply(ScriptedCall("x__boom", "{}")), Reply(text="It failed."))
    events = await run(answer_for(client, ToolUse(hub)))
    [done] = [e for e in events if isinstance(e, ToolCallDone)]
    assert done.outcome is CallOutcome.FAILED and done.error is not None
    assert sent(server, 1)[-1]["content"].startswith("Error: the tool call failed: Tool server 'x' exited")
    assert not any(isinstance(e, Failed) for e in events) and isinstance(events[-2], Text)


def test_trimmed_history_never_starts_with_an_orphan_tool_result() -> None:
    system: ChatMessage = {"role": "system", "content": "s"}
    orphan: ChatMessage = {"role": "tool", "tool_call_id": "gone", "content": "r"}
    user: ChatMessage = {"role": "user", "content": "q"}
    assert without_orphans([system, orphan, orphan, user]) == [system, user]
    assert without_orphans([orphan, user]) == [user]
    assert without_orphans([system, user]) == [system, user]


async def test_a_profile_that_does_not_stream_gets_the_same_loop(
    server: ScriptedServer, client: ModelClient, hub: FakeToolHub
) -> None:
    hub.set_policy(NOW, ToolPolicy.ALLOW)
    server.script(tool_reply(tokyo(), text="Looking. "), Reply(text="Noon."))
    target = AnswerTarget(client, "ai/smollm2", None, stream=False)
    answer = Answer([target], QUESTION, tools=ToolUse(hub), check_models=False)
    events = await run(answer)
    assert isinstance(events[-1], Done) and hub.calls == [(NOW, {"timezone": "Asia/Tokyo"})]
    assert [r.json["stream"] for r in server.chat_requests()] == [False, False]
    assert sent(server, 1)[-1]["tool_call_id"] == "call_1" and answer.reply_text == "Noon."
