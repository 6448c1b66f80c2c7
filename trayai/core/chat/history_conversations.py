"""The history's conversations: create, list (pinned first, newest first), rename, pin, remember
their own model and parameters, delete softly and restore (undo), purge for good.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping

from trayai.core.chat.history_db import ConversationNotFound, HistoryError
from trayai.core.chat.history_records import Conversation, HistoryPart, json_object


class Conversations(HistoryPart):
    """Conversation headers; each one's messages are :class:`~trayai.core.chat.history_messages.Messages`."""

    def create_conversation(
        self,
        title: str = "",
        *,
        model: str | None = None,
        profile: str | None = None,
        settings: Mapping[str, object] | None = None,
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
        self, conversation_id: int, *, model: str | None = None, settings: Mapping[str, object] | None = None
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


def _conversation(row: sqlite3.Row) -> Conversation:
    return Conversation(
        id=int(row["id"]),
        title=str(row["title"]) or "New conversation",
        created=float(row["created"]),
        updated=float(row["updated"]),
        model=row["model"],
        profile=row["profile"],
        settings=json_object(row["settings"]),
        message_count=int(row["n"]),
        deleted=row["deleted_at"] is not None,
        pinned=bool(row["pinned"]),
    )
