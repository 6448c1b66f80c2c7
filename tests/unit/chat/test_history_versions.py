"""History format 3: thinking stored apart, every regenerated answer kept as a version, pins."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_export import export_json, export_markdown
from trayai.core.chat.history_records import MessageStatus


def test_thinking_is_stored_apart_from_the_answer(tmp_path: Path) -> None:
    with HistoryStore.in_dir(tmp_path) as store:
        conv = store.create_conversation()
        store.add_message(conv.id, "user", "Capital of France?")
        answer = store.add_message(conv.id, "assistant", "", status=MessageStatus.STREAMING)
        store.update_message(
            answer.id, content="Paris.", thinking="France → Paris.", status=MessageStatus.DONE
        )
        saved = store.message(answer.id)
        assert (saved.content, saved.thinking) == ("Paris.", "France → Paris.")
        assert [h.message_id for h in store.search("Paris")] == [answer.id]  # the answer, not the thought
        exported = export_json(store, conv.id)["messages"][1]
        assert exported["content"] == "Paris." and exported["thinking"] == "France → Paris."
        assert "<details><summary>Thinking</summary>" in export_markdown(store, conv.id)


def test_a_regenerated_slot_keeps_every_answer_and_one_is_chosen(tmp_path: Path) -> None:
    with HistoryStore.in_dir(tmp_path) as store:
        conv = store.create_conversation()
        store.add_message(conv.id, "user", "A name for a cat?")
        first = store.add_message(conv.id, "assistant", "Tom")
        assert store.message(first.id).versions == 0  # one answer: no alternatives
        assert store.keep_version(first.id) == 1
        store.truncate_from(first.id, keep_versions=True)  # regenerate: the row goes, its version stays
        second = store.add_message(conv.id, "assistant", "Felix")
        assert second.seq == first.seq
        assert store.keep_version(second.id) == 2
        shown = store.message(second.id)
        assert (shown.version, shown.versions, shown.content) == (2, 2, "Felix")
        back = store.choose_version(second.id, 1)
        assert (back.content, back.version, back.versions) == ("Tom", 1, 2)
        assert [m.content for m in store.messages(conv.id)] == ["A name for a cat?", "Tom"]  # what is sent
        alternatives = export_json(store, conv.id)["messages"][1]["alternatives"]
        assert [a["content"] for a in alternatives] == ["Tom", "Felix"]
        # Editing the prompt replaces what followed: the slot's versions go with it.
        store.truncate_from(store.messages(conv.id)[0].id)
        store.add_message(conv.id, "user", "A name for a dog?")
        third = store.add_message(conv.id, "assistant", "Rex")
        assert store.message(third.id).versions == 0


def test_a_version_2_file_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with sqlite3.connect(path) as conn:  # the tables as format 2 had them
        conn.executescript(
            "CREATE TABLE conversations (id INTEGER PRIMARY KEY, title TEXT NOT NULL DEFAULT '', "
            "title_set INTEGER NOT NULL DEFAULT 0, created REAL NOT NULL, updated REAL NOT NULL, model TEXT, "
            "profile TEXT, settings TEXT NOT NULL DEFAULT '{}', deleted_at REAL);"
            "CREATE TABLE messages (id INTEGER PRIMARY KEY, conversation_id INTEGER NOT NULL, seq INTEGER "
            "NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL DEFAULT '', status TEXT NOT NULL DEFAULT "
            "'done', meta TEXT NOT NULL DEFAULT '{}', created REAL NOT NULL, UNIQUE (conversation_id, seq));"
            "INSERT INTO conversations(id, title, created, updated) VALUES (1, 'Old', 0, 0);"
            "INSERT INTO messages(conversation_id, seq, role, content, created) VALUES (1, 0, 'user', 'hi', 0);"
            "PRAGMA user_version = 2;"
        )
    with HistoryStore.in_dir(tmp_path) as store:
        message = store.messages(1)[0]
        assert (message.content, message.thinking, message.versions) == ("hi", "", 0)
        assert store.conversation(1).pinned is False


def test_pinned_conversations_come_first(tmp_path: Path) -> None:
    clock = iter(range(100))
    with HistoryStore(tmp_path / "h.sqlite3", now=lambda: float(next(clock))) as store:
        old = store.create_conversation("old")
        store.create_conversation("new")
        assert [c.title for c in store.list_conversations()] == ["new", "old"]
        store.set_pinned(old.id, pinned=True)
        assert [(c.title, c.pinned) for c in store.list_conversations()] == [("old", True), ("new", False)]
