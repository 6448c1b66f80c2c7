"""An exclusive, advisory file lock: ``trayai batch`` holds it on its output (failing at once when taken),
every settings writer on the settings' lock file (waiting a moment for the holder).

flock on POSIX, a byte lock past any real data on Windows; the kernel drops it when the process dies.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from trayai.core.errors import AppError

# Windows byte locks are mandatory, so lock a byte no batch output will ever reach.
_WINDOWS_LOCK_OFFSET = 0x7FFFFFF0
_HELD = {errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK}


class FileLockedError(AppError):
    """Another process holds the lock; ``message`` and ``hint`` are what to show."""

    def __str__(self) -> str:
        return f"{self.message}\n{self.hint}" if self.hint else self.message


@contextlib.contextmanager
def exclusive_lock(
    path: Path, *, what: str = "another process", wait: float = 0.0, poll: float = 0.01
) -> Iterator[int]:
    """Create ``path`` if needed (never truncating it), lock it, yield the descriptor, unlock.

    Raises :class:`FileLockedError` when the lock is held elsewhere for longer than ``wait`` seconds
    (at once by default; the settings' writers wait a little, trying every ``poll`` s on the same open
    file); a filesystem that cannot lock at all (some network mounts) is not an error: the run goes
    on unlocked.
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    locked = False
    deadline = time.monotonic() + wait
    try:
        while True:
            try:
                _lock(fd)
                locked = True
                break
            except OSError as exc:
                if exc.errno not in _HELD:
                    break  # no locking on this filesystem (some network mounts): go on as before
                if time.monotonic() >= deadline:
                    raise FileLockedError(
                        f"{path} is being written by {what}",
                        hint="Wait for it to finish (or stop it), or choose another output file.",
                    ) from None
                time.sleep(poll)
        yield fd
    finally:
        if locked:
            _unlock(fd)
        os.close(fd)


def _lock(fd: int) -> None:
    if sys.platform == "win32":
        # lazy: platform-specific: only this OS has it
        import msvcrt

        os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        # lazy: platform-specific: only this OS has it
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _unlock(fd: int) -> None:
    with contextlib.suppress(OSError):  # closing the descriptor releases it anyway on POSIX
        if sys.platform == "win32":
            # lazy: platform-specific: only this OS has it
            import msvcrt

            os.lseek(fd, _WINDOWS_LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        else:
            # lazy: platform-specific: only this OS has it
            import fcntl

            fcntl.flock(fd, fcntl.LOCK_UN)
