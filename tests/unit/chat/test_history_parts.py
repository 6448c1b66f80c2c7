"""Each concern of the history works over one open file on its own, and HistoryStore is all of them;
a damaged file is set aside with its WAL and a note saying why."""

from __future__ import annotations

from pathlib import Path

from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_conversations import Conversations
from trayai.core.chat.history_db import HistoryDatabase
from trayai.core.chat.history_records import json_object, title_from_prompt
from trayai.core.chat.history_search import MATCH_END, MATCH_START, HistorySearch, fts_query
from trayai.core.chat.history_versions import AnswerVersions
from trayai.core.redact import Redactor


def test_the_parts_share_one_file(tmp_path: Path) -> None:
    db = HistoryDatabase(tmp_path / "history.sqlite3")
    try:
        redactor = Redactor()
        conversations = Conversations(db, now=lambda: 100.0, redactor=redactor)
        messages = AnswerVersions(db, now=lambda: 101.0, redactor=redactor)
        search = HistorySearch(db, now=lambda: 102.0, redactor=redactor)
        conv = conversations.create_conversation()
        messages.add_message(conv.id, "user", "Where do penguins live?\nSouth.")
        assert conversations.conversation(conv.id).title == "Where do penguins live?"
        assert conversations.conversation(conv.id).message_count == 1
        hits = search.search("penguin")
        assert [(h.conversation_id, h.role) for h in hits] == [(conv.id, "user")]  # an automatic title
        assert f"{MATCH_START}penguin" in hits[0].snippet and MATCH_END in hits[0].snippet
        conversations.rename(conv.id, "Penguins")
        assert [h.role for h in search.search("penguin")] == ["title", "user"]
        assert conversations.conversation(conv.id).updated == 101.0  # the message's clock
    finally:
        db.close()


def test_the_store_is_every_part(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        assert isinstance(store, Conversations)
        assert isinstance(store, AnswerVersions)
        assert isinstance(store, HistorySearch)


def test_a_damaged_file_is_moved_aside_with_its_wal_and_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_bytes(b"not a database, just bytes" * 100)
    Path(f"{path}-wal").write_bytes(b"")
    with HistoryStore(path) as store:
        moved = store.recovered_from
        assert moved is not None and moved.name.startswith("history.sqlite3.corrupt-")
        assert store.list_conversations() == []
    assert moved.read_bytes().startswith(b"not a database")
    assert Path(f"{moved}-wal").exists()
    assert moved.with_name(moved.name + ".reason").read_text(encoding="utf-8").strip()


def test_stored_json_reads_back_as_an_object_whatever_the_text() -> None:
    assert json_object('{"model": "m"}') == {"model": "m"}
    assert json_object(None) == json_object("") == json_object("[1]") == json_object("{broken") == {}


def test_titles_and_queries_from_what_is_typed() -> None:
    assert title_from_prompt("\n  hello   world \n") == "hello world"
    assert title_from_prompt("") == "New conversation"
    assert fts_query('say "hi", now') == '"say" "hi" "now"*'
    assert fts_query("  ,;  ") == ""
