"""Answer versions: every answer a regenerated slot has had, kept so each can be chosen again (the
messages row holds the chosen one, so what is shown, searched and sent never reads this table).
"""

from __future__ import annotations

import sqlite3

from trayai.core.chat.history_db import HistoryError
from trayai.core.chat.history_messages import Messages
from trayai.core.chat.history_records import AnswerVersion, StoredMessage, json_object


class AnswerVersions(Messages):
    """The versions of a message's slot: kept, listed, chosen (built on the messages they replace)."""

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


def _version(row: sqlite3.Row) -> AnswerVersion:
    return AnswerVersion(
        str(row["content"]),
        str(row["thinking"]),
        str(row["status"]),
        json_object(row["meta"]),
        float(row["created"]),
    )
