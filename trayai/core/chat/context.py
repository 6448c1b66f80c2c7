"""What of a conversation is sent: the oldest turns dropped to fit the context window (history keeps
them), or halved after "context exceeded" (docs/architecture.md, "The chat window").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from trayai.core.chat.attachments import IMAGE_TOKENS
from trayai.core.chat.history_records import StoredMessage
from trayai.core.net.wire import ChatMessage, Content

CHARS_PER_TOKEN = 3.0  # no tokenizer for every server: an underestimate errs on sending less
MESSAGE_OVERHEAD_TOKENS = 8
DEFAULT_REPLY_RESERVE = 512


@dataclass(frozen=True)
class Prepared:
    """The messages to send and how many history messages were left out to fit."""

    messages: list[ChatMessage]
    dropped: int


def estimate_tokens(content: Content) -> int:
    """Roughly what a message costs: its text by length, each image a fixed amount."""
    if isinstance(content, str):
        return int(len(content) / CHARS_PER_TOKEN) + MESSAGE_OVERHEAD_TOKENS
    text = sum(len(str(p.get("text", ""))) for p in content if p.get("type") == "text")
    images = sum(1 for p in content if p.get("type") == "image_url")
    return int(text / CHARS_PER_TOKEN) + images * IMAGE_TOKENS + MESSAGE_OVERHEAD_TOKENS


def sendable(
    history: Iterable[StoredMessage],
    content_of: Callable[[StoredMessage], Content] | None = None,
) -> list[ChatMessage]:
    """History as API messages: failed answers with no text are skipped; partial answers are kept.

    ``content_of`` turns a message with attachments into what is sent (inlined files, image parts);
    thinking is never sent back.
    """
    out: list[ChatMessage] = []
    for m in history:
        if m.role not in ("user", "assistant"):
            continue
        if m.role == "assistant" and not m.content.strip():
            continue
        content = content_of(m) if content_of is not None and m.attachments else m.content
        out.append({"role": m.role, "content": content})
    return out


def prepare(
    system_prompt: str,
    turns: Sequence[ChatMessage],
    *,
    context_tokens: int = 0,
    reply_tokens: int | None = None,
    keep_last: int | None = None,
) -> Prepared:
    """Fit ``turns`` (oldest first) into ``context_tokens`` minus room for the reply.

    ``keep_last`` caps the number of turns sent (used after a server said the context was exceeded).
    The newest turn is always sent, even if it alone is too long (the server will then say so).
    """
    turns = list(turns)
    system: list[ChatMessage] = (
        [{"role": "system", "content": system_prompt}] if system_prompt.strip() else []
    )
    start = 0
    if keep_last is not None:
        start = max(0, len(turns) - max(1, keep_last))
    if context_tokens > 0:
        budget = context_tokens - (reply_tokens or DEFAULT_REPLY_RESERVE)
        budget -= sum(estimate_tokens(m["content"]) for m in system)
        used = 0
        first_kept = len(turns)
        for i in range(len(turns) - 1, start - 1, -1):
            cost = estimate_tokens(turns[i]["content"])
            if used + cost > budget and i < len(turns) - 1:
                break
            used += cost
            first_kept = i
        start = max(start, first_kept)
    # Never start with an assistant turn: chat templates expect a user message after the system one.
    while start < len(turns) - 1 and turns[start]["role"] == "assistant":
        start += 1
    return Prepared(system + turns[start:], start)


def halve(prepared: Prepared, total_turns: int) -> int | None:
    """After "context exceeded": how many turns to keep next, or None when nothing is left to drop."""
    sent = total_turns - prepared.dropped
    if sent <= 1:
        return None
    return max(1, sent // 2)


__all__ = ["Prepared", "estimate_tokens", "halve", "prepare", "sendable"]
