"""The chat history's SQLite file — storage apart from the domain (core/chat/history.py): opened
user-only in WAL mode and checked, migrated from older formats, moved aside when damaged, opened
read-only for a reader that cannot write, and every statement's storage fault (full, read-only,
locked) said plainly. Modelled on qutebrowser's ``misc/sql.py`` beside ``browser/history.py``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from trayai.core.errors import AppError
from trayai.core.files import move_aside

SCHEMA_VERSION = 5
HISTORY_FILE_NAME = "history.sqlite3"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    title_set INTEGER NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    model TEXT,
    profile TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    deleted_at REAL,
    pinned INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS conversations_updated ON conversations(updated DESC);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'done',
    meta TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL,
    thinking TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 0,
    UNIQUE (conversation_id, seq)
);
-- Version 3: every answer a slot (conversation, seq) has had, once it was regenerated; the messages
-- row holds the chosen one (messages.version = its 1-based position), so what is shown, searched and
-- sent never needs this table.
CREATE TABLE IF NOT EXISTS answer_versions (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    content TEXT NOT NULL DEFAULT '',
    thinking TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL,
    meta TEXT NOT NULL DEFAULT '{}',
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS answer_versions_slot ON answer_versions(conversation_id, seq, id);
-- Version 4: files attached to a message (trayai's own copies, in the data folder).
CREATE TABLE IF NOT EXISTS attachments (
    id INTEGER PRIMARY KEY,
    message_id INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    mime TEXT NOT NULL,
    path TEXT NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS attachments_message ON attachments(message_id);
-- Version 5: an edited question starts a branch instead of replacing what followed. A slot
-- (conversation, seq of the question) has one row per branch; the chosen one's continuation is in
-- messages (its tail is NULL), each other one's is kept whole in ``tail`` (JSON, history_branches.py)
-- — so what is shown, searched, exported and sent is the chosen branch and never reads this table.
CREATE TABLE IF NOT EXISTS branches (
    id INTEGER PRIMARY KEY,
    conversation_id INTEGER NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    position INTEGER NOT NULL,
    tail TEXT,
    created REAL NOT NULL,
    UNIQUE (conversation_id, seq, position)
);
-- Version 2: what is indexed is the first million characters of a message, once it stops
-- streaming. Indexing runs on the UI thread: re-indexing whole answers at every half-second
-- checkpoint stalled it (~10-15 ms per MB, >100 ms at 5 MB). The view keeps FTS5's external content
-- identical to what the triggers index, so 'delete' and snippet() stay exact.
CREATE VIEW IF NOT EXISTS messages_searchable AS
    SELECT id, substr(content, 1, 1000000) AS content FROM messages;
CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(
    content, content='messages_searchable', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER IF NOT EXISTS messages_ai AFTER INSERT ON messages WHEN new.status != 'streaming' BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, substr(new.content, 1, 1000000));
END;
CREATE TRIGGER IF NOT EXISTS messages_ad AFTER DELETE ON messages WHEN old.status != 'streaming' BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content)
        VALUES ('delete', old.id, substr(old.content, 1, 1000000));
END;
-- One trigger, statements in order (the order two triggers fire in is not to be relied on).
CREATE TRIGGER IF NOT EXISTS messages_au AFTER UPDATE OF content, status ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content)
        SELECT 'delete', old.id, substr(old.content, 1, 1000000) WHERE old.status != 'streaming';
    INSERT INTO messages_fts(rowid, content)
        SELECT new.id, substr(new.content, 1, 1000000) WHERE new.status != 'streaming';
END;
"""


_V3_COLUMNS = (  # constant text: no outside input reaches these statements
    ("messages", "thinking", "TEXT NOT NULL DEFAULT ''"),
    ("messages", "version", "INTEGER NOT NULL DEFAULT 0"),
    ("conversations", "pinned", "INTEGER NOT NULL DEFAULT 0"),
)


class HistoryError(AppError):
    """A history operation that could not be done, with what to do about it."""

    def __init__(self, message: str, hint: str = "", *, storage: bool = False) -> None:
        super().__init__(message, hint)
        self.storage = storage  # a disk fault (full, read-only, locked): the same write may work later

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


class ConversationNotFound(HistoryError, KeyError):
    """No conversation has this id (never created, or purged).

    Also a ``KeyError``, as this used to be, so a caller that still catches that keeps working.
    """

    def __init__(self, conversation_id: int) -> None:
        super().__init__(f"Conversation {conversation_id} does not exist.", "It may have been deleted.")
        self.conversation_id = conversation_id


class MessageNotFound(HistoryError, KeyError):
    """No message has this id (its conversation was cut by an edit or regenerate, or purged)."""

    def __init__(self, message_id: int) -> None:
        super().__init__(f"Message {message_id} does not exist.", "It may have been deleted.")
        self.message_id = message_id


class HistoryDatabase:
    """One open history file: ``conn`` for the domain's statements through :meth:`run` and
    :meth:`transaction`; ``recovered_from`` names where a damaged file was moved."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self.recovered_from: Path | None = None
        self.conn = self._open_read_only() if read_only else self._open_checked()
        # A reader of an older file it may not migrate (read-only) has no branches table.
        self.has_branches = (
            self.conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'branches'"
            ).fetchone()
            is not None
        )

    # ------------------------------------------------------------------ opening

    def _open_checked(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            return self._open()
        except OSError as exc:
            raise storage_error(exc, self.path) from exc
        except sqlite3.OperationalError as exc:  # full, read-only, locked: not damage, never moved
            raise storage_error(exc, self.path) from exc
        except sqlite3.DatabaseError as exc:
            self.recovered_from = self._move_aside(str(exc))
        try:
            return self._open()
        except sqlite3.DatabaseError as exc:  # pragma: no cover - a fresh file failing is a disk issue
            raise HistoryError(
                f"Could not create the history database {self.path}: {exc}",
                "Check that the disk is not full and the data folder is writable.",
            ) from exc

    def _open(self) -> sqlite3.Connection:
        if not self.path.exists():
            fd = os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600)
            os.close(fd)
        with contextlib.suppress(OSError):
            self.path.chmod(0o600)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=5.0)
        try:
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA foreign_keys = ON")
            mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # pragma: no cover - WAL unsupported on this filesystem
                conn.execute("PRAGMA journal_mode = DELETE")
            conn.execute("PRAGMA synchronous = NORMAL")
            check = conn.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                raise sqlite3.DatabaseError(f"integrity check failed: {check}")
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise HistoryError(
                    f"The history database {self.path} was written by a newer trayai (format {version}).",
                    "Update trayai, or move the file away to start a new history.",
                )
            self._migrate(conn, version)
        except BaseException:
            conn.close()
            raise
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(OSError):
                Path(f"{self.path}{suffix}").chmod(0o600)
        return conn

    def _open_read_only(self) -> sqlite3.Connection:
        """For readers (the CLI) when the data dir cannot be written: no creation, no migration.

        WAL needs a writable ``-shm`` beside the file; where none can be made the file is opened
        ``immutable`` (nothing can write it there either).
        """
        if not self.path.is_file():
            raise HistoryError(
                f"There is no chat history at {self.path} yet.",
                "Chats are saved there once you use the chat window.",
            )
        last: sqlite3.Error | None = None
        for flags in ("mode=ro", "mode=ro&immutable=1"):
            uri = f"{self.path.resolve().as_uri()}?{flags}"
            conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=5.0)
            conn.row_factory = sqlite3.Row
            try:
                version = int(conn.execute("PRAGMA user_version").fetchone()[0])
                conn.execute("SELECT 1 FROM messages LIMIT 1").fetchall()
            except sqlite3.OperationalError as exc:
                conn.close()
                last = exc
                continue
            except sqlite3.DatabaseError as exc:
                conn.close()
                raise HistoryError(
                    f"The history database {self.path} is damaged: {exc}",
                    "Open the chat window once: it moves a damaged file aside.",
                ) from exc
            if version > SCHEMA_VERSION:
                conn.close()
                raise HistoryError(
                    f"The history database {self.path} was written by a newer trayai (format {version}).",
                    "Update trayai.",
                )
            return conn
        assert last is not None
        raise storage_error(last, self.path) from last

    def _migrate(self, conn: sqlite3.Connection, version: int) -> None:
        """Bring an older file up to ``SCHEMA_VERSION`` (version 0 = new or empty file)."""
        if version < 1:
            # One script, one transaction: a crash half-way leaves version 0 and it runs again.
            conn.executescript(f"BEGIN;\n{_SCHEMA}\nPRAGMA user_version = {SCHEMA_VERSION};\nCOMMIT;")
            return
        if version < 2:
            # Streaming answers leave the index (see _SCHEMA): new triggers, and the index rebuilt
            # without them, so every later 'delete' removes exactly what was indexed.
            conn.executescript(
                "BEGIN;\n"  # noqa: S608 - constant schema text, nothing from outside
                "DROP TRIGGER IF EXISTS messages_ai; DROP TRIGGER IF EXISTS messages_ad;\n"
                "DROP TRIGGER IF EXISTS messages_au; DROP TABLE IF EXISTS messages_fts;\n"
                f"{_SCHEMA}\n"
                "INSERT INTO messages_fts(rowid, content) SELECT s.id, s.content "
                "FROM messages_searchable s JOIN messages m ON m.id = s.id WHERE m.status != 'streaming';\n"
                "PRAGMA user_version = 2;\nCOMMIT;"
            )
        if version < 3:
            # Thinking, answer versions and pins: new columns with defaults (those a file lacks),
            # one new table.
            added = [
                f"ALTER TABLE {table} ADD COLUMN {column} {kind};\n"
                for table, column, kind in _V3_COLUMNS
                if column not in {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}
            ]
            conn.executescript(f"BEGIN;\n{''.join(added)}{_SCHEMA}\nPRAGMA user_version = 3;\nCOMMIT;")
        if version < 4:
            conn.executescript(f"BEGIN;\n{_SCHEMA}\nPRAGMA user_version = 4;\nCOMMIT;")
        if version < 5:  # one new table: every message stays as it is
            conn.executescript(f"BEGIN;\n{_SCHEMA}\nPRAGMA user_version = 5;\nCOMMIT;")

    def _move_aside(self, reason: str) -> Path:
        """The damaged file (with its WAL) moved aside, and a note beside it saying what was wrong."""
        target = move_aside(self.path, "corrupt", companions=("-wal", "-shm"))
        (target.with_name(target.name + ".reason")).write_text(reason + "\n", encoding="utf-8")
        return target

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):
            self.conn.close()

    def run(self, sql: str, params: tuple[Any, ...] = ()) -> sqlite3.Cursor:
        try:
            return self.conn.execute(sql, params)
        except sqlite3.OperationalError as exc:
            raise storage_error(exc, self.path) from exc
        except sqlite3.DatabaseError as exc:
            raise HistoryError(
                f"The history database is damaged: {exc}",
                "Restart trayai: a damaged file is moved aside and a new history started.",
            ) from exc

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        self.run("BEGIN IMMEDIATE")
        try:
            yield
            self.run("COMMIT")
        except BaseException:
            if self.conn.in_transaction:  # a failed COMMIT (disk full) may have rolled back already
                with contextlib.suppress(sqlite3.Error):
                    self.conn.execute("ROLLBACK")
            raise


def storage_error(exc: BaseException, path: Path) -> HistoryError:
    """Say plainly where and why the history cannot be written (full, read-only, locked)."""
    text = str(exc).lower()
    folder = path.parent
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "full" in text:
        return HistoryError(
            f"The disk holding the chat history ({folder}) is full.",
            "Free some space there; unsaved answers are written once it can.",
            storage=True,
        )
    if (
        (isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM))
        or "readonly" in text
        or "read-only" in text
        or "unable to open" in text
    ):
        return HistoryError(
            f"The chat history folder {folder} is read-only.",
            "Make it writable (permissions, or remount the disk read-write).",
            storage=True,
        )
    if "locked" in text or "busy" in text:
        return HistoryError(
            f"The chat history {path} is locked by another program.",
            "Close the other program (another trayai?) and try again.",
            storage=True,
        )
    return HistoryError(
        f"The chat history ({path}) could not be written: {exc}",
        f"Check free disk space and permissions of {folder}.",
        storage=True,
    )


__all__ = [
    "HISTORY_FILE_NAME",
    "SCHEMA_VERSION",
    "ConversationNotFound",
    "HistoryDatabase",
    "HistoryError",
    "MessageNotFound",
    "storage_error",
]
