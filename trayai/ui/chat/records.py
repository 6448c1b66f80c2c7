"""The chat's typed records: a conversation's options (what the widgets edit and history stores)
and an answer's saved fields (its meta is core's ``AnswerRecord``), so the controller never passes
loose dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import TypedDict

from trayai.core.chat.history_records import MessageStatus
from trayai.core.net.wire import AnswerRecord


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


class MessageFields(TypedDict, total=False):
    """The fields of a saved message a checkpoint or the end rewrites (``HistoryStore.update_message``)."""

    content: str
    thinking: str
    status: MessageStatus
    meta: AnswerRecord


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
    "ChatOptions",
    "ConversationSettings",
    "MessageFields",
    "OptionChanges",
]
