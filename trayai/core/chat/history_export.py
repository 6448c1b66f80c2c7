"""Exporting a conversation — one exporter for ``trayai history export`` and the chat window's
Export, so the two never differ: JSON (every alternative answer, thinking, attachments' names) or
Markdown for reading, as text ready to write (JSON made safe for any reader).
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from trayai.core.chat.history import HistoryStore, MessageStatus, StoredMessage
from trayai.core.textsafe import json_safe


class ExportFormat(str, Enum):
    JSON = "json"
    MARKDOWN = "md"


def export_text(store: HistoryStore, conversation_id: int, fmt: ExportFormat) -> str:
    """The file's text in ``fmt``: what the CLI prints or writes and what the window saves."""
    if fmt is ExportFormat.JSON:
        data = export_json(store, conversation_id)
        return json_safe(json.dumps(data, indent=2, ensure_ascii=False)) + "\n"
    return export_markdown(store, conversation_id)


def export_json(store: HistoryStore, conversation_id: int) -> dict[str, Any]:
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


def _export_message(store: HistoryStore, m: StoredMessage) -> dict[str, Any]:
    data: dict[str, Any] = {
        "role": m.role,
        "content": m.content,
        "status": m.status,
        "created": _iso(m.created),
        **({"meta": m.meta} if m.meta else {}),
        **({"thinking": m.thinking} if m.thinking else {}),
        **(
            {"attachments": [{"name": a.name, "kind": str(a.kind), "size": a.size} for a in m.attachments]}
            if m.attachments
            else {}
        ),
    }
    if m.versions > 1:
        data["chosen_alternative"] = m.version
        data["alternatives"] = [
            {
                "content": v.content,
                "status": v.status,
                "created": _iso(v.created),
                **({"thinking": v.thinking} if v.thinking else {}),
            }
            for v in store.answer_versions(m.conversation_id, m.seq)
        ]
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
        heading = {"user": "You", "assistant": "Assistant", "system": "System"}[m.role]
        model = m.meta.get("model")
        if m.role == "assistant" and model:
            heading += f" ({model})"
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
        lines.append(m.content.rstrip())
        if m.attachments:
            lines += ["", "_Attached: " + ", ".join(a.label for a in m.attachments) + "_"]
        if m.versions > 1:
            lines += ["", f"_(answer {m.version} of {m.versions}; the JSON export has them all)_"]
        if m.status not in (MessageStatus.DONE,):
            lines += ["", f"_({m.status})_"]
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


# ---------------------------------------------------------------------- helpers


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).isoformat(timespec="seconds")


__all__ = ["ExportFormat", "export_json", "export_markdown", "export_text"]
