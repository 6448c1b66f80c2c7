"""A real small tmpfs for storage-fault tests: filled to make it full, remounted read-only.

Mounting needs root (CI runs as root in its container); elsewhere the tests are skipped, saying why.
"""

from __future__ import annotations

import contextlib
import errno
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


class SmallDisk:
    """A mounted tmpfs at ``path``; ``fill()``/``free()`` and ``read_only()``/``read_write()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._filler = path / ".filler"

    def fill(self) -> None:
        """Write a file until the disk refuses: every later allocation fails with ENOSPC."""
        fd = os.open(self._filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            size = 1 << 20
            while size:  # big blocks, then smaller ones down to the last byte
                try:
                    os.write(fd, b"\0" * size)
                except OSError as exc:
                    assert exc.errno == errno.ENOSPC, exc
                    size //= 2
        finally:
            os.close(fd)

    def free(self) -> None:
        self._filler.unlink()

    def read_only(self) -> None:
        _mount("-o", "remount,ro", str(self.path))

    def read_write(self) -> None:
        _mount("-o", "remount,rw", str(self.path))


def _mount(*args: str) -> None:
    subprocess.run(["mount", *args], check=True, capture_output=True, text=True)


@contextlib.contextmanager
def small_disk(path: Path, size: str = "4m") -> Iterator[SmallDisk]:
    """Mount a ``size`` tmpfs at ``path`` (created), user-only, and unmount it afterwards."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("a real full/read-only disk needs root to mount a tmpfs")
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield SmallDisk(path)
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)
