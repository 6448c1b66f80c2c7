"""Exporting a conversation — one exporter for ``trayai history export`` and the chat window's
Export, so the two never differ: JSON (every alternative answer, thinking, attachments' names, tool
calls and results in the chat API's shape) or Markdown for reading, as text ready to write (JSON made
safe for any reader; a tool's result fenced as a code block, so no reader renders it as Markdown).
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from enum import Enum
from typing import TypedDict

from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import AnswerVersion, MessageStatus, StoredJSON, StoredMessage
from trayai.core.chat.history_wire import TOOL_CALL_ID, TOOL_CALLS, TOOL_NAME, tool_calls_of
from trayai.core.net.wire import ToolCallEntry
from trayai.core.textsafe import json_safe


class ExportedAttachment(TypedDict):
    """An attached file in an export: what it was called, not its content."""

    name: str
    kind: str
    size: int


class ExportedAlternative(TypedDict, total=False):
    """One of the answers a regenerated slot has had (``thinking`` only when there was some)."""

    content: str
    status: str
    created: str
    thinking: str


class ExportedMessage(TypedDict, total=False):
    """A message in the ``trayai-conversation`` format; optional keys appear only when they say something."""

    role: str
    content: str
    status: str
    created: str
    meta: StoredJSON  # what the chat stored beside the answer
    thinking: str
    attachments: list[ExportedAttachment]
    chosen_alternative: int
    alternatives: list[ExportedAlternative]
    branch: int  # an edited question: the branch exported (the one shown), of ``branches``
    branches: int
    tool_calls: list[ToolCallEntry]  # an assistant message that called tools
    tool_call_id: str  # a tool message: the call it answers


class ExportedConversation(TypedDict):
    """The ``trayai-conversation`` document, version 1 (docs/api-reference.md)."""

    format: str
    version: int
    id: int
    title: str
    created: str
    updated: str
    model: str | None
    profile: str | None
    settings: StoredJSON  # the conversation's own parameters
    messages: list[ExportedMessage]


class ExportFormat(str, Enum):
    JSON = "json"
    MARKDOWN = "md"


def export_text(store: HistoryStore, conversation_id: int, fmt: ExportFormat) -> str:
    """The file's text in ``fmt``: what the CLI prints or writes and what the window saves."""
    if fmt is ExportFormat.JSON:
        data = export_json(store, conversation_id)
        return json_safe(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"
    return export_markdown(store, conversation_id)


def export_json(store: HistoryStore, conversation_id: int) -> ExportedConversation:
    """A conversation as the documented JSON object (format ``trayai-conversation``, version 1)."""
    conv = store.conversation(conversation_id)
    return {
        "format": "trayai-conversation",
        "version": 1,
        "id": conv.id,
        "title": conv.title,
        "created": _iso(conv.created),
        "updated": _iso(conv.updated),
        "model": conv.model,
        "profile": conv.profile,
        "settings": conv.settings,
        "messages": [_export_message(store, m) for m in store.messages(conversation_id)],
    }


def _export_message(store: HistoryStore, m: StoredMessage) -> ExportedMessage:
    data = ExportedMessage(role=m.role, content=m.content, status=m.status, created=_iso(m.created))
    meta = {key: value for key, value in m.meta.items() if key not in (TOOL_CALLS, TOOL_CALL_ID)}
    if meta:
        data["meta"] = meta
    calls = tool_calls_of(m)
    if calls:
        data["tool_calls"] = calls
    if m.role == "tool" and isinstance(m.meta.get(TOOL_CALL_ID), str):
        data["tool_call_id"] = m.meta[TOOL_CALL_ID]
    if m.thinking:
        data["thinking"] = m.thinking
    if m.attachments:
        data["attachments"] = [
            ExportedAttachment(name=a.name, kind=str(a.kind), size=a.size) for a in m.attachments
        ]
    if m.branches > 1:
        data["branch"], data["branches"] = m.branch, m.branches
    if m.versions > 1:
        data["chosen_alternative"] = m.version
        data["alternatives"] = [
            _export_alternative(v) for v in store.answer_versions(m.conversation_id, m.seq)
        ]
    return data


def _export_alternative(v: AnswerVersion) -> ExportedAlternative:
    data = ExportedAlternative(content=v.content, status=v.status, created=_iso(v.created))
    if v.thinking:
        data["thinking"] = v.thinking
    return data


def export_markdown(store: HistoryStore, conversation_id: int) -> str:
    """A conversation as Markdown for reading (the JSON export has every alternative answer)."""
    conv = store.conversation(conversation_id)
    lines = [f"# {conv.title or 'Conversation'}", ""]
    details = [f"exported from trayai, started {_iso(conv.created)}"]
    if conv.model:
        details.append(f"model {conv.model}")
    lines += [f"_{', '.join(details)}_", ""]
    system = str(conv.settings.get("system_prompt") or "")
    if system:
        lines += ["## System", "", system, ""]
    for m in store.messages(conversation_id):
        heading = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool result"}[m.role]
        model = m.meta.get("model")
        if m.role == "assistant" and model:
            heading += f" ({model})"
        if m.role == "tool" and m.meta.get(TOOL_NAME):
            heading += f" ({m.meta[TOOL_NAME]})"
        lines += [f"## {heading}", ""]
        if m.thinking:
            lines += [
                "<details><summary>Thinking</summary>",
                "",
                m.thinking.rstrip(),
                "",
                "</details>",
                "",
            ]
        lines.append(_fenced(m.content) if m.role == "tool" else m.content.rstrip())
        for call in tool_calls_of(m):
            lines += [
                "",
                f"_Called `{call['function']['name']}` with:_",
                "",
                _fenced(call["function"]["arguments"]),
            ]
        if m.attachments:
            lines += ["", "_Attached: " + ", ".join(a.label for a in m.attachments) + "_"]
        if m.branches > 1:
            lines += [
                "",
                f"_(branch {m.branch} of {m.branches}: the one shown in the chat, the only one exported)_",
            ]
        if m.versions > 1:
            lines += ["", f"_(answer {m.version} of {m.versions}; the JSON export has them all)_"]
        if m.status not in (MessageStatus.DONE,):
            lines += ["", f"_({m.status})_"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------- helpers


def _fenced(text: str) -> str:
    """``text`` as a code block whose fence no run of backticks inside it can close."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}\n{text.rstrip()}\n{fence}"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds")


__all__ = [
    "ExportFormat",
    "ExportedAlternative",
    "ExportedAttachment",
    "ExportedConversation",
    "ExportedMessage",
    "export_json",
    "export_markdown",
    "export_text",
]
