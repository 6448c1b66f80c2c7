"""What a tool returned, as the text the model and the person are given: every content block as
inert text (images, audio and links named, never fetched), capped at :data:`MAX_RESULT_BYTES` with a
note saying how much there was."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from trayai.core.textsafe import valid_text

MAX_RESULT_BYTES = 256 * 1024


@dataclass(frozen=True)
class ToolResult:
    """One call's outcome: ``text`` (capped), whether the tool itself said it failed (``is_error``,
    still sent to the model), whether it was cut, and how long the round trip took."""

    server: str
    tool: str
    text: str
    is_error: bool = False
    truncated: bool = False
    seconds: float = 0.0


def result_text(result: Any) -> tuple[str, bool]:
    """An MCP ``CallToolResult`` as text, and whether it was truncated to fit the cap."""
    parts = [_block_text(block) for block in result.content or ()]
    if not parts and result.structured_content is not None:
        parts.append(json.dumps(result.structured_content, ensure_ascii=False, indent=2))
    return cap_text(valid_text("\n\n".join(parts)))


def cap_text(text: str, limit: int = MAX_RESULT_BYTES) -> tuple[str, bool]:
    """``text`` cut to ``limit`` UTF-8 bytes (on a character boundary) with a note, or unchanged."""
    if len(text) <= limit // 4:
        return text, False  # at most 4 bytes a character: no need to encode
    data = text.encode("utf-8", errors="replace")
    if len(data) <= limit:
        return text, False
    kept = data[:limit].decode("utf-8", errors="ignore")
    note = f"\n\n[… truncated: the tool returned {_size(len(data))}; the first {_size(limit)} are shown]"
    return kept + note, True


def _block_text(block: Any) -> str:
    kind = getattr(block, "type", "")
    if kind == "text":
        return str(block.text)
    if kind in ("image", "audio"):
        size = len(str(getattr(block, "data", ""))) * 3 // 4
        return f"[{kind}: {getattr(block, 'mime_type', '?')}, {_size(size)}, not shown]"
    if kind == "resource":
        resource = block.resource
        text = getattr(resource, "text", None)
        return (
            str(text) if text is not None else f"[resource {resource.uri}: {resource.mime_type or 'binary'}]"
        )
    if kind == "resource_link":
        return f"[resource link: {block.uri}]"
    return f"[{kind or 'unknown'} content]"


def _size(count: int) -> str:
    return f"{count / 1024:.0f} KB" if count >= 1024 else f"{count} bytes"
