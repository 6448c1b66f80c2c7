"""Which messages of a long conversation the chat window renders first, and which on scroll-up.

Qt-free so the arithmetic is tested without a display (docs/architecture.md, "The chat window").
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar


class Message(Protocol):
    """What paging reads of a message (``StoredMessage`` fits)."""

    @property
    def role(self) -> str: ...

    @property
    def content(self) -> str: ...


M = TypeVar("M", bound=Message)

# messages[start:stop] of the conversation, in order (``HistoryStore.messages`` bound to one id)
Fetch = Callable[[int, int], Sequence[M]]

LAST_LOOKBACK = 10  # "the last answer/prompt" is looked for among this many newest messages


@dataclass(frozen=True)
class PagingPolicy:
    """How much is rendered at once: enough for a screen and a half, never the whole long chat."""

    first_screen_chars: int = 8_000  # rendered at open; the rest on scroll-up
    first_screen_messages: int = 4  # ... and at least this many messages
    earlier_page_chars: int = 20_000  # added per scroll to the top
    hit_far_back: int = 60  # a search hit with more messages after it than this ...
    hit_neighbourhood: int = 40  # ... opens on this many messages from just before it
    first_screen_batch: int = 4  # messages read per query while measuring the first screen
    earlier_batch: int = 10  # messages read per query while measuring an earlier page


def first_screen_start(count: int, fetch: Fetch[M], policy: PagingPolicy) -> int:
    """Index of the first message rendered at open: the newest ones up to the policy's size."""
    start = count
    chars = 0

    def enough() -> bool:
        return chars >= policy.first_screen_chars and count - start >= policy.first_screen_messages

    while start > 0 and not enough():
        for message in reversed(fetch(max(0, start - policy.first_screen_batch), start)):
            start -= 1
            chars += len(message.content)
            if enough():
                break
    return start


def opening_range(
    count: int, first_start: int, at_index: int | None, policy: PagingPolicy
) -> tuple[int, int]:
    """``(start, end)`` rendered when a conversation opens, at its end or around message ``at_index``.

    A hit opens with the message before it in view; a hit far back shows its neighbourhood only
    (the window then offers a link to the latest messages) instead of everything after it.
    """
    if at_index is None:
        return first_start, count
    start = min(first_start, max(0, at_index - 1))
    end = count
    if count - start > policy.hit_far_back:
        end = min(count, start + policy.hit_neighbourhood)
    return start, end


def earlier_page(start: int, fetch: Fetch[M], policy: PagingPolicy) -> tuple[list[M], int]:
    """The messages to prepend on scroll-up above ``start``, and the new first index."""
    chars = 0
    page: list[M] = []
    while start > 0 and chars < policy.earlier_page_chars:
        for message in reversed(fetch(max(0, start - policy.earlier_batch), start)):
            page.insert(0, message)
            start -= 1
            chars += len(message.content)
            if chars >= policy.earlier_page_chars:
                break
    return page, start


def lookback_start(count: int, lookback: int = LAST_LOOKBACK) -> int:
    """Where to start reading a conversation of ``count`` messages to find its last prompt/answer."""
    return max(0, count - lookback)


def last_by_role(messages: Sequence[M], role: str, *, with_content: bool = False) -> M | None:
    """The newest message with ``role`` (and, if asked, non-empty text); None when there is none."""
    for message in reversed(messages):
        if message.role == role and (message.content or not with_content):
            return message
    return None


__all__ = [
    "LAST_LOOKBACK",
    "Fetch",
    "Message",
    "PagingPolicy",
    "earlier_page",
    "first_screen_start",
    "last_by_role",
    "lookback_start",
    "opening_range",
]
