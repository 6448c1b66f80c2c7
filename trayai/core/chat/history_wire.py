"""Tool calls in the history: how an answer's exchange (the assistant turns that made calls, the tool
results) is stored — the calls in the message's meta, a result as a ``tool`` message — and the stored
messages turned back into what the chat API expects in a later turn.

Stored tool results are untrusted text (a tool wrote them): whoever shows them shows plain text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from trayai.core.chat.context import sendable
from trayai.core.chat.history_records import StoredJSON, StoredMessage
from trayai.core.net.wire import ChatMessage, Content, ToolCallEntry

TOOL_CALLS = "tool_calls"  # meta of an assistant message that made calls: the entries, as sent
TOOL_CALL_ID = "tool_call_id"  # meta of a tool message: the call it answers
TOOL_NAME = "tool_name"  # meta of a tool message: the model-facing name of the tool (for showing)
MISSING_RESULT = "There is no result: the call did not finish."


@dataclass(frozen=True)
class StoredTurn:
    """One message of an exchange as :meth:`Messages.add_message` takes it."""

    role: str
    content: str
    meta: StoredJSON


def stored_turns(exchange: Iterable[ChatMessage]) -> list[StoredTurn]:
    """An answer's ``exchange`` (core/chat/answer.py) as messages to store, in order."""
    names: dict[str, str] = {}
    turns: list[StoredTurn] = []
    for message in exchange:
        content = message["content"] if isinstance(message["content"], str) else ""
        calls = message.get("tool_calls")
        if calls:
            names.update((call["id"], call["function"]["name"]) for call in calls)
            turns.append(StoredTurn("assistant", content, {TOOL_CALLS: [dict(call) for call in calls]}))
        elif message["role"] == "tool":
            call_id = message.get("tool_call_id", "")
            turns.append(
                StoredTurn("tool", content, {TOOL_CALL_ID: call_id, TOOL_NAME: names.get(call_id, "")})
            )
    return turns


def tool_calls_of(message: StoredMessage) -> list[ToolCallEntry]:
    """The calls an assistant message made, as stored (entries that are not well formed are left out)."""
    entries = message.meta.get(TOOL_CALLS) if message.role == "assistant" else None
    return [entry for raw in entries if (entry := _entry(raw))] if isinstance(entries, list) else []


def wire_messages(
    history: Iterable[StoredMessage], content_of: Callable[[StoredMessage], Content] | None = None
) -> list[ChatMessage]:
    """Stored messages as the chat API takes them in a later turn: what ``context.sendable`` sends,
    plus the tool exchange — an assistant message that made calls with its ``tool_calls``, then a
    ``tool`` message answering each (one the history lacks, after a crash mid-call, is answered
    :data:`MISSING_RESULT`; a result answering no call is left out: servers refuse both)."""
    out: list[ChatMessage] = []
    pending: list[str] = []  # the calls of the last assistant message still without a result

    def close() -> None:
        out.extend(
            {"role": "tool", "tool_call_id": call_id, "content": MISSING_RESULT} for call_id in pending
        )
        pending.clear()

    for message in history:
        if message.role == "tool":
            call_id = message.meta.get(TOOL_CALL_ID)
            if isinstance(call_id, str) and call_id in pending:
                pending.remove(call_id)
                out.append(_result(call_id, message.content))
            continue
        close()
        calls = tool_calls_of(message)
        if calls:
            out.append({"role": "assistant", "content": message.content, "tool_calls": calls})
            pending.extend(call["id"] for call in calls)
        else:
            out.extend(sendable([message], content_of))
    close()
    return out


def _result(call_id: str, content: str) -> ChatMessage:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


def _entry(raw: Any) -> ToolCallEntry | None:
    if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str):
        return None
    function = raw.get("function")
    if not isinstance(function, Mapping):
        return None
    name, arguments = function.get("name"), function.get("arguments")
    if not isinstance(name, str) or not isinstance(arguments, str):
        return None
    return {"id": raw["id"], "type": "function", "function": {"name": name, "arguments": arguments}}
