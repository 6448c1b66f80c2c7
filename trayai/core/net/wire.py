"""What a request and its answer are, apart from who sends them: the options sent, the final record
of an answer, a chat message, and the deadline every await of the transports uses. Below the client
and the stream, so neither has to import the other for its types.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict, TypeVar

from trayai.core.errors import ErrorRecord, TrayaiError

if TYPE_CHECKING:  # the model's side of tools builds on this module, not the other way round
    from trayai.core.tools.calls import ToolCall

Message = Mapping[str, Any]  # what the SDK is given: a ChatMessage, or a batch line's own message


JSONObject = Mapping[str, object]
"""A JSON object a server sent, as parsed: nothing about its fields is known until checked
(``isinstance``), so it is read-only and its values are ``object``, never ``Any``. The one alias for
parsed server JSON; what trayai writes has its own ``TypedDict``."""


class TextPart(TypedDict):
    type: Literal["text"]
    text: str


class ImageURL(TypedDict):
    url: str  # a data: URL (attachments are sent inline, never fetched)


class ImagePart(TypedDict):
    type: Literal["image_url"]
    image_url: ImageURL


ContentPart = TextPart | ImagePart
Content = str | list[ContentPart]


class ToolFunction(TypedDict):
    """The function a tool call names, and its arguments as the JSON text the model wrote."""

    name: str
    arguments: str


class ToolCallEntry(TypedDict):
    """One entry of an assistant message's ``tool_calls``."""

    id: str
    type: Literal["function"]
    function: ToolFunction


class _Turn(TypedDict):
    role: str  # "system", "user", "assistant", "tool" (a batch line may bring others: sent as given)
    content: Content


class ChatMessage(_Turn, total=False):
    """One turn as the chat completions API takes it: text, or text and images as parts.

    Tools add two shapes: an assistant turn that made calls (``tool_calls``; ``content`` the text it
    said first, maybe empty) and a ``tool`` turn answering one call by ``tool_call_id``.
    """

    tool_calls: list[ToolCallEntry]
    tool_call_id: str


T = TypeVar("T")


@dataclass(frozen=True)
class Usage:
    """Token counts of one answer; ``estimated`` when counted from the stream (the server sent none)."""

    prompt_tokens: int | None
    completion_tokens: int
    estimated: bool  # True when counted from stream chunks because the server sent no usage


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await`` with a deadline (raises ``TimeoutError``) that never swallows a cancellation.

    Why not ``asyncio.wait_for``: on Python 3.11 it returns the result instead of raising when the
    task is cancelled just as the awaited thing completes — measured here, a Stop pressed while
    tokens arrive at 1,000/s was lost about one time in three and the answer ran on to max tokens.
    ``asyncio.timeout`` (3.11+) keeps an outside cancellation; 3.10 falls back to ``wait_for``.
    """
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)  # pragma: no cover - Python 3.10


@dataclass(frozen=True)
class GenerationOptions:
    """Per-request sampling options; None leaves the choice to the server."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    tools: tuple[Mapping[str, Any], ...] = ()  # OpenAI ``tools`` entries (core/tools/hub.py)
    tool_choice: str = "auto"  # sent with ``tools`` only: "auto", or "none" (answer without calling)

    def as_body(self) -> dict[str, Any]:
        """The SDK's request keywords (``extra`` is free-form server options, sent as given); the tools
        and ``tool_choice`` only when there are tools."""
        body: dict[str, Any] = {
            k: v
            for k, v in (
                ("temperature", self.temperature),
                ("top_p", self.top_p),
                ("max_tokens", self.max_tokens),
            )
            if v is not None
        }
        if self.tools:
            body["tools"] = [dict(tool) for tool in self.tools]
            body["tool_choice"] = self.tool_choice
        body.update(self.extra)
        return body


class AnswerRecord(TypedDict, total=False):
    """A finished answer as JSON, one record for every front end. ``StreamResult.to_dict()`` fills
    the figures and ``error`` (what ``--json``, ``batch`` lines and the ``ask`` stats line read); the
    chat adds how it ended and who answered, and stores it as the message's meta (the keys history
    databases have always held: tests/unit/chat/test_answer_record.py opens one)."""

    model: str
    finish_reason: str  # the server's, or the chat's "stopped"
    prompt_tokens: int | None
    completion_tokens: int
    usage_estimated: bool
    ttft_s: float | None
    duration_s: float
    tokens_per_second: float | None
    thinking_s: float | None
    error: ErrorRecord | None  # the chat's meta: code, message and hint only (no server detail)
    # the chat's own: turns trimmed to fit, the fallback that answered, the server and the model asked
    dropped: int
    fallback_profile: str
    fallback_reason: str
    endpoint: str
    profile: str | None
    asked_model: str


@dataclass(frozen=True)
class StreamResult:
    """The final record of a reply: what arrived, why it ended and how fast it was.

    ``finish_reason`` is the server's ("stop", "length", …), or "cancelled" when the caller stopped
    it, or "error" when it failed (``error`` then holds the typed error and ``text`` what arrived).
    ``tool_calls`` are the calls the model made in this turn (streamed fragments assembled); their
    finish reason is usually "tool_calls".
    """

    text: str
    model: str
    finish_reason: str
    usage: Usage
    ttft: float | None  # seconds from sending the request to the first content token
    duration: float  # seconds from sending the request to the end
    tokens_per_second: float | None
    error: TrayaiError | None = None
    thinking: str = ""  # a reasoning model's thinking, kept apart from the answer
    thinking_seconds: float | None = None  # from its first thinking token to its first answer text
    tool_calls: tuple[ToolCall, ...] = ()

    @property
    def cut_at_max_tokens(self) -> bool:
        return self.finish_reason == "length"

    def to_dict(self) -> AnswerRecord:
        return {
            "model": self.model,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "usage_estimated": self.usage.estimated,
            "ttft_s": None if self.ttft is None else round(self.ttft, 4),
            "duration_s": round(self.duration, 4),
            "tokens_per_second": None if self.tokens_per_second is None else round(self.tokens_per_second, 2),
            "thinking_s": None if self.thinking_seconds is None else round(self.thinking_seconds, 2),
            "error": None if self.error is None else self.error.to_dict(),
        }


__all__ = [
    "AnswerRecord",
    "ChatMessage",
    "Content",
    "ContentPart",
    "GenerationOptions",
    "ImagePart",
    "ImageURL",
    "Message",
    "StreamResult",
    "TextPart",
    "ToolCallEntry",
    "ToolFunction",
    "Usage",
    "within",
]
