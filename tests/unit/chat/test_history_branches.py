"""History format 5: an edited question starts a branch; the old question and everything after it stay,
and the chosen branch alone is what is shown, searched, exported and sent."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from trayai.core.chat.attachments import Attachment, AttachmentKind
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_db import SCHEMA_VERSION, HistoryError
from trayai.core.chat.history_export import export_json, export_markdown
from trayai.core.chat.history_records import MessageStatus

# Written by trayai at main 4e6f5bf (history format 4, the schema before branches): two conversations,
# a question with a text file and an image, a regenerated answer with thinking (two versions), a
# stopped answer, a pinned chat.
FORMAT_4_FILE = Path(__file__).parent / "data" / "history-v4.sqlite3"


def _files(tmp_path: Path) -> list[Attachment]:
    return [
        Attachment(AttachmentKind.TEXT, "notes.txt", "text/plain", tmp_path / "a1-notes.txt", 12),
        Attachment(AttachmentKind.IMAGE, "chart.png", "image/png", tmp_path / "a2-chart.png", 99),
    ]


def _contents(store: HistoryStore, conversation_id: int) -> list[str]:
    return [m.content for m in store.messages(conversation_id)]


def test_an_edit_keeps_the_old_question_and_what_followed_as_branch_1(tmp_path: Path) -> None:
    with HistoryStore.in_dir(tmp_path) as store:
        conv = store.create_conversation()
        store.add_message(conv.id, "user", "Hi")
        store.add_message(conv.id, "assistant", "Hello!")
        question = store.add_message(conv.id, "user", "A name for a cat?")
        store.add_attachments(question.id, _files(tmp_path))
        store.add_message(conv.id, "assistant", "Tom")
        store.add_message(conv.id, "user", "Another?")
        store.add_message(conv.id, "assistant", "Felix")

        edited = store.branch_from(question.id, "A name for a dog?")
        assert (edited.seq, edited.branch, edited.branches, edited.attachments) == (question.seq, 2, 2, ())
        store.add_message(conv.id, "assistant", "Rex")
        assert _contents(store, conv.id) == ["Hi", "Hello!", "A name for a dog?", "Rex"]
        assert [h.message_id for h in store.search("Felix")] == []  # the branch not shown is not searched
        assert "Felix" not in export_markdown(store, conv.id)

        back = store.choose_branch(edited.id, 1)
        assert (back.content, back.branch, back.branches) == ("A name for a cat?", 1, 2)
        assert [a.name for a in back.attachments] == ["notes.txt", "chart.png"]  # its files came back
        assert _contents(store, conv.id) == ["Hi", "Hello!", "A name for a cat?", "Tom", "Another?", "Felix"]
        assert [store.message(h.message_id or 0).content for h in store.search("Felix")] == ["Felix"]
        assert "Rex" not in export_markdown(store, conv.id)
        assert {p.name for p in store.attachment_paths()} == {"a1-notes.txt", "a2-chart.png"}

        again = store.choose_branch(back.id, 2)
        assert _contents(store, conv.id) == ["Hi", "Hello!", "A name for a dog?", "Rex"]
        # The files of the branch set aside are still referred to: never deleted as unused.
        assert {p.name for p in store.attachment_paths()} == {"a1-notes.txt", "a2-chart.png"}
        assert store.message(again.id).branch == 2


def test_branches_inside_a_branch_and_answer_versions_come_back_whole(tmp_path: Path) -> None:
    with HistoryStore.in_dir(tmp_path) as store:
        conv = store.create_conversation()
        first = store.add_message(conv.id, "user", "Q1")
        answer = store.add_message(conv.id, "assistant", "A1", meta={"model": "m"})
        store.update_message(answer.id, thinking="thought")
        store.keep_version(answer.id)
        store.truncate_from(answer.id, keep_versions=True)
        regenerated = store.add_message(conv.id, "assistant", "A1 again", meta={"model": "m"})
        store.keep_version(regenerated.id)
        second = store.add_message(conv.id, "user", "Q2")
        store.add_message(conv.id, "assistant", "A2")
        inner = store.branch_from(second.id, "Q2 edited")  # a branch inside branch 1 of Q1
        store.add_message(conv.id, "assistant", "A2 edited")

        outer = store.branch_from(first.id, "Q1 edited")
        assert _contents(store, conv.id) == ["Q1 edited"]
        assert store.messages(conv.id)[0].branches == 2
        restored = store.choose_branch(outer.id, 1)
        shown = store.messages(conv.id)
        assert [m.content for m in shown] == ["Q1", "A1 again", "Q2 edited", "A2 edited"]
        assert (shown[1].version, shown[1].versions, shown[1].thinking) == (2, 2, "")
        assert [v.content for v in store.answer_versions(conv.id, shown[1].seq)] == ["A1", "A1 again"]
        assert (shown[2].branch, shown[2].branches) == (inner.branch, 2)
        store.choose_branch(shown[2].id, 1)
        assert _contents(store, conv.id) == ["Q1", "A1 again", "Q2", "A2"]
        assert restored.content == "Q1"


def test_choosing_a_branch_that_is_not_there_says_so(tmp_path: Path) -> None:
    with HistoryStore.in_dir(tmp_path) as store:
        conv = store.create_conversation()
        question = store.add_message(conv.id, "user", "Q")
        answer = store.add_message(conv.id, "assistant", "A")
        with pytest.raises(HistoryError):
            store.choose_branch(question.id, 2)
        with pytest.raises(HistoryError):
            store.branch_from(answer.id, "not a question")
        edited = store.branch_from(question.id, "Q'")
        assert store.choose_branch(edited.id, 2).id == edited.id  # the one shown: nothing moves


def test_regenerating_after_a_later_edit_drops_the_branches_it_cuts(tmp_path: Path) -> None:
    with HistoryStore.in_dir(tmp_path) as store:
        conv = store.create_conversation()
        store.add_message(conv.id, "user", "Q1")
        answer = store.add_message(conv.id, "assistant", "A1")
        later = store.add_message(conv.id, "user", "Q2")
        store.branch_from(later.id, "Q2'")
        store.truncate_from(answer.id, keep_versions=True)
        again = store.add_message(conv.id, "assistant", "A1'")
        nxt = store.add_message(conv.id, "user", "Q3")
        assert (store.message(nxt.id).branches, store.message(again.id).branches) == (0, 0)


def test_a_format_4_file_opens_as_format_5_with_every_message(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copyfile(FORMAT_4_FILE, path)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 4
        before = conn.execute(
            "SELECT id, seq, role, content, status, thinking FROM messages ORDER BY id"
        ).fetchall()
        files_before = conn.execute("SELECT message_id, name FROM attachments ORDER BY id").fetchall()
    with HistoryStore(path) as store:
        assert SCHEMA_VERSION == 5
        chats = {c.title: c for c in store.list_conversations()}
        assert set(chats) == {"Summarise the notes and describe the picture.", "Second chat"}
        first = store.messages(chats["Summarise the notes and describe the picture."].id)
        assert [m.content for m in first][2:] == ["Which is oldest?", "Santiago."]
        assert first[3].status == MessageStatus.STOPPED
        assert [a.name for a in first[0].attachments] == ["notes.txt", "chart.png"]
        assert (first[1].version, first[1].versions) == (2, 2)
        assert all(m.branches == 0 for m in first)
        assert chats["Second chat"].pinned
        assert [store.message(h.message_id or 0).content for h in store.search("cathedrals")] == [
            first[1].content
        ]
        # and it takes branches now
        edited = store.branch_from(first[0].id, "Only the notes, please.")
        assert (edited.branch, edited.branches) == (2, 2)
        assert store.choose_branch(edited.id, 1).attachments == first[0].attachments
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 5
        after = conn.execute(
            "SELECT id, seq, role, content, status, thinking FROM messages ORDER BY id"
        ).fetchall()
        # Branch 1 went aside and came back (new ids): the same rows, seq for seq.
        assert sorted(r[1:] for r in after) == sorted(r[1:] for r in before)
        assert len(conn.execute("SELECT * FROM attachments").fetchall()) == len(files_before)


def test_a_reader_of_a_format_4_file_it_cannot_migrate_still_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    shutil.copyfile(FORMAT_4_FILE, path)
    with HistoryStore(path, read_only=True) as store:
        messages = store.messages(1)
        assert len(messages) == 4 and messages[0].branches == 0


def test_export_shows_the_chosen_branch_and_says_which(tmp_path: Path) -> None:
    with HistoryStore.in_dir(tmp_path) as store:
        conv = store.create_conversation()
        question = store.add_message(conv.id, "user", "Q")
        store.add_message(conv.id, "assistant", "A")
        edited = store.branch_from(question.id, "Q edited")
        store.add_message(conv.id, "assistant", "A edited")
        exported = export_json(store, conv.id)["messages"]
        assert [m["content"] for m in exported] == ["Q edited", "A edited"]
        assert (exported[0]["branch"], exported[0]["branches"]) == (2, 2)
        assert "_(branch 2 of 2" in export_markdown(store, conv.id)
        store.choose_branch(edited.id, 1)
        assert [m["content"] for m in export_json(store, conv.id)["messages"]] == ["Q", "A"]
