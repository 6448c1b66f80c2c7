"""trayai's own files written one way: atomic and user-only, links followed, damaged files set aside
under names that never overwrite an earlier one (the settings store and the history share these)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from trayai.core import files
from trayai.core.files import aside_name, atomic_write_bytes, atomic_write_text, copy_aside, move_aside


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_atomic_write_text_creates_the_directory(tmp_path: Path) -> None:
    target = tmp_path / "new" / "file.json"
    atomic_write_text(target, "héllo\n")
    assert target.read_text(encoding="utf-8") == "héllo\n"
    assert mode(target) == 0o600
    assert mode(target.parent) == 0o700


def test_atomic_write_bytes_gives_the_mode_asked_and_leaves_no_temp(tmp_path: Path) -> None:
    folder = tmp_path / "applications"
    folder.mkdir()
    target = folder / "entry.desktop"
    target.write_bytes(b"old")
    atomic_write_bytes(target, b"new", mode=0o644)
    assert target.read_bytes() == b"new"
    assert mode(target) == 0o644
    assert [p.name for p in folder.iterdir()] == ["entry.desktop"]


def test_aside_names_never_repeat_within_a_second(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(files, "_stamp", lambda: "20250101-000000")
    path = tmp_path / "config.json"
    first = aside_name(path, "corrupt")
    assert first.name == "config.json.corrupt-20250101-000000"
    first.write_text("taken", encoding="utf-8")
    assert aside_name(path, "corrupt").name == "config.json.corrupt-20250101-000000-2"


def test_move_aside_takes_the_companions_along(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    path.write_text("db", encoding="utf-8")
    Path(f"{path}-wal").write_text("wal", encoding="utf-8")
    moved = move_aside(path, "corrupt", companions=("-wal", "-shm"))
    assert not path.exists()
    assert not Path(f"{path}-wal").exists()
    assert moved.read_text(encoding="utf-8") == "db"
    assert Path(f"{moved}-wal").read_text(encoding="utf-8") == "wal"
    assert not Path(f"{moved}-shm").exists()


def test_copy_aside_keeps_the_file_and_makes_a_user_only_copy(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text("{}", encoding="utf-8")
    path.chmod(0o644)
    copy = copy_aside(path, "invalid")
    assert path.read_text(encoding="utf-8") == copy.read_text(encoding="utf-8") == "{}"
    assert mode(copy) == 0o600


def test_setting_aside_a_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        move_aside(tmp_path / "gone", "corrupt")
    with pytest.raises(OSError):
        copy_aside(tmp_path / "gone", "invalid")
