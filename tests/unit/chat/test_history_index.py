"""The search index follows answers once they stop streaming, and older files are migrated."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_db import SCHEMA_VERSION
from trayai.core.chat.history_records import MessageStatus

V1_TRIGGERS = """
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
"""


def index_is_consistent(path: Path) -> bool:
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO messages_fts(messages_fts, rank) VALUES ('integrity-check', 1)")
    return True


def test_a_streaming_answer_is_searchable_once_it_ends(tmp_path: Path) -> None:
    with HistoryStore.in_dir(tmp_path) as store:
        conv = store.create_conversation()
        store.add_message(conv.id, "user", "tell me about lighthouses")
        answer = store.add_message(conv.id, "assistant", "", status=MessageStatus.STREAMING)
        for text in ("The keeper", "The keeper climbs", "The keeper climbs the spiral stairs"):
            store.update_message(answer.id, content=text)  # checkpoints: no re-indexing
        assert [h.message_id for h in store.search("spiral")] == []
        store.update_message(
            answer.id, content="The keeper climbs the spiral stairs.", status=MessageStatus.DONE
        )
        assert [h.message_id for h in store.search("spiral")] == [answer.id]
        store.update_message(answer.id, content="Rewritten entirely.")
        assert store.search("spiral") == [] and len(store.search("rewritten")) == 1
        cut = store.add_message(conv.id, "assistant", "half a spiral", status=MessageStatus.STREAMING)
        store.truncate_from(cut.id)  # deleting a never-indexed row leaves the index whole
    assert index_is_consistent(tmp_path / "history.sqlite3")


def test_a_version_1_file_is_migrated_without_indexing_streaming_rows(tmp_path: Path) -> None:
    with HistoryStore.in_dir(tmp_path) as store:
        conv = store.create_conversation()
        store.add_message(conv.id, "user", "an old question about tides")
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as conn:  # make it look like a file written by version 1
        for name in ("messages_ai", "messages_ad", "messages_au"):
            conn.execute(f"DROP TRIGGER {name}")
        conn.executescript(V1_TRIGGERS)
        conn.execute(
            "INSERT INTO messages(conversation_id, seq, role, content, status, meta, created) "
            "VALUES (?, 1, 'assistant', 'tides rise twice a day', 'streaming', '{}', 0)",
            (conv.id,),
        )
        conn.execute("PRAGMA user_version = 1")
    with HistoryStore.in_dir(tmp_path) as store:
        assert len(store.search("tides")) == 1  # the streaming row is not in the index
        assert store.recover_interrupted() == 1  # streaming → interrupted: indexed now
        assert len(store.search("tides")) == 2
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 5
    assert index_is_consistent(path)


def test_the_first_million_characters_of_a_huge_answer_are_indexed(tmp_path: Path) -> None:
    with HistoryStore.in_dir(tmp_path) as store:
        conv = store.create_conversation()
        head = "lighthouse " * 10
        huge = head + "x " * 600_000 + " needle"  # the last word lies past the first million characters
        answer = store.add_message(conv.id, "assistant", huge[:1000], status=MessageStatus.STREAMING)
        store.update_message(answer.id, content=huge, status=MessageStatus.DONE)
        assert [h.message_id for h in store.search("lighthouse")] == [answer.id]
        assert store.search("needle") == []
        assert store.message(answer.id).content == huge  # stored whole, only searched in part
        store.truncate_from(answer.id)
        assert store.search("lighthouse") == []
    assert index_is_consistent(tmp_path / "history.sqlite3")
