"""The chat's typed records: a conversation's options (what the widgets edit and history stores)
and what an answer's saved fields and meta hold, so the controller never passes loose dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TypedDict

from trayai.core.chat.history_records import MessageStatus


class ConversationSettings(TypedDict):
    """A conversation's parameters as ``HistoryStore`` keeps them in its ``settings`` (JSON)."""

    system_prompt: str
    temperature: float | None
    max_tokens: int | None


class OptionChanges(TypedDict, total=False):
    """Some of :class:`ChatOptions` by field name: what ``set_options`` takes and a new chat keeps."""

    model: str | None
    system_prompt: str
    temperature: float | None
    max_tokens: int | None


class ErrorMeta(TypedDict):
    """A failed answer's error as saved in its meta (the transcript's error box reads it)."""

    code: str
    message: str
    hint: str


class AnswerMeta(TypedDict, total=False):
    """What an answer's meta holds once it ended: ``StreamResult.to_dict()``'s timings and counts,
    and how it ended (stopped, error, trimmed turns, the fallback or other model that answered)."""

    model: str
    finish_reason: str
    prompt_tokens: int | None
    completion_tokens: int
    usage_estimated: bool
    ttft_s: float | None
    duration_s: float
    tokens_per_second: float | None
    thinking_s: float | None
    error: ErrorMeta
    dropped: int
    fallback_profile: str
    fallback_reason: str
    endpoint: str
    profile: str | None
    asked_model: str


class MessageFields(TypedDict, total=False):
    """The fields of a saved message a checkpoint or the end rewrites (``HistoryStore.update_message``)."""

    content: str
    thinking: str
    status: MessageStatus
    meta: AnswerMeta


@dataclass(frozen=True)
class ChatOptions:
    """A conversation's own model and parameters, stored with it in history.

    ``model`` None means the profile's model. The others are kept in the conversation's ``settings``
    as JSON under the field names, so the values stored are the ones the old dict held.
    """

    model: str | None
    system_prompt: str
    temperature: float | None
    max_tokens: int | None

    def settings(self) -> ConversationSettings:
        """What ``HistoryStore`` stores as the conversation's settings (everything but the model)."""
        return {
            "system_prompt": self.system_prompt,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }


OPTION_NAMES = tuple(f.name for f in fields(ChatOptions))


__all__ = [
    "OPTION_NAMES",
    "AnswerMeta",
    "ChatOptions",
    "ConversationSettings",
    "ErrorMeta",
    "MessageFields",
    "OptionChanges",
]
