"""The model's tool calls: streamed deltas assembled, arguments checked, messages in the API's shape."""

from __future__ import annotations

import json
from typing import Any

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.tools.calls import (
    MAX_ARGUMENTS,
    MAX_CALLS,
    ToolCall,
    ToolCallAssembler,
    assistant_message,
    check_arguments,
    error_content,
    refusal_for_arguments,
    result_content,
    tool_message,
)
from trayai.core.tools.results import ToolResult

TIME_SCHEMA = {
    "type": "object",
    "properties": {"timezone": {"type": "string"}, "hours": {"type": "integer", "minimum": 0}},
    "required": ["timezone"],
    "additionalProperties": False,
}


def _delta(
    index: int | None = None, call_id: str | None = None, name: str | None = None, args: Any = None
) -> dict[str, Any]:
    part: dict[str, Any] = {}
    if index is not None:
        part["index"] = index
    if call_id is not None:
        part["id"], part["type"] = call_id, "function"
    function: dict[str, Any] = {}
    if name is not None:
        function["name"] = name
    if args is not None:
        function["arguments"] = args
    if function:
        part["function"] = function
    return {"role": "assistant", "content": None, "tool_calls": [part]}


def test_openai_fragments_make_one_call() -> None:
    assembler = ToolCallAssembler()
    assembler.feed({"role": "assistant", "content": ""})  # the first chunk: no tool_calls yet
    assert assembler.empty
    assembler.feed(_delta(0, "call_abc", "time__get_current_time", ""))
    for fragment in ['{"time', 'zone"', ': "Europe/', 'Paris"}']:
        assembler.feed(_delta(0, args=fragment))
    [call] = assembler.calls()
    assert (call.id, call.name, call.arguments) == (
        "call_abc",
        "time__get_current_time",
        '{"timezone": "Europe/Paris"}',
    )


def test_parallel_calls_interleaved_keep_their_own_arguments_and_order() -> None:
    assembler = ToolCallAssembler()
    assembler.feed(_delta(1, "call_b", "b", ""))
    assembler.feed(_delta(0, "call_a", "a", ""))
    assembler.feed(_delta(1, args='{"x": '))
    assembler.feed(_delta(0, args='{"y": 2}'))
    assembler.feed(_delta(1, args="1}"))
    # several calls in one delta, as some servers send them
    assembler.feed(
        {
            "tool_calls": [
                {"index": 2, "id": "call_c", "function": {"name": "c", "arguments": "{}"}},
                {"index": 3, "id": "call_d", "function": {"name": "d", "arguments": ""}},
            ]
        }
    )
    calls = assembler.calls()
    assert [(c.id, c.name, c.arguments) for c in calls] == [
        ("call_a", "a", '{"y": 2}'),
        ("call_b", "b", '{"x": 1}'),
        ("call_c", "c", "{}"),
        ("call_d", "d", ""),
    ]


def test_servers_variations_no_index_repeated_name_object_arguments_no_id() -> None:
    assembler = ToolCallAssembler()
    assembler.feed(_delta(None, "call_1", "first", '{"a":'))
    assembler.feed(_delta(None, None, "first", " 1}"))  # the name repeated with every fragment
    assembler.feed(_delta(None, "call_2", "second", {"b": 2}))  # Ollama: arguments as an object
    assembler.feed({"tool_calls": [{"index": 5, "function": {"name": "third", "arguments": "{}"}}]})  # no id
    assembler.feed({"tool_calls": ["junk", {"index": 6}]})  # nothing usable: ignored, not a crash
    calls = assembler.calls()
    assert [(c.name, c.arguments) for c in calls] == [
        ("first", '{"a": 1}'),
        ("second", '{"b": 2}'),
        ("third", "{}"),
        ("", ""),
    ]
    assert len({c.id for c in calls}) == 4 and all(c.id for c in calls)


def test_a_name_in_fragments_is_joined() -> None:
    assembler = ToolCallAssembler()
    assembler.feed(_delta(0, "c1", "time__get_", ""))
    assembler.feed(_delta(0, None, "current_time", "{}"))
    assert assembler.calls()[0].name == "time__get_current_time"


def test_too_many_calls_and_too_long_arguments_are_bounded() -> None:
    assembler = ToolCallAssembler()
    for index in range(MAX_CALLS + 5):
        assembler.feed(_delta(index, f"c{index}", "t", "{}"))
    assert len(assembler.calls()) == MAX_CALLS and assembler.dropped == 5
    big = ToolCallAssembler()
    big.feed(_delta(0, "c", "t", '{"x": "'))
    for _ in range(MAX_ARGUMENTS // 65536 + 2):
        big.feed(_delta(0, args="y" * 65536))
    [call] = big.calls()
    assert call.oversized and call.arguments == ""
    check = check_arguments(call, TIME_SCHEMA)
    assert not check.ok and "longer than 1024 KB" in (check.problem or "")


def test_arguments_checked_against_the_schema() -> None:
    def check(arguments: str) -> str | None:
        return check_arguments(ToolCall(0, "c", "t", arguments), TIME_SCHEMA).problem

    assert check_arguments(ToolCall(0, "c", "t", '{"timezone": "UTC"}'), TIME_SCHEMA).arguments == {
        "timezone": "UTC"
    }
    assert check('{"timezone": "UTC", "hours": 2}') is None
    assert check("{}") == "the arguments: 'timezone' is a required property"
    assert check('{"timezone": 5}') == "$.timezone: 5 is not of type 'string'"
    assert check('{"timezone": "UTC", "hours": -1}') == "$.hours: -1 is less than the minimum of 0"
    assert "Additional properties are not allowed ('city' was unexpected)" in (
        check('{"timezone": "UTC", "city": "x"}') or ""
    )
    assert (
        check('{"timezone": "UTC"')
        == "the arguments are not valid JSON (Expecting ',' delimiter at character 18)"
    )
    assert check('["UTC"]') == "the arguments must be a JSON object, not list"


def test_empty_arguments_are_an_empty_object_and_a_broken_schema_is_not_held_against_the_model() -> None:
    assert check_arguments(ToolCall(0, "c", "t", ""), {"type": "object"}).arguments == {}
    broken = {"type": "object", "properties": {"x": {"type": "no-such-type"}}}
    assert check_arguments(ToolCall(0, "c", "t", '{"x": 1}'), broken).arguments == {"x": 1}


def test_messages_in_the_shape_the_api_expects() -> None:
    call = ToolCall(0, "call_1", "time__get_current_time", '{"timezone": "UTC"}')
    assistant = assistant_message("", [call])
    assert assistant == {
        "role": "assistant",
        "content": "",  # a string, as ChatMessage types it (trimming counts it; templates take it)
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "time__get_current_time", "arguments": '{"timezone": "UTC"}'},
            }
        ],
    }
    json.dumps(assistant)  # plain JSON, as stored and re-sent
    ok = ToolResult("time", "get_current_time", '{"datetime": "…"}')
    assert tool_message(call, result_content(ok)) == {
        "role": "tool",
        "tool_call_id": "call_1",
        "content": '{"datetime": "…"}',
    }
    failed = ToolResult("time", "get_current_time", "Unknown timezone", is_error=True)
    assert result_content(failed) == "The tool reported an error:\nUnknown timezone"
    timeout = make_error(ErrorCode.TOOL_TIMEOUT, "time · get_current_time did not answer within 60 s")
    assert (
        error_content(timeout)
        == "Error: the tool call failed: time · get_current_time did not answer within 60 s"
    )
    refusal = refusal_for_arguments(call, "the arguments: 'timezone' is a required property")
    assert refusal.startswith(
        "Error: the call to time__get_current_time was not run: the arguments: 'timezone'"
    )
