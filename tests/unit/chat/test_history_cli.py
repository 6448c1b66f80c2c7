"""`trayai history list|search|export`: the chat history from the shell, over the same store."""

from __future__ import annotations

import json
from pathlib import Path

from tests.support.cli import cli
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import MessageStatus
from trayai.core.paths import AppPaths


def seed(paths: AppPaths) -> tuple[int, int]:
    paths.ensure()
    with HistoryStore.in_dir(paths.data_dir) as history:
        a = history.create_conversation(model="ai/smollm2")
        history.add_message(a.id, "user", "How do I sort a dict by value?")
        history.add_message(
            a.id, "assistant", "Use `sorted(d.items(), key=lambda kv: kv[1])`.", meta={"model": "ai/smollm2"}
        )
        b = history.create_conversation()
        history.add_message(b.id, "user", "Best café near the station?")
        return a.id, b.id


def test_list_newest_first_and_json(paths: AppPaths) -> None:
    a, b = seed(paths)
    code, out, _ = cli("history", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split()[0] == str(b) and "Best café" in lines[0]
    assert "How do I sort a dict by value?" in lines[1] and "2 msgs" in lines[1]
    rows = json.loads(cli("history", "list", "--json")[1])
    assert [r["id"] for r in rows] == [b, a] and rows[1]["model"] == "ai/smollm2"


def test_empty_history_says_how_to_start(paths: AppPaths) -> None:
    code, out, err = cli("history", "list")
    assert code == 0 and out == "" and "trayai chat" in err


def test_search_marks_matches_and_accepts_any_text(paths: AppPaths) -> None:
    a, _ = seed(paths)
    code, out, _ = cli("history", "search", "sort", "dic")
    assert code == 0 and f"{a}  How do I sort" in out and "[sort]" in out and "[dict]" in out
    assert cli("history", "search", "cafe")[0] == 0  # accents folded
    code, _, err = cli("history", "search", '"; DROP TABLE messages; --')
    assert code == 1 and "no matches" in err
    hits = json.loads(cli("history", "search", "sorted", "--json")[1])
    assert (
        hits[0]["conversation"] == a and hits[0]["role"] == "assistant" and "\x02" not in hits[0]["snippet"]
    )


def test_export_markdown_json_and_file(paths: AppPaths, tmp_path: Path) -> None:
    a, _ = seed(paths)
    code, out, _ = cli("history", "export", str(a))
    assert code == 0 and out.startswith("# How do I sort a dict by value?")
    assert "## Assistant (ai/smollm2)" in out
    data = json.loads(cli("history", "export", str(a), "--format", "json")[1])
    assert data["format"] == "trayai-conversation" and len(data["messages"]) == 2
    target = tmp_path / "out.md"
    assert cli("history", "export", str(a), "-o", str(target))[0] == 0
    assert target.read_text().startswith("# How do I")
    code, _, err = cli("history", "export", str(a), "-o", str(target))
    assert code == 2 and "--force" in err  # never overwritten silently
    assert cli("history", "export", str(a), "-o", str(target), "--force")[0] == 0
    code, _, err = cli("history", "export", "999")
    assert code == 1 and "trayai history list" in err


def test_damaged_database_is_moved_aside_and_reported(paths: AppPaths) -> None:
    paths.ensure()
    (paths.data_dir / "history.sqlite3").write_bytes(b"this is not sqlite" * 100)
    code, _, err = cli("history", "list")
    assert code == 0 and "damaged" in err and "history.sqlite3.corrupt-" in err
    assert list(paths.data_dir.glob("history.sqlite3.corrupt-*"))


def test_reading_while_the_app_streams_does_not_mark_the_answer_interrupted(paths: AppPaths) -> None:
    paths.ensure()
    with HistoryStore.in_dir(paths.data_dir) as app_side:
        conv = app_side.create_conversation()
        app_side.add_message(conv.id, "user", "q")
        live = app_side.add_message(conv.id, "assistant", "partial", status=MessageStatus.STREAMING)
        assert cli("history", "list")[0] == 0
        assert app_side.message(live.id).status == "streaming"
