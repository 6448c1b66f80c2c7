"""History on a disk that is full or read-only: typed, plain errors, nothing moved aside, no traceback."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import cli
from tests.support.smalldisk import SmallDisk, small_disk
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_db import HistoryError
from trayai.core.chat.history_records import MessageStatus
from trayai.core.paths import AppPaths


@pytest.fixture
def disk(paths: AppPaths) -> Iterator[SmallDisk]:
    with small_disk(paths.data_dir) as mounted:
        yield mounted


def seed(data_dir: Path) -> int:
    with HistoryStore.in_dir(data_dir) as history:
        conv = history.create_conversation()
        history.add_message(conv.id, "user", "How do I sort a dict by value?")
        history.add_message(conv.id, "assistant", "Use sorted() with a key.")
        return conv.id


def test_a_full_disk_is_a_plain_storage_error_and_the_write_lands_after(disk: SmallDisk) -> None:
    with HistoryStore.in_dir(disk.path) as history:
        conv = history.create_conversation()
        answer = history.add_message(conv.id, "assistant", "", status=MessageStatus.STREAMING)
        disk.fill()
        with pytest.raises(HistoryError) as caught:
            history.update_message(answer.id, content="x" * 300_000)
        assert caught.value.storage
        assert caught.value.message == f"The disk holding the chat history ({disk.path}) is full."
        with pytest.raises(HistoryError, match="is full"):  # a transaction (BEGIN … COMMIT) too
            history.add_message(conv.id, "user", "y" * 300_000)
        disk.free()
        history.update_message(answer.id, content="x" * 300_000)
        assert len(history.message(answer.id).content) == 300_000
        assert history.message_count(conv.id) == 1  # the refused insert left nothing half-done


def test_a_read_only_disk_is_not_mistaken_for_a_damaged_file(disk: SmallDisk) -> None:
    seed(disk.path)
    disk.read_only()
    with pytest.raises(HistoryError) as caught:
        HistoryStore.in_dir(disk.path)
    assert caught.value.storage
    assert caught.value.message == f"The chat history folder {disk.path} is read-only."
    assert sorted(p.name for p in disk.path.iterdir()) == ["history.sqlite3"]  # nothing moved aside
    with HistoryStore.in_dir(disk.path, read_only=True) as history:
        assert [c.message_count for c in history.list_conversations()] == [2]


def test_cli_history_reads_a_read_only_data_dir(disk: SmallDisk) -> None:
    conv = seed(disk.path)
    disk.read_only()
    code, out, err = cli("history", "list")
    assert code == 0, err
    assert "How do I sort a dict by value?" in out
    assert f"note: The chat history folder {disk.path} is read-only." in err
    code, out, err = cli("history", "search", "sorted")
    assert code == 0 and "sorted" in out, err
    code, out, err = cli("history", "export", str(conv))
    assert code == 0 and "Use sorted() with a key." in out, err
    assert "Traceback" not in err


def test_cli_history_on_a_read_only_dir_without_history_says_why(disk: SmallDisk) -> None:
    disk.read_only()
    code, out, err = cli("history", "list")
    assert code == 1 and out == ""
    assert err == (
        f"error: The chat history folder {disk.path} is read-only.\n"
        "  → Make it writable (permissions, or remount the disk read-write).\n"
    )


def test_cli_history_on_a_full_disk_still_lists(disk: SmallDisk) -> None:
    seed(disk.path)
    disk.fill()
    code, out, err = cli("history", "list")
    assert code == 0, err
    assert "How do I sort a dict by value?" in out
