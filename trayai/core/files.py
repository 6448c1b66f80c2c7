"""Writing and setting aside trayai's own files, one way for every writer in core: an atomic replace
(a crash leaves the old file or the new one, never half of each), user-only by default, through a
symlink to its target; a damaged file moved (or copied) aside under a name that never overwrites one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from trayai.core.paths import ensure_private_dir

USER_ONLY = 0o600


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically, mode 0600, in a user-only folder made if missing.

    A symlinked ``path`` (dotfiles repos) stays a link: its target is what gets replaced.
    """
    ensure_private_dir(path.parent)
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = USER_ONLY) -> None:
    """Replace ``path`` (its target, when it is a link) with ``data`` through a synced temporary
    file beside it, renamed over it; the file gets ``mode``. The folder must exist."""
    target = _link_target(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        os.fchmod(fd, mode) if hasattr(os, "fchmod") else None
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        Path(tmp).replace(target)
        target.chmod(mode)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(tmp).unlink()
        raise


def _link_target(path: Path) -> Path:
    """The file a (chain of) symlink(s) points at; ``path`` itself when it is not a link."""
    if not path.is_symlink():
        return path
    target = Path(os.path.realpath(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def _stamp() -> str:
    return time.strftime("%Y%m%d-%H%M%S")


def aside_name(path: Path, reason: str) -> Path:
    """A free ``<name>.<reason>-<timestamp>[-n]`` beside ``path``: an earlier copy is never overwritten."""
    stem = f"{path.name}.{reason}-{_stamp()}"
    target, number = path.with_name(stem), 1
    while target.exists():
        number += 1
        target = path.with_name(f"{stem}-{number}")
    return target


def move_aside(path: Path, reason: str, *, companions: Sequence[str] = ()) -> Path:
    """Rename ``path`` to :func:`aside_name` (and each existing ``path + suffix`` in ``companions``,
    e.g. SQLite's ``-wal``, beside it); returns the new name, raises OSError when it cannot."""
    target = aside_name(path, reason)
    path.replace(target)
    for suffix in companions:
        side = Path(f"{path}{suffix}")
        if side.exists():
            side.replace(Path(f"{target}{suffix}"))
    return target


def copy_aside(path: Path, reason: str) -> Path:
    """Copy ``path`` to :func:`aside_name`, user-only; returns the copy, raises OSError when it cannot."""
    target = aside_name(path, reason)
    shutil.copy2(path, target)
    target.chmod(USER_ONLY)
    return target


__all__ = ["USER_ONLY", "aside_name", "atomic_write_bytes", "atomic_write_text", "copy_aside", "move_aside"]
