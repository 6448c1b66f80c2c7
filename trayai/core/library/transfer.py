"""One file's bytes on their way to disk: read into a few reused buffers, each written by one thread and
hashed by another (both release the GIL) while the connection's thread fills the next; the progress.

Why a pool of buffers rather than a new one per read: a fresh 4 MiB buffer is ~1,000 page faults, ~7 %
of a loopback download's CPU; and the pool is the back-pressure — the network never runs more than
:data:`BUFFERS` buffers ahead of the disk and the hash (tests/perf/bench_library.py).
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error

BUFFER = 4 << 20  # bytes one read fills at most
BUFFERS = 6  # buffers handed on and not yet written and hashed, at most (24 MiB)
SYNC_EVERY = 32 << 20  # bytes written between two data syncs: the disk keeps up as the bytes arrive
_HASH_READ = 4 << 20
_PROGRESS_EVERY = 0.1  # seconds between progress calls (and always at the end)
_RATE_WINDOW = 3.0  # seconds of samples the rate is measured over


@dataclass(frozen=True)
class Progress:
    """Where a download is: bytes on disk of ``total``, the recent rate (bytes/s) and the time left."""

    done: int
    total: int
    rate: float
    eta: float | None
    resumed_from: int = 0

    @property
    def fraction(self) -> float:
        return self.done / self.total if self.total else 1.0


ProgressCallback = Callable[[Progress], None]


@dataclass
class _InFlight:
    """A buffer handed to the writer and the hasher: free again when both are done with it."""

    buffer: memoryview
    written: Future[None]
    hashed: Future[None]

    def settled(self) -> bool:
        return self.written.done() and self.hashed.done()


class Transfer:
    """The bytes of one ``size``-byte file into the open part ``fd`` (``on_disk`` of them there already).

    The final fsync is asked for as soon as the last byte is handed on, so the disk flushes while the
    hash catches up; every :data:`SYNC_EVERY` bytes a data sync keeps the tail small.
    """

    def __init__(
        self,
        part: Path,
        fd: int,
        size: int,
        on_disk: int,
        on_progress: ProgressCallback | None,
        *,
        first_write: Callable[[], None] | None = None,
    ) -> None:
        self.part = part
        self.fd = fd
        self.size = size
        self.done = on_disk  # bytes handed to the writer
        self.resumed_from = on_disk
        self.fetched = 0
        self.retries = 0
        self.hasher = hashlib.sha256()
        self._in_flight: deque[_InFlight] = deque()
        self._spare: list[memoryview] = []
        self._synced: Future[None] | None = None  # the fsync once the whole file is handed on
        self._unsynced = 0  # bytes written since the last sync (the writer thread's own)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="trayai-download-write")
        self._hashing = ThreadPoolExecutor(1, thread_name_prefix="trayai-download-hash")
        # the writer's last job: every write waits for the one before (``first_write`` included)
        self._last_write = self._writer.submit(first_write) if first_write is not None else None
        self._on_progress = on_progress
        self._samples: list[tuple[float, int]] = [(time.monotonic(), on_disk)]
        self._reported = 0.0

    async def hash_existing(self) -> None:
        """The part's bytes go into the hash first: the whole file is verified, not only this run's."""
        if self.done:
            await self._settle(self._hashing.submit(self._hash_part, self.done))
        self.report(force=True)

    def _hash_part(self, length: int) -> None:
        offset = 0
        while offset < length:
            data = os.pread(self.fd, min(_HASH_READ, length - offset), offset)
            if not data:
                raise OSError(f"{self.part} is shorter than it was a moment ago")
            self.hasher.update(data)
            offset += len(data)

    async def buffer(self) -> memoryview:
        """A buffer for the next read: a spare one, the oldest once written and hashed, a new one while
        fewer than :data:`BUFFERS` are out — else wait for the oldest (the disk or the hash is slower
        than the network)."""
        if self._spare:
            return self._spare.pop()
        if self._in_flight and (self._in_flight[0].settled() or len(self._in_flight) >= BUFFERS):
            oldest = self._in_flight[0]
            await self._settle(oldest.written)
            await self._settle(oldest.hashed)
            self._in_flight.popleft()
            return oldest.buffer
        return memoryview(bytearray(BUFFER))

    def spare(self, buffer: memoryview) -> None:
        """A buffer that was not filled, for the next read."""
        self._spare.append(buffer)

    def take(self, buffer: memoryview, size: int) -> None:
        """The first ``size`` bytes of ``buffer`` go to the writer and the hasher; ``buffer`` is theirs
        until :meth:`buffer` hands it out again."""
        data = buffer[:size]
        written = self._writer.submit(self._write, data, self.done, self._last_write)
        self._last_write = written
        hashed = self._hashing.submit(self.hasher.update, data)  # in order: one thread
        self._in_flight.append(_InFlight(buffer, written, hashed))
        self.done += size  # counted when handed on: the writer cannot lose it short of a crash
        self.fetched += size
        self.report()

    def _write(self, data: memoryview, offset: int, previous: Future[None] | None) -> None:
        if previous is not None:
            previous.result()  # a failed write fails every later one: never a hole in the part
        view = data
        while view:
            written = os.pwrite(self.fd, view, offset)
            view = view[written:]
            offset += written
        self._unsynced += len(data)
        if self._unsynced >= SYNC_EVERY:
            self._unsynced = 0
            _datasync(self.fd)

    async def flush(self) -> None:
        """Everything received is on disk (and hashed) when this returns — also after a broken connection
        or a cancellation (then synchronously: a cancelled run must still leave a consistent part)."""
        if self.done == self.size and self._synced is None:
            self._synced = self._writer.submit(os.fsync, self.fd)  # while the hash catches up
        if self._last_write is not None:
            await self._settle(self._last_write)  # writes end in order: all of them
        if self._in_flight:
            await self._settle(self._in_flight[-1].hashed)

    async def sync(self) -> None:
        """Everything written is on the disk (fsync, on the writer thread: the loop may be the UI's)."""
        if self._synced is None:
            self._synced = self._writer.submit(os.fsync, self.fd)
        await self._settle(self._synced)

    async def _settle(self, pending: Future[None]) -> None:
        """Wait for a write (and those before it), the hash or a sync; a disk error in words."""
        try:
            await asyncio.shield(asyncio.wrap_future(pending))
        except asyncio.CancelledError:
            pending.result()
            raise
        except OSError as exc:  # the disk, not the network: retrying cannot help
            code = ErrorCode.DISK_FULL if exc.errno == errno.ENOSPC else ErrorCode.DOWNLOAD_INTERRUPTED
            raise make_error(code, f"Writing {self.part} failed: {exc.strerror or exc}") from exc

    def restart(self) -> None:
        """The server would not resume: drop the part and its hash, start from byte 0 (after a flush)."""
        os.ftruncate(self.fd, 0)
        self._synced = None
        self.hasher = hashlib.sha256()
        self.done = 0
        self.resumed_from = 0

    def report(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if self._on_progress is None or (not force and now - self._reported < _PROGRESS_EVERY):
            return
        self._reported = now
        self._samples.append((now, self.done))
        while len(self._samples) > 2 and now - self._samples[1][0] > _RATE_WINDOW:
            self._samples.pop(0)
        (t0, d0), (t1, d1) = self._samples[0], self._samples[-1]
        rate = (d1 - d0) / (t1 - t0) if t1 > t0 else 0.0
        left = self.size - self.done
        eta = left / rate if rate > 0 else (0.0 if left == 0 else None)
        self._on_progress(Progress(self.done, self.size, rate, eta, self.resumed_from))

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        self._hashing.shutdown(wait=True)


def _datasync(fd: int) -> None:
    """The file's data on the disk (``fdatasync`` where the system has it, else ``fsync``)."""
    sync = getattr(os, "fdatasync", os.fsync)
    sync(fd)
