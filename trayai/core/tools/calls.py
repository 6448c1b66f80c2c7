"""The model's tool calls: streamed ``tool_calls`` deltas assembled into whole calls (fragments, several
per turn, parallel ones interleaved), their arguments checked against the tool's input schema (the
refusal worded for the model), and the messages that carry calls and results in the chat API's shape.

Pure functions over the delta dicts an OpenAI-compatible stream sends (and a whole completion's
``message.tool_calls``): no network, no Qt.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trayai.core.errors import TrayaiError
from trayai.core.net.wire import ChatMessage, JSONObject, ToolCallEntry
from trayai.core.tools.results import ToolResult

MAX_CALLS = 32  # in one turn; more are dropped (``ToolCallAssembler.dropped``)
MAX_ARGUMENTS = 1024 * 1024  # characters of one call's arguments


@dataclass
class ToolCall:
    """One call as the model made it: ``arguments`` is the JSON text it streamed (maybe invalid)."""

    index: int
    id: str = ""
    name: str = ""
    arguments: str = ""
    oversized: bool = False  # arguments longer than MAX_ARGUMENTS: refused, never parsed

    def entry(self) -> ToolCallEntry:
        """The call in an assistant message's ``tool_calls``."""
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }


class ToolCallAssembler:
    """Feed it each chunk's ``choices[0].delta``; :meth:`calls` gives the calls made in the turn.

    Follows OpenAI's streaming shape (``index`` per call, ``id`` and name once, arguments in
    fragments) and the variations servers send: no ``index`` (a new ``id`` starts a new call), the
    name repeated in every fragment, arguments as an object instead of a string (Ollama).
    """

    def __init__(self) -> None:
        self._calls: dict[int, ToolCall] = {}
        self._last: int | None = None
        self.dropped = 0  # calls past MAX_CALLS

    def feed(self, delta: Mapping[str, Any]) -> None:
        for part in delta.get("tool_calls") or ():
            if isinstance(part, Mapping):
                self.add(part)

    def feed_message(self, data: JSONObject) -> None:
        """A whole completion's ``choices[0].message.tool_calls`` (a server that did not stream)."""
        choices = data.get("choices")
        first = choices[0] if isinstance(choices, list) and choices else None
        message = first.get("message") if isinstance(first, dict) else None
        entries = message.get("tool_calls") if isinstance(message, dict) else None
        for position, entry in enumerate(entries if isinstance(entries, list) else ()):
            if isinstance(entry, Mapping):
                self.add({**entry, "index": position})  # whole entries: one call each, in order

    def add(self, part: Mapping[str, Any]) -> None:
        index = self._index(part)
        call = self._calls.get(index)
        if call is None:
            if len(self._calls) >= MAX_CALLS:
                self.dropped += 1
                return
            call = self._calls[index] = ToolCall(index)
        self._last = index
        if isinstance(part.get("id"), str) and part["id"] and not call.id:
            call.id = part["id"]
        function = part.get("function")
        if not isinstance(function, Mapping):
            return
        name = function.get("name")
        if isinstance(name, str) and name and name != call.name:
            call.name += name
        arguments = function.get("arguments")
        if isinstance(arguments, Mapping):
            arguments = json.dumps(arguments, ensure_ascii=False)
            call.arguments = ""
        if isinstance(arguments, str) and not call.oversized:
            call.arguments += arguments
            if len(call.arguments) > MAX_ARGUMENTS:
                call.oversized, call.arguments = True, ""

    def _index(self, part: Mapping[str, Any]) -> int:
        index = part.get("index")
        if isinstance(index, int) and not isinstance(index, bool):
            return index
        new_id = part.get("id")
        last = self._calls.get(self._last) if self._last is not None else None
        if last is None or (isinstance(new_id, str) and new_id and last.id and new_id != last.id):
            return max(self._calls, default=-1) + 1
        return last.index

    @property
    def empty(self) -> bool:
        return not self._calls

    def calls(self) -> list[ToolCall]:
        """The calls in ``index`` order, each with a unique id (made up when the server sent none)."""
        calls = [self._calls[index] for index in sorted(self._calls)]
        seen: set[str] = set()
        for call in calls:
            if not call.id or call.id in seen:
                call.id = f"call_{call.index}_{len(seen)}"
            seen.add(call.id)
        return calls


def message_tool_calls(data: JSONObject) -> list[ToolCall]:
    """The calls in a whole (non-streamed) completion's ``choices[0].message.tool_calls``."""
    assembler = ToolCallAssembler()
    assembler.feed_message(data)
    return assembler.calls()


def pretty_arguments(call: ToolCall) -> str:
    """The arguments as a person reads them: indented JSON, or the text as sent when it is not JSON."""
    if call.oversized:
        return f"(arguments longer than {MAX_ARGUMENTS // 1024} KB, not shown)"
    try:
        return json.dumps(json.loads(call.arguments or "{}"), ensure_ascii=False, indent=2)
    except json.JSONDecodeError:
        return call.arguments


@dataclass(frozen=True)
class ArgumentCheck:
    """The parsed arguments, or ``problem``: why they were refused (for the model's next try)."""

    arguments: dict[str, Any] | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


def check_arguments(call: ToolCall, schema: Mapping[str, Any]) -> ArgumentCheck:
    """``call``'s arguments parsed and validated against ``schema`` (JSON Schema, via jsonschema).

    Empty arguments mean ``{}`` (what models send for a tool without parameters). A schema the
    server got wrong is not held against the model: then only "an object" is checked.
    """
    if call.oversized:
        return ArgumentCheck(problem=f"the arguments are longer than {MAX_ARGUMENTS // 1024} KB")
    text = call.arguments.strip() or "{}"
    try:
        arguments = json.loads(text)
    except json.JSONDecodeError as exc:
        return ArgumentCheck(problem=f"the arguments are not valid JSON ({exc.msg} at character {exc.pos})")
    if not isinstance(arguments, dict):
        return ArgumentCheck(problem=f"the arguments must be a JSON object, not {type(arguments).__name__}")
    problem = _schema_problem(arguments, schema)
    return ArgumentCheck(problem=problem) if problem else ArgumentCheck(arguments=arguments)


def _schema_problem(arguments: dict[str, Any], schema: Mapping[str, Any]) -> str | None:
    # lazy: jsonschema is loaded only when used: start-up time and memory
    from jsonschema import exceptions, validators

    validator_class = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        validator_class.check_schema(dict(schema))
    except exceptions.SchemaError:
        return None
    error = exceptions.best_match(validator_class(schema).iter_errors(arguments))
    if error is None:
        return None
    where = error.json_path if error.json_path != "$" else "the arguments"
    return f"{where}: {error.message}"


def refusal_for_arguments(call: ToolCall, problem: str) -> str:
    """What the model is told when its arguments do not fit: nothing was run, and why."""
    return (
        f"Error: the call to {call.name} was not run: {problem}. "
        "Call the tool again with arguments that match its input schema."
    )


def result_content(result: ToolResult) -> str:
    """A tool's result as the model reads it (a tool-reported error says so)."""
    return f"The tool reported an error:\n{result.text}" if result.is_error else result.text


def error_content(error: TrayaiError) -> str:
    """A failed call (timeout, crash, flood…) as the model reads it: the call did not complete."""
    return f"Error: the tool call failed: {error.message}"


def assistant_message(text: str, calls: Sequence[ToolCall]) -> ChatMessage:
    """The assistant's turn that made ``calls``, to send back before their results (``content`` is
    the text it said first, "" when none: servers' chat templates take a string more readily than null)."""
    return {"role": "assistant", "content": text, "tool_calls": [call.entry() for call in calls]}


def tool_message(call: ToolCall, content: str) -> ChatMessage:
    """One result, answering ``call`` by its id."""
    return {"role": "tool", "tool_call_id": call.id, "content": content}
