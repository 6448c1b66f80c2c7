"""What the chat history holds, as typed records (conversations, messages, answer versions) and how a
row reads as one, and :class:`HistoryPart`, the base each concern of the history builds on
(core/chat/history.py puts them together).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trayai.core.chat.attachments import Attachment
from trayai.core.chat.history_db import HistoryDatabase
from trayai.core.redact import Redactor
from trayai.core.strenum import StrEnum
from trayai.core.textsafe import valid_data, valid_text

TITLE_LENGTH = 60
# A JSON object as read back (a message's meta, a conversation's settings). ``Any``, not ``object``: the
# chat reads known keys straight into typed places (ChatOptions, the footer, the tests' checks), each
# value checked there; what is written is any Mapping[str, object].
StoredJSON = dict[str, Any]


class MessageStatus(StrEnum):
    """Whether an answer finished, is streaming, was stopped, failed or was cut by a crash.

    The value is what the ``messages.status`` column stores (and exports show): never change one.
    """

    DONE = "done"
    STREAMING = "streaming"
    STOPPED = "stopped"
    ERROR = "error"
    INTERRUPTED = "interrupted"


STATUSES = tuple(MessageStatus)
ROLES = ("system", "user", "assistant", "tool")  # tool: a tool call's result (core/chat/history_wire.py)


@dataclass(frozen=True)
class Conversation:
    """A conversation's header: title, timestamps, its own model and parameters, message count."""

    id: int
    title: str
    created: float
    updated: float
    model: str | None
    profile: str | None
    settings: StoredJSON
    message_count: int
    deleted: bool = False
    pinned: bool = False


@dataclass(frozen=True)
class StoredMessage:
    """A message as saved: ``status`` says whether an answer finished, was stopped, failed or was cut."""

    id: int
    conversation_id: int
    seq: int
    role: str
    content: str
    status: str
    meta: StoredJSON = field(default_factory=dict)
    created: float = 0.0
    thinking: str = ""  # a reasoning model's thinking: shown apart, never sent back
    version: int = 0  # which of the slot's answers this is (1-based), 0 when it has only one
    versions: int = 0  # how many answers the slot has had (0 or 1: no alternatives)
    attachments: tuple[Attachment, ...] = ()
    branch: int = 0  # an edited question: which of its slot's branches this is (1-based), 0 when none
    branches: int = 0  # how many branches the question's slot has (0: never edited)


@dataclass(frozen=True)
class AnswerVersion:
    """One of the answers a regenerated slot has had."""

    content: str
    thinking: str
    status: str
    meta: StoredJSON
    created: float


def title_from_prompt(prompt: str) -> str:
    """A conversation title from its first prompt: the first non-empty line, shortened."""
    for raw in prompt.splitlines():
        line = " ".join(raw.split())
        if line:
            return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"
    return "New conversation"


class HistoryPart:
    """What every concern of the history shares: the open file, the clock, and what is stored of a
    string (never an invalid code point, never a known API key)."""

    def __init__(self, db: HistoryDatabase, *, now: Callable[[], float], redactor: Redactor) -> None:
        self._db = db
        self._run = db.run
        self._transaction = db.transaction
        self._now = now
        self.redactor = redactor

    def _text(self, text: str) -> str:
        """What is stored of a string: never an invalid code point (SQLite refuses them, and the
        answer would stay "streaming" forever) and never a known API key (a server may echo it)."""
        return self.redactor.redact_secrets(valid_text(text))

    def _optional(self, text: str | None) -> str | None:
        return None if text is None else self._text(text)

    def _json(self, data: Mapping[str, object] | None) -> str:
        return json.dumps(self.redactor.redact_data(valid_data(dict(data or {})), patterns=False))


def json_object(text: str | None) -> StoredJSON:
    """A stored JSON object; an empty one when the text is missing, damaged or not an object."""
    try:
        data = json.loads(text or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
