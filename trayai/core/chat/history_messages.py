"""The history's messages: appended (the first prompt titles its conversation), checkpointed while an
answer streams, read in slices (lazy loading), with their attachments and an answer's tool calls and
results; cut from a message on for an edit or a regenerate.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

from trayai.core.chat.attachments import Attachment, AttachmentKind
from trayai.core.chat.history_db import ConversationNotFound, MessageNotFound
from trayai.core.chat.history_records import (
    ROLES,
    STATUSES,
    HistoryPart,
    MessageStatus,
    StoredMessage,
    json_object,
    title_from_prompt,
)
from trayai.core.chat.history_wire import stored_turns
from trayai.core.net.wire import ChatMessage

# A message row plus how many answers its slot has had, and for an edited question how many branches
# its slot has and which one is shown (constant text: no outside input).
_MESSAGE_COLUMNS = (
    "m.*, (SELECT COUNT(*) FROM answer_versions v WHERE v.conversation_id = m.conversation_id "
    "AND v.seq = m.seq) AS versions"
)
_BRANCH_COLUMNS = (
    ", (SELECT COUNT(*) FROM branches b WHERE b.conversation_id = m.conversation_id AND b.seq = m.seq) "
    "AS branches, (SELECT b.position FROM branches b WHERE b.conversation_id = m.conversation_id "
    "AND b.seq = m.seq AND b.tail IS NULL) AS branch"
)


class Messages(HistoryPart):
    """The messages of every conversation, by id and in order."""

    @property
    def _columns(self) -> str:
        """What a message is read with (a read-only reader of a format-4 file has no branches)."""
        return _MESSAGE_COLUMNS + (_BRANCH_COLUMNS if self._db.has_branches else "")

    def add_message(
        self,
        conversation_id: int,
        role: str,
        content: str,
        *,
        status: MessageStatus = MessageStatus.DONE,
        meta: Mapping[str, object] | None = None,
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
            cur.lastrowid,
            conversation_id,
            int(seq),
            role,
            content,
            status,
            json_object(self._json(meta)),
            now,
        )

    def add_tool_exchange(self, conversation_id: int, exchange: Sequence[ChatMessage]) -> list[StoredMessage]:
        """Store an answer's tool calls and results (``Answer.exchange``, in order): each assistant turn
        that made calls with them in its meta, each result as a ``tool`` message (history_wire.py)."""
        return [
            self.add_message(conversation_id, turn.role, turn.content, meta=turn.meta)
            for turn in stored_turns(exchange)
        ]

    def update_message(
        self,
        message_id: int,
        *,
        content: str | None = None,
        status: MessageStatus | None = None,
        meta: Mapping[str, object] | None = None,
        thinking: str | None = None,
    ) -> None:
        """Checkpoint or finish a message; only the given fields change."""
        sets: list[str] = []
        params: list[object] = []
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
        row = self._run(f"SELECT {self._columns} FROM messages m WHERE m.id = ?", (message_id,)).fetchone()  # noqa: S608
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
            f"SELECT {self._columns} FROM messages m WHERE m.conversation_id = ? "  # noqa: S608
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
            if self._db.has_branches:  # branches of what was cut go with it
                self._run(
                    "DELETE FROM branches WHERE conversation_id = ? AND seq >= ?",
                    (msg.conversation_id, msg.seq),
                )
            self._run("UPDATE conversations SET updated = ? WHERE id = ?", (self._now(), msg.conversation_id))
        return int(removed)


def _message(row: sqlite3.Row) -> StoredMessage:
    return StoredMessage(
        id=int(row["id"]),
        conversation_id=int(row["conversation_id"]),
        seq=int(row["seq"]),
        role=str(row["role"]),
        content=str(row["content"]),
        status=str(row["status"]),
        meta=json_object(row["meta"]),
        created=float(row["created"]),
        thinking=str(row["thinking"]),
        version=int(row["version"]),
        versions=int(row["versions"]) if "versions" in row.keys() else 0,  # noqa: SIM118 - sqlite3.Row
        branch=int(row["branch"] or 0) if "branch" in row.keys() else 0,  # noqa: SIM118 - sqlite3.Row
        branches=int(row["branches"]) if "branches" in row.keys() else 0,  # noqa: SIM118 - sqlite3.Row
    )
