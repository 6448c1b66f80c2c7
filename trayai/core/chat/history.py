"""Conversation history: conversations, messages, answer versions and full-text search (FTS5) —
the domain; the SQLite file itself (open, migrate, recover, move aside) is core/chat/history_db.py and
exporting is core/chat/history_export.py.

See docs/architecture.md, "The chat window" (what is saved when, damage, storage faults, undo).
"""

from __future__ import annotations

import json
import re
import sqlite3
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from trayai.core.chat.attachments import Attachment, AttachmentKind
from trayai.core.chat.history_db import (
    HISTORY_FILE_NAME,
    SCHEMA_VERSION,
    ConversationNotFound,
    HistoryDatabase,
    HistoryError,
    MessageNotFound,
    storage_error,
)
from trayai.core.redact import Redactor
from trayai.core.strenum import StrEnum
from trayai.core.textsafe import valid_data, valid_text

TITLE_LENGTH = 60
# Markers around matches in search snippets; callers turn them into bold/colour.
MATCH_START = "\x02"
MATCH_END = "\x03"


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
ROLES = ("system", "user", "assistant")

# A message row plus how many answers its slot has had (constant text: no outside input).
_MESSAGE_COLUMNS = (
    "m.*, (SELECT COUNT(*) FROM answer_versions v WHERE v.conversation_id = m.conversation_id "
    "AND v.seq = m.seq) AS versions"
)


@dataclass(frozen=True)
class Conversation:
    """A conversation's header: title, timestamps, its own model and parameters, message count."""

    id: int
    title: str
    created: float
    updated: float
    model: str | None
    profile: str | None
    settings: dict[str, Any]
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
    meta: dict[str, Any] = field(default_factory=dict)
    created: float = 0.0
    thinking: str = ""  # a reasoning model's thinking: shown apart, never sent back
    version: int = 0  # which of the slot's answers this is (1-based), 0 when it has only one
    versions: int = 0  # how many answers the slot has had (0 or 1: no alternatives)
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class AnswerVersion:
    """One of the answers a regenerated slot has had."""

    content: str
    thinking: str
    status: str
    meta: dict[str, Any]
    created: float


@dataclass(frozen=True)
class SearchHit:
    """One search result: where it is (to open the conversation at that message) and a snippet."""

    conversation_id: int
    title: str
    message_id: int | None  # None when only the title matched
    index: int  # position of the message in its conversation (0 for a title match)
    role: str
    snippet: str  # with MATCH_START/MATCH_END around matched words
    updated: float


def fts_query(text: str) -> str:
    """The user's words as a safe FTS5 query: each quoted (punctuation can't make a syntax error), all
    required, the last one a prefix (results follow typing)."""
    words = re.findall(r"\w+", text, flags=re.UNICODE)
    if not words:
        return ""
    quoted = ['"' + w.replace('"', '""') + '"' for w in words]
    quoted[-1] += "*"
    return " ".join(quoted)


def title_from_prompt(prompt: str) -> str:
    """A conversation title from its first prompt: the first non-empty line, shortened."""
    for raw in prompt.splitlines():
        line = " ".join(raw.split())
        if line:
            return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"
    return "New conversation"


class HistoryStore:
    """All conversations of one user; open once, use from one thread (the Qt main thread or the CLI),
    ``close()`` at the end. Invalid code points and known API keys never reach the file."""

    def __init__(
        self, path: Path, *, now: Any = time.time, read_only: bool = False, redactor: Redactor | None = None
    ) -> None:
        self.path = path
        self._now = now
        self.read_only = read_only
        self.redactor = redactor if redactor is not None else Redactor()
        self.recovered_interrupted = 0
        self._db = HistoryDatabase(path, read_only=read_only)
        self._run = self._db.run
        self._transaction = self._db.transaction

    @property
    def recovered_from(self) -> Path | None:
        """Where a damaged history file was moved when this store opened (None: it was sound)."""
        return self._db.recovered_from

    @classmethod
    def in_dir(
        cls, data_dir: Path, *, read_only: bool = False, redactor: Redactor | None = None
    ) -> HistoryStore:
        return cls(data_dir / HISTORY_FILE_NAME, read_only=read_only, redactor=redactor)

    def recover_interrupted(self) -> int:
        """Mark answers left "streaming" by a crash as "interrupted"; returns how many.

        Only the app that writes answers calls this, once at start: a second reader (the CLI while
        the app streams) must not mistake a live answer for a dead one.
        """
        self.recovered_interrupted = self._run(
            "UPDATE messages SET status = ? WHERE status = ?",
            (MessageStatus.INTERRUPTED, MessageStatus.STREAMING),
        ).rowcount
        return self.recovered_interrupted

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> HistoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _text(self, text: str) -> str:
        """What is stored of a string: never an invalid code point (SQLite refuses them, and the
        answer would stay "streaming" forever) and never a known API key (a server may echo it)."""
        return self.redactor.redact_secrets(valid_text(text))

    def _optional(self, text: str | None) -> str | None:
        return None if text is None else self._text(text)

    def _json(self, data: Mapping[str, Any] | None) -> str:
        return json.dumps(self.redactor.redact_data(valid_data(dict(data or {})), patterns=False))

    # ------------------------------------------------------------------ conversations

    def create_conversation(
        self,
        title: str = "",
        *,
        model: str | None = None,
        profile: str | None = None,
        settings: Mapping[str, Any] | None = None,
    ) -> Conversation:
        now = self._now()
        cur = self._run(
            "INSERT INTO conversations(title, title_set, created, updated, model, profile, settings) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                self._text(title),
                1 if title else 0,
                now,
                now,
                self._optional(model),
                self._optional(profile),
                self._json(settings),
            ),
        )
        assert cur.lastrowid is not None
        return self.conversation(cur.lastrowid)

    def conversation(self, conversation_id: int, *, include_deleted: bool = True) -> Conversation:
        row = self._run(
            "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS n "
            "FROM conversations c WHERE c.id = ?",
            (conversation_id,),
        ).fetchone()
        if row is None or (row["deleted_at"] is not None and not include_deleted):
            raise ConversationNotFound(conversation_id)
        return _conversation(row)

    def list_conversations(self, limit: int = 500, offset: int = 0) -> list[Conversation]:
        """Conversations pinned first, then newest first (by last activity), without deleted ones."""
        rows = self._run(
            "SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS n "
            "FROM conversations c WHERE c.deleted_at IS NULL "
            "ORDER BY c.pinned DESC, c.updated DESC, c.id DESC LIMIT ? OFFSET ?",
            (limit, offset),
        ).fetchall()
        return [_conversation(r) for r in rows]

    def rename(self, conversation_id: int, title: str) -> None:
        title = self._text(" ".join(title.split()))
        if not title:
            raise HistoryError("A conversation needs a title.", "Type at least one character.")
        self._require(conversation_id)
        self._run("UPDATE conversations SET title = ?, title_set = 1 WHERE id = ?", (title, conversation_id))

    def set_pinned(self, conversation_id: int, *, pinned: bool) -> None:
        """Pinned conversations stay at the top of the list."""
        self._require(conversation_id)
        self._run("UPDATE conversations SET pinned = ? WHERE id = ?", (1 if pinned else 0, conversation_id))

    def update_settings(
        self, conversation_id: int, *, model: str | None = None, settings: Mapping[str, Any] | None = None
    ) -> None:
        """Remember the per-conversation model and parameters (system prompt, temperature…)."""
        current = self.conversation(conversation_id)
        merged = {**current.settings, **(settings or {})}
        stored_model = current.model if model is None else self._text(model)
        self._run(
            "UPDATE conversations SET model = ?, settings = ? WHERE id = ?",
            (stored_model, self._json(merged), conversation_id),
        )

    def delete(self, conversation_id: int) -> None:
        """Mark as deleted (hidden from lists and search); ``restore`` undoes it."""
        self._require(conversation_id)
        self._run("UPDATE conversations SET deleted_at = ? WHERE id = ?", (self._now(), conversation_id))

    def restore(self, conversation_id: int) -> None:
        self._require(conversation_id)
        self._run("UPDATE conversations SET deleted_at = NULL WHERE id = ?", (conversation_id,))

    def purge_deleted(self, older_than: float = 0.0) -> int:
        """Remove for good conversations deleted more than ``older_than`` seconds ago."""
        cutoff = self._now() - older_than
        with self._transaction():
            return self._run(
                "DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at <= ?", (cutoff,)
            ).rowcount

    def _require(self, conversation_id: int) -> None:
        if self._run("SELECT 1 FROM conversations WHERE id = ?", (conversation_id,)).fetchone() is None:
            raise ConversationNotFound(conversation_id)

    # ------------------------------------------------------------------ messages

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        status: MessageStatus = MessageStatus.DONE,
        meta: Mapping[str, Any] | None = None,
    ) -> StoredMessage:
        """Append a message (committed before this returns); the first user message titles the chat."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if status not in STATUSES:
            raise ValueError(f"unknown status {status!r}")
        now = self._now()
        content = self._text(content)
        with self._transaction():
            conv = self._run(
                "SELECT title_set, title FROM conversations WHERE id = ?", (conversation_id,)
            ).fetchone()
            if conv is None:
                raise ConversationNotFound(conversation_id)
            seq = self._run(
                "SELECT COALESCE(MAX(seq), -1) + 1 FROM messages WHERE conversation_id = ?",
                (conversation_id,),
            ).fetchone()[0]
            cur = self._run(
                "INSERT INTO messages(conversation_id, seq, role, content, status, meta, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (conversation_id, seq, role, content, status, self._json(meta), now),
            )
            if role == "user" and not conv["title_set"] and not conv["title"]:
                self._run(
                    "UPDATE conversations SET title = ? WHERE id = ?",
                    (title_from_prompt(content), conversation_id),
                )
            self._run("UPDATE conversations SET updated = ? WHERE id = ?", (now, conversation_id))
        assert cur.lastrowid is not None
        return StoredMessage(
            cur.lastrowid, conversation_id, int(seq), role, content, status, json.loads(self._json(meta)), now
        )

    def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        status: MessageStatus | None = None,
        meta: Mapping[str, Any] | None = None,
        thinking: str | None = None,
    ) -> None:
        """Checkpoint or finish a message; only the given fields change."""
        sets: list[str] = []
        params: list[Any] = []
        if content is not None:
            sets.append("content = ?")
            params.append(self._text(content))
        if thinking is not None:
            sets.append("thinking = ?")
            params.append(self._text(thinking))
        if status is not None:
            if status not in STATUSES:
                raise ValueError(f"unknown status {status!r}")
            sets.append("status = ?")
            params.append(status)
        if meta is not None:
            sets.append("meta = ?")
            params.append(self._json(meta))
        if not sets:
            return
        cur = self._run(f"UPDATE messages SET {', '.join(sets)} WHERE id = ?", (*params, message_id))  # noqa: S608
        if cur.rowcount == 0:
            raise MessageNotFound(message_id)

    def message(self, message_id: int) -> StoredMessage:
        row = self._run(f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.id = ?", (message_id,)).fetchone()  # noqa: S608
        if row is None:
            raise MessageNotFound(message_id)
        return self._with_attachments([_message(row)])[0]

    def message_count(self, conversation_id: int) -> int:
        return int(
            self._run(
                "SELECT COUNT(*) FROM messages WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()[0]
        )

    def messages(self, conversation_id: int, start: int = 0, stop: int | None = None) -> list[StoredMessage]:
        """Messages ``[start:stop]`` of a conversation in order (cheap for any slice: lazy loading)."""
        limit = -1 if stop is None else max(0, stop - start)
        rows = self._run(
            f"SELECT {_MESSAGE_COLUMNS} FROM messages m WHERE m.conversation_id = ? "  # noqa: S608
            "ORDER BY m.seq LIMIT ? OFFSET ?",
            (conversation_id, limit, max(0, start)),
        ).fetchall()
        return self._with_attachments([_message(r) for r in rows])

    def _with_attachments(self, messages: list[StoredMessage]) -> list[StoredMessage]:
        """The messages with their attachments (one query for the whole slice)."""
        users = [m.id for m in messages if m.role == "user"]
        if not users:
            return messages
        marks = ",".join("?" * len(users))
        rows = self._run(
            f"SELECT * FROM attachments WHERE message_id IN ({marks}) ORDER BY id",  # noqa: S608 - only ?s
            tuple(users),
        ).fetchall()
        found: dict[int, list[Attachment]] = {}
        for row in rows:
            found.setdefault(int(row["message_id"]), []).append(
                Attachment(
                    AttachmentKind(row["kind"]), row["name"], row["mime"], Path(row["path"]), int(row["size"])
                )
            )
        return [replace(m, attachments=tuple(found[m.id])) if m.id in found else m for m in messages]

    def add_attachments(self, message_id: int, attachments: Sequence[Attachment]) -> None:
        """Record the files attached to a (user) message, in order."""
        with self._transaction():
            for a in attachments:
                self._run(
                    "INSERT INTO attachments(message_id, kind, name, mime, path, size) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (message_id, str(a.kind), self._text(a.name), a.mime, str(a.path), a.size),
                )

    def attachment_paths(self) -> list[Path]:
        """Every stored copy some message still refers to (the rest may be deleted)."""
        return [Path(r[0]) for r in self._run("SELECT path FROM attachments").fetchall()]

    def index_of(self, message_id: int) -> int:
        """The position of a message within its conversation."""
        msg = self.message(message_id)
        return int(
            self._run(
                "SELECT COUNT(*) FROM messages WHERE conversation_id = ? AND seq < ?",
                (msg.conversation_id, msg.seq),
            ).fetchone()[0]
        )

    def truncate_from(self, message_id: int, *, keep_versions: bool = False) -> int:
        """Remove a message and every later one of its conversation (edit / regenerate).

        ``keep_versions``: the message's own slot keeps its answers (a regenerate adds one more).
        """
        msg = self.message(message_id)
        with self._transaction():
            removed = self._run(
                "DELETE FROM messages WHERE conversation_id = ? AND seq >= ?", (msg.conversation_id, msg.seq)
            ).rowcount
            self._run(
                "DELETE FROM answer_versions WHERE conversation_id = ? AND seq >= ?",
                (msg.conversation_id, msg.seq + (1 if keep_versions else 0)),
            )
            self._run("UPDATE conversations SET updated = ? WHERE id = ?", (self._now(), msg.conversation_id))
        return int(removed)

    # ------------------------------------------------------------------ answer versions

    def keep_version(self, message_id: int) -> int:
        """Record a finished answer as one of its slot's versions; returns its 1-based position.

        Called for the answer being replaced by a regenerate (once) and for every answer that
        follows at a slot that has versions, so each is kept and can be chosen again.
        """
        msg = self.message(message_id)
        with self._transaction():
            self._run(
                "INSERT INTO answer_versions(conversation_id, seq, content, thinking, status, meta, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    msg.conversation_id,
                    msg.seq,
                    msg.content,
                    msg.thinking,
                    msg.status,
                    self._json(msg.meta),
                    msg.created,
                ),
            )
            position = int(
                self._run(
                    "SELECT COUNT(*) FROM answer_versions WHERE conversation_id = ? AND seq = ?",
                    (msg.conversation_id, msg.seq),
                ).fetchone()[0]
            )
            self._run("UPDATE messages SET version = ? WHERE id = ?", (position, message_id))
        return position

    def answer_versions(self, conversation_id: int, seq: int) -> list[AnswerVersion]:
        rows = self._run(
            "SELECT * FROM answer_versions WHERE conversation_id = ? AND seq = ? ORDER BY id",
            (conversation_id, seq),
        ).fetchall()
        return [_version(r) for r in rows]

    def choose_version(self, message_id: int, position: int) -> StoredMessage:
        """Show answer ``position`` (1-based) of the message's slot: it is what later turns send."""
        msg = self.message(message_id)
        versions = self.answer_versions(msg.conversation_id, msg.seq)
        if not 1 <= position <= len(versions):
            raise HistoryError(f"Answer {position} of message {message_id} does not exist.")
        chosen = versions[position - 1]
        self._run(
            "UPDATE messages SET content = ?, thinking = ?, status = ?, meta = ?, version = ? WHERE id = ?",
            (chosen.content, chosen.thinking, chosen.status, self._json(chosen.meta), position, message_id),
        )
        return self.message(message_id)

    # ------------------------------------------------------------------ search

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Messages (and titles) matching every word of ``text``, best match first."""
        hits: list[SearchHit] = []
        query = fts_query(text)
        if not query:
            return hits
        try:
            rows = self._db.conn.execute(
                "SELECT m.id, m.conversation_id, m.role, c.title, c.updated, "
                "  (SELECT COUNT(*) FROM messages p WHERE p.conversation_id = m.conversation_id "
                "   AND p.seq < m.seq) AS idx, "
                "  snippet(messages_fts, 0, ?, ?, '…', 16) AS snip "
                "FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid "
                "JOIN conversations c ON c.id = m.conversation_id "
                "WHERE messages_fts MATCH ? AND c.deleted_at IS NULL "
                "ORDER BY bm25(messages_fts), c.updated DESC LIMIT ?",
                (MATCH_START, MATCH_END, query, limit),
            ).fetchall()
        except sqlite3.OperationalError as exc:  # pragma: no cover - fts_query quotes everything
            raise HistoryError(f"Search failed: {exc}", "Try other words.") from exc
        message_hits = [
            SearchHit(
                conversation_id=int(row["conversation_id"]),
                title=str(row["title"]),
                message_id=int(row["id"]),
                index=int(row["idx"]),
                role=str(row["role"]),
                snippet=" ".join(str(row["snip"]).split()),
                updated=float(row["updated"]),
            )
            for row in rows
        ]
        # Titles the user chose, or of conversations whose text did not match, are hits too.
        matched = {h.conversation_id for h in message_hits}
        words = re.findall(r"\w+", text, flags=re.UNICODE)
        for row in self._run(
            "SELECT id, title, title_set, updated FROM conversations WHERE deleted_at IS NULL "
            "ORDER BY updated DESC"
        ).fetchall():
            title = str(row["title"])
            if (row["title_set"] or int(row["id"]) not in matched) and all(
                w.casefold() in title.casefold() for w in words
            ):
                hits.append(
                    SearchHit(
                        int(row["id"]), title, None, 0, "title", _mark(title, words), float(row["updated"])
                    )
                )
        hits = hits[:limit] + message_hits
        return hits[: limit * 2]


def _conversation(row: sqlite3.Row) -> Conversation:
    try:
        settings = json.loads(row["settings"] or "{}")
    except ValueError:
        settings = {}
    return Conversation(
        id=int(row["id"]),
        title=str(row["title"]) or "New conversation",
        created=float(row["created"]),
        updated=float(row["updated"]),
        model=row["model"],
        profile=row["profile"],
        settings=settings if isinstance(settings, dict) else {},
        message_count=int(row["n"]),
        deleted=row["deleted_at"] is not None,
        pinned=bool(row["pinned"]),
    )


def _version(row: sqlite3.Row) -> AnswerVersion:
    try:
        meta = json.loads(row["meta"] or "{}")
    except ValueError:
        meta = {}
    return AnswerVersion(
        str(row["content"]),
        str(row["thinking"]),
        str(row["status"]),
        meta if isinstance(meta, dict) else {},
        float(row["created"]),
    )


def _message(row: sqlite3.Row) -> StoredMessage:
    try:
        meta = json.loads(row["meta"] or "{}")
    except ValueError:
        meta = {}
    return StoredMessage(
        id=int(row["id"]),
        conversation_id=int(row["conversation_id"]),
        seq=int(row["seq"]),
        role=str(row["role"]),
        content=str(row["content"]),
        status=str(row["status"]),
        meta=meta if isinstance(meta, dict) else {},
        created=float(row["created"]),
        thinking=str(row["thinking"]),
        version=int(row["version"]),
        versions=int(row["versions"]) if "versions" in row.keys() else 0,  # noqa: SIM118 - sqlite3.Row
    )


def _mark(text: str, words: list[str]) -> str:
    for word in sorted(set(words), key=len, reverse=True):
        text = re.sub(f"({re.escape(word)})", MATCH_START + r"\1" + MATCH_END, text, flags=re.I)
    return text


__all__ = [
    "HISTORY_FILE_NAME",
    "MATCH_END",
    "MATCH_START",
    "SCHEMA_VERSION",
    "AnswerVersion",
    "Conversation",
    "ConversationNotFound",
    "HistoryError",
    "HistoryStore",
    "MessageNotFound",
    "MessageStatus",
    "SearchHit",
    "StoredMessage",
    "fts_query",
    "storage_error",
    "title_from_prompt",
]
