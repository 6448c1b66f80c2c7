"""Question branches: editing a sent question keeps the old one and everything after it as a branch,
and the edited question starts a new one; ‹ 1/2 › on the question chooses which branch is shown.

The chosen branch lives in the messages table like any conversation (so what is shown, searched,
exported and sent is the chosen branch only, and nothing else reads this table); every other branch's
continuation is kept whole — messages, their attachments, answer versions and the branches inside it —
as one JSON ``tail`` on its ``branches`` row, and swapped back in when it is chosen.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import TypedDict

from trayai.core.chat.history_db import HistoryError
from trayai.core.chat.history_messages import Messages
from trayai.core.chat.history_records import StoredMessage, json_object

_BRANCH_FIELDS = "conversation_id, seq, position, tail, created"


class KeptAttachment(TypedDict):
    kind: str
    name: str
    mime: str
    path: str
    size: int


class KeptMessage(TypedDict):
    seq: int
    role: str
    content: str
    status: str
    meta: str
    created: float
    thinking: str
    version: int
    attachments: list[KeptAttachment]


class KeptVersion(TypedDict):
    seq: int
    content: str
    thinking: str
    status: str
    meta: str
    created: float


class KeptBranch(TypedDict):
    seq: int
    position: int
    tail: str | None  # its own kept continuation (JSON), None for the chosen one
    created: float


class Tail(TypedDict):
    """A branch's continuation from its question on, as kept while another branch is shown."""

    messages: list[KeptMessage]
    versions: list[KeptVersion]
    branches: list[KeptBranch]


class QuestionBranches(Messages):
    """The branches of a question's slot: started by an edit, listed, chosen."""

    def branch_from(self, message_id: int, content: str) -> StoredMessage:
        """Edit the question ``message_id``: what is shown from it on is kept as a branch (the first
        of its slot when it had none), and ``content`` is saved as the question of a new, chosen
        branch at the same place — committed before this returns."""
        msg = self._question(message_id)
        now = self._now()
        with self._transaction():
            rows = self._branch_rows(msg.conversation_id, msg.seq)
            if not rows:
                kept = self._take_tail(msg.conversation_id, msg.seq)  # the question as it was: branch 1
                self._run(
                    f"INSERT INTO branches({_BRANCH_FIELDS}) VALUES (?, ?, 1, ?, ?)",  # noqa: S608 - constant
                    (msg.conversation_id, msg.seq, kept, msg.created),
                )
            else:
                self._stash_chosen(msg.conversation_id, msg.seq)
            position = len(rows) + 1 if rows else 2
            self._run(
                f"INSERT INTO branches({_BRANCH_FIELDS}) VALUES (?, ?, ?, NULL, ?)",  # noqa: S608 - constant
                (msg.conversation_id, msg.seq, position, now),
            )
            cur = self._run(
                "INSERT INTO messages(conversation_id, seq, role, content, status, meta, created) "
                "VALUES (?, ?, 'user', ?, 'done', '{}', ?)",
                (msg.conversation_id, msg.seq, self._text(content), now),
            )
            self._run("UPDATE conversations SET updated = ? WHERE id = ?", (now, msg.conversation_id))
        assert cur.lastrowid is not None
        return self.message(cur.lastrowid)

    def choose_branch(self, message_id: int, position: int) -> StoredMessage:
        """Show branch ``position`` (1-based) of the question ``message_id``'s slot, its whole
        continuation with it; returns that branch's question (a new id: rows are swapped)."""
        msg = self._question(message_id)
        rows = self._branch_rows(msg.conversation_id, msg.seq)
        wanted = next((r for r in rows if int(r["position"]) == position), None)
        if wanted is None:
            raise HistoryError(f"Branch {position} of message {message_id} does not exist.")
        if wanted["tail"] is None:
            return msg  # already shown
        with self._transaction():
            self._stash_chosen(msg.conversation_id, msg.seq)
            self._put_tail(msg.conversation_id, str(wanted["tail"]))
            self._run("UPDATE branches SET tail = NULL WHERE id = ?", (int(wanted["id"]),))
        shown = self._run(
            "SELECT id FROM messages WHERE conversation_id = ? AND seq = ?", (msg.conversation_id, msg.seq)
        ).fetchone()
        if shown is None:  # pragma: no cover - every kept branch starts with its question
            raise HistoryError(f"Branch {position} of message {message_id} is empty.")
        return self.message(int(shown[0]))

    def attachment_paths(self) -> list[Path]:
        """Every stored copy a message refers to, in the branch shown or in one kept aside."""
        paths = super().attachment_paths()
        if self._db.has_branches:
            for (tail,) in self._run("SELECT tail FROM branches WHERE tail IS NOT NULL").fetchall():
                paths += _tail_paths(str(tail))
        return paths

    # ------------------------------------------------------------------ inside a transaction

    def _question(self, message_id: int) -> StoredMessage:
        msg = self.message(message_id)
        if msg.role != "user":
            raise HistoryError(f"Message {message_id} is not a question: only questions have branches.")
        return msg

    def _branch_rows(self, conversation_id: int, seq: int) -> list[sqlite3.Row]:
        return list(
            self._run(
                "SELECT id, position, tail FROM branches WHERE conversation_id = ? AND seq = ? "
                "ORDER BY position",
                (conversation_id, seq),
            ).fetchall()
        )

    def _stash_chosen(self, conversation_id: int, seq: int) -> None:
        """The continuation shown from ``seq`` on goes into its (chosen) branch row."""
        tail = self._take_tail(conversation_id, seq)
        self._run(
            "UPDATE branches SET tail = ? WHERE conversation_id = ? AND seq = ? AND tail IS NULL",
            (tail, conversation_id, seq),
        )

    def _take_tail(self, conversation_id: int, seq: int) -> str:
        """The conversation from ``seq`` on as a kept tail (JSON), removed from the shown tables."""
        where = (conversation_id, seq)
        messages: list[KeptMessage] = []
        for row in self._run(
            "SELECT * FROM messages WHERE conversation_id = ? AND seq >= ? ORDER BY seq", where
        ).fetchall():
            files = self._run(
                "SELECT kind, name, mime, path, size FROM attachments WHERE message_id = ? ORDER BY id",
                (int(row["id"]),),
            ).fetchall()
            messages.append(
                KeptMessage(
                    seq=int(row["seq"]),
                    role=str(row["role"]),
                    content=str(row["content"]),
                    status=str(row["status"]),
                    meta=str(row["meta"]),
                    created=float(row["created"]),
                    thinking=str(row["thinking"]),
                    version=int(row["version"]),
                    attachments=[
                        KeptAttachment(
                            kind=str(f["kind"]),
                            name=str(f["name"]),
                            mime=str(f["mime"]),
                            path=str(f["path"]),
                            size=int(f["size"]),
                        )
                        for f in files
                    ],
                )
            )
        versions = [
            KeptVersion(
                seq=int(v["seq"]),
                content=str(v["content"]),
                thinking=str(v["thinking"]),
                status=str(v["status"]),
                meta=str(v["meta"]),
                created=float(v["created"]),
            )
            for v in self._run(
                "SELECT * FROM answer_versions WHERE conversation_id = ? AND seq >= ? ORDER BY id", where
            ).fetchall()
        ]
        branches = [
            KeptBranch(
                seq=int(b["seq"]),
                position=int(b["position"]),
                tail=None if b["tail"] is None else str(b["tail"]),
                created=float(b["created"]),
            )
            for b in self._run(
                "SELECT * FROM branches WHERE conversation_id = ? AND seq > ? ORDER BY seq, position", where
            ).fetchall()
        ]
        self._run("DELETE FROM messages WHERE conversation_id = ? AND seq >= ?", where)
        self._run("DELETE FROM answer_versions WHERE conversation_id = ? AND seq >= ?", where)
        self._run("DELETE FROM branches WHERE conversation_id = ? AND seq > ?", where)
        return json.dumps(Tail(messages=messages, versions=versions, branches=branches))

    def _put_tail(self, conversation_id: int, text: str) -> None:
        """A kept tail back into the shown tables (its messages get new ids)."""
        tail = _tail(text)
        for m in tail["messages"]:
            cur = self._run(
                "INSERT INTO messages(conversation_id, seq, role, content, status, meta, created, thinking, "
                "version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    m["seq"],
                    m["role"],
                    m["content"],
                    m["status"],
                    m["meta"],
                    m["created"],
                    m["thinking"],
                    m["version"],
                ),
            )
            for a in m["attachments"]:
                self._run(
                    "INSERT INTO attachments(message_id, kind, name, mime, path, size) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (cur.lastrowid, a["kind"], a["name"], a["mime"], a["path"], a["size"]),
                )
        for v in tail["versions"]:
            self._run(
                "INSERT INTO answer_versions(conversation_id, seq, content, thinking, status, meta, created) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    conversation_id,
                    v["seq"],
                    v["content"],
                    v["thinking"],
                    v["status"],
                    v["meta"],
                    v["created"],
                ),
            )
        for b in tail["branches"]:
            self._run(
                f"INSERT INTO branches({_BRANCH_FIELDS}) VALUES (?, ?, ?, ?, ?)",  # noqa: S608 - constant
                (conversation_id, b["seq"], b["position"], b["tail"], b["created"]),
            )


def _tail(text: str) -> Tail:
    """A kept tail read back (an unreadable one as empty: it can then never be restored wrongly)."""
    data = json_object(text)
    return Tail(
        messages=list(data.get("messages", [])),
        versions=list(data.get("versions", [])),
        branches=list(data.get("branches", [])),
    )


def _tail_paths(text: str) -> list[Path]:
    """The attachment copies a kept tail refers to, those of the branches kept inside it too."""
    tail = _tail(text)
    paths = [Path(a["path"]) for m in tail["messages"] for a in m["attachments"]]
    for b in tail["branches"]:
        if b["tail"] is not None:
            paths += _tail_paths(b["tail"])
    return paths


__all__ = ["QuestionBranches", "Tail"]
