"""Conversation history — the domain, one object for its callers: :class:`HistoryStore` puts together
its concerns, each a class of its own (conversations, messages and checkpoints, answer versions,
question branches, full-text search) over one SQLite file (core/chat/history_db.py: open, migrate,
recover, move aside).
Exporting is core/chat/history_export.py.

See docs/architecture.md, "The chat window" (what is saved when, damage, storage faults, undo).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from trayai.core.chat.history_branches import QuestionBranches
from trayai.core.chat.history_conversations import Conversations
from trayai.core.chat.history_db import HISTORY_FILE_NAME, HistoryDatabase
from trayai.core.chat.history_records import MessageStatus
from trayai.core.chat.history_search import HistorySearch
from trayai.core.chat.history_versions import AnswerVersions
from trayai.core.redact import Redactor


class HistoryStore(Conversations, AnswerVersions, QuestionBranches, HistorySearch):
    """All conversations of one user; open once, use from one thread (the Qt main thread or the CLI),
    ``close()`` at the end. Invalid code points and known API keys never reach the file."""

    def __init__(
        self,
        path: Path,
        *,
        now: Callable[[], float] = time.time,
        read_only: bool = False,
        redactor: Redactor | None = None,
    ) -> None:
        self.path = path
        self.read_only = read_only
        self.recovered_interrupted = 0
        db = HistoryDatabase(path, read_only=read_only)
        super().__init__(db, now=now, redactor=redactor if redactor is not None else Redactor())

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


__all__ = ["HistoryStore"]
