"""Downloads people trust: bytes into a stable ``<file>.part`` beside a JSON sidecar, resumed by a later
process with a Range request, retried with back-off within a run, sha256-checked before the file takes its
name. huggingface_hub resumes only inside one process and never checks sha256 (issue 26), so this is ours.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import AppError, TrayaiError, make_error
from trayai.core.filelock import exclusive_lock
from trayai.core.library.rawget import BrokenTransfer, Timeouts, stream_get
from trayai.core.library.transfer import Progress, ProgressCallback, Transfer
from trayai.core.paths import ensure_private_dir
from trayai.core.strenum import StrEnum

__all__ = [  # Progress and ProgressCallback are transfer.py's, offered here with the rest
    "DISK_MARGIN",
    "Backoff",
    "DownloadJob",
    "DownloadQueue",
    "DownloadRequest",
    "DownloadResult",
    "Downloader",
    "FreeSpace",
    "JobState",
    "Progress",
    "ProgressCallback",
    "Sidecar",
    "describe_size",
    "disk_free",
    "model_files",
    "part_path",
    "quarantine_path",
    "sidecar_path",
]

PART_SUFFIX = ".part"
SIDECAR_SUFFIX = ".part.json"
QUARANTINE_SUFFIX = ".quarantined"
DISK_MARGIN = 256 * 1024 * 1024  # left free beyond the file: the system, logs and history need room too
SIDECAR_VERSION = 1

FreeSpace = Callable[[Path], int]


def disk_free(folder: Path) -> int:
    """Free bytes on the disk holding ``folder`` (the default :data:`FreeSpace`; tests inject their own)."""
    return shutil.disk_usage(folder).free


def part_path(dest: Path) -> Path:
    return dest.with_name(dest.name + PART_SUFFIX)


def sidecar_path(dest: Path) -> Path:
    return dest.with_name(dest.name + SIDECAR_SUFFIX)


def quarantine_path(dest: Path) -> Path:
    return dest.with_name(dest.name + QUARANTINE_SUFFIX)


@dataclass(frozen=True)
class DownloadRequest:
    """One file to fetch: where from (``url`` + ``headers``; the token stays out of ``repr``), where to,
    and what it must be (``size``, ``sha256``; ``etag`` names this version of it for resuming)."""

    url: str
    dest: Path
    size: int
    sha256: str | None
    etag: str | None
    identity: str  # what the bytes are, independent of signed URLs: e.g. "hf:REPO/PATH"
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Sidecar:
    """What a ``.part`` holds, written beside it: a later run resumes only when all of it still matches."""

    identity: str
    etag: str | None
    size: int
    sha256: str | None
    version: int = SIDECAR_VERSION

    @classmethod
    def of(cls, request: DownloadRequest) -> Sidecar:
        return cls(request.identity, request.etag, request.size, request.sha256)

    @classmethod
    def read(cls, path: Path) -> Sidecar | None:
        """The sidecar on disk, or None when missing or unreadable (then the part starts over)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            sidecar = cls(str(data["identity"]), data.get("etag"), int(data["size"]), data.get("sha256"))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return sidecar if data.get("version") == SIDECAR_VERSION else None

    def write(self, path: Path) -> None:
        """Atomically and user-only: a half-written sidecar must never pass for a whole one."""
        temp = path.with_name(path.name + ".tmp")
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle)
            handle.flush()
            os.fsync(handle.fileno())
        temp.replace(path)


@dataclass(frozen=True)
class DownloadResult:
    path: Path
    size: int
    verified: bool  # the repository gave a sha256 and the file matched it
    resumed_from: int  # bytes that were already on disk when this run began
    fetched: int  # bytes received over the network in this run
    retries: int  # connections that broke (or were refused) and were retried


@dataclass(frozen=True)
class Backoff:
    """Waits between retries: ``first``·``factor``ⁿ up to ``cap``; ``attempts`` failures in a row without a
    byte of progress give up (a link that keeps moving is retried for as long as it moves)."""

    first: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    attempts: int = 8

    def delay(self, failures: int) -> float:
        return min(self.cap, self.first * self.factor ** max(0, failures - 1))


class _RetryableStatus(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"HTTP {status}")
        self.status = status


class _RangeIgnored(Exception):
    """The server answered a resume with the whole file (200) or another range: start over."""


class Downloader:
    """Fetches one :class:`DownloadRequest` at a time per call to :meth:`fetch` (see :class:`DownloadQueue`).

    Cancelling the task that runs :meth:`fetch` leaves the ``.part`` and its sidecar: the next run resumes.
    """

    def __init__(
        self,
        *,
        free_space: FreeSpace = disk_free,
        backoff: Backoff | None = None,
        timeouts: Timeouts | None = None,
    ) -> None:
        self.free_space = free_space
        self.backoff = backoff or Backoff()
        self.timeouts = timeouts or Timeouts()

    async def fetch(
        self, request: DownloadRequest, on_progress: ProgressCallback | None = None
    ) -> DownloadResult:
        dest = request.dest
        ensure_private_dir(dest.parent)
        part = part_path(dest)
        with exclusive_lock(part, what="another trayai download of the same file") as fd:
            os.fchmod(fd, 0o600)
            resumed_from = self._prepare(request, fd)
            self._check_space(request, resumed_from)
            # a new part's sidecar is written (and synced) by the writer thread before any byte of it
            sidecar = Sidecar.of(request)
            first = None if resumed_from else functools.partial(sidecar.write, sidecar_path(dest))
            transfer = Transfer(part, fd, request.size, resumed_from, on_progress, first_write=first)
            try:
                await transfer.hash_existing()
                await self._transfer(request, transfer)
                await transfer.sync()  # on the disk before it takes its name: a verified file stays whole
            finally:
                transfer.close()
            return self._finish(request, transfer)

    # ------------------------------------------------------------------ steps

    def _prepare(self, request: DownloadRequest, fd: int) -> int:
        """The bytes already on disk that may be kept: all of them when the sidecar matches, else none
        (the part emptied; its new sidecar is the transfer's first write)."""
        on_disk = os.fstat(fd).st_size
        if Sidecar.read(sidecar_path(request.dest)) != Sidecar.of(request) or on_disk > request.size:
            os.ftruncate(fd, 0)
            on_disk = 0
        return on_disk

    def _check_space(self, request: DownloadRequest, on_disk: int) -> None:
        needed = request.size - on_disk + DISK_MARGIN
        free = self.free_space(request.dest.parent)
        if free < needed:
            raise make_error(
                ErrorCode.DISK_FULL,
                f"{request.dest.name} needs {describe_size(needed)} free (the rest of the file and a "
                f"margin of {describe_size(DISK_MARGIN)}); {request.dest.parent} has {describe_size(free)}",
            )

    async def _transfer(self, request: DownloadRequest, transfer: Transfer) -> None:
        failures = 0
        while transfer.done < request.size:
            before = transfer.done
            try:
                await self._attempt(request, transfer)
            except (BrokenTransfer, OSError, TimeoutError, _RetryableStatus) as exc:
                transfer.retries += 1
                failures = 1 if transfer.done > before else failures + 1
                if failures > self.backoff.attempts:
                    raise _interrupted(request, transfer, exc) from exc
                await asyncio.sleep(self.backoff.delay(failures))
            except _RangeIgnored:
                transfer.restart()
        transfer.report(force=True)

    async def _attempt(self, request: DownloadRequest, transfer: Transfer) -> None:
        headers = {**request.headers, "Accept-Encoding": "identity"}
        if transfer.done:
            headers["Range"] = f"bytes={transfer.done}-"
        try:
            async with stream_get(request.url, headers, self.timeouts) as response:
                _check_status(request, response.status, transfer.done, response.headers)
                while True:
                    buffer = await transfer.buffer()
                    got = await response.readinto(buffer[: request.size - transfer.done + 1])
                    if not got:
                        transfer.spare(buffer)
                        break
                    if transfer.done + got > request.size:
                        raise _RangeIgnored  # more than the file: not the file we know
                    transfer.take(buffer, got)
        finally:
            await transfer.flush()

    def _finish(self, request: DownloadRequest, transfer: Transfer) -> DownloadResult:
        dest = request.dest
        digest = transfer.hasher.hexdigest()
        if request.sha256 is not None and digest != request.sha256.lower():
            quarantined = quarantine_path(dest)
            part_path(dest).replace(quarantined)
            sidecar_path(dest).unlink(missing_ok=True)
            raise make_error(
                ErrorCode.CHECKSUM_MISMATCH,
                f"{dest.name} does not match the repository's sha256 (expected {request.sha256[:12]}…, "
                f"got {digest[:12]}…); moved aside to {quarantined.name}",
            )
        part_path(dest).replace(dest)
        sidecar_path(dest).unlink(missing_ok=True)
        _fsync_dir(dest.parent)
        return DownloadResult(
            dest,
            request.size,
            request.sha256 is not None,
            transfer.resumed_from,
            transfer.fetched,
            transfer.retries,
        )


def _check_status(request: DownloadRequest, status: int, offset: int, headers: Mapping[str, str]) -> None:
    if status == 206:
        start = _content_range_start(headers.get("content-range", ""))
        if start != offset:
            raise _RangeIgnored
        return
    if status == 200:
        if offset:
            raise _RangeIgnored
        return
    if status in (408, 429) or status >= 500:
        raise _RetryableStatus(status)
    if status == 416 and offset == request.size:
        return
    if status in (401, 403):
        raise make_error(
            ErrorCode.HUB_GATED,
            f"{request.identity} needs a Hugging Face token with access: the download was refused ({status})",
            status=status,
        )
    if status == 404:
        raise make_error(
            ErrorCode.HUB_NOT_FOUND, f"{request.identity} is no longer there (404)", status=status
        )
    raise make_error(
        ErrorCode.DOWNLOAD_INTERRUPTED,
        f"The server refused the download of {request.dest.name} ({status})",
        status=status,
    )


def _content_range_start(value: str) -> int | None:
    """``bytes START-END/TOTAL`` → START."""
    unit, _, spec = value.partition(" ")
    first = spec.partition("-")[0]
    return int(first) if unit == "bytes" and first.isdigit() else None


def _interrupted(request: DownloadRequest, transfer: Transfer, exc: BaseException) -> TrayaiError:
    part = part_path(request.dest).name
    kept = f"{describe_size(transfer.done)} of {describe_size(request.size)} kept in {part}"
    return make_error(
        ErrorCode.DOWNLOAD_INTERRUPTED,
        f"The download of {request.dest.name} kept failing ({type(exc).__name__}: {str(exc)[:120]}); {kept}",
    )


def describe_size(size: int) -> str:
    """A size as people read it: "98.4 MB", "4.92 GB"."""
    if size < 1000:
        return f"{size} bytes"
    return f"{size / 1e9:.2f} GB" if size >= 1e9 else f"{size / 1e6:.1f} MB"


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every OS/filesystem lets a directory be opened
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def model_files(dest: Path) -> list[Path]:
    """The files a downloaded model ``dest`` has on disk: itself, an unfinished part and its sidecar,
    a quarantined copy — what `trayai rm` removes."""
    found = [dest, part_path(dest), sidecar_path(dest), quarantine_path(dest)]
    return [path for path in found if path.is_file()]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class DownloadJob:
    """One queued download as a front end shows it (the tray's count, the CLI's lines)."""

    request: DownloadRequest
    state: JobState = JobState.QUEUED
    progress: Progress | None = None
    result: DownloadResult | None = None
    error: AppError | None = None
    task: asyncio.Task[DownloadResult] | None = field(default=None, repr=False)


class DownloadQueue:
    """Several downloads, ``concurrency`` at a time — one by default: they share one link and one disk,
    so running two makes each take twice as long and the first model usable later; in order, the first
    one is ready as soon as its own bytes have arrived. Cancelling a job leaves its part resumable."""

    def __init__(self, downloader: Downloader, *, concurrency: int = 1) -> None:
        self.downloader = downloader
        self.jobs: list[DownloadJob] = []
        self._slots = asyncio.Semaphore(concurrency)

    def submit(self, request: DownloadRequest, on_progress: ProgressCallback | None = None) -> DownloadJob:
        job = DownloadJob(request)
        job.task = asyncio.create_task(self._run(job, on_progress), name=f"download {request.dest.name}")
        self.jobs.append(job)
        return job

    @property
    def active(self) -> int:
        """Downloads queued or running (the tray's count)."""
        return sum(job.state in (JobState.QUEUED, JobState.RUNNING) for job in self.jobs)

    async def _run(self, job: DownloadJob, on_progress: ProgressCallback | None) -> DownloadResult:
        def progress(step: Progress) -> None:
            job.progress = step
            if on_progress is not None:
                on_progress(step)

        try:
            async with self._slots:
                job.state = JobState.RUNNING
                result = await self.downloader.fetch(job.request, progress)
        except asyncio.CancelledError:
            job.state = JobState.CANCELLED
            raise
        except AppError as exc:
            job.state, job.error = JobState.FAILED, exc
            raise
        job.state, job.result = JobState.DONE, result
        return result

    def cancel(self, job: DownloadJob) -> None:
        if job.task is not None:
            job.task.cancel()

    async def wait(self) -> list[DownloadJob]:
        """Every job ended (done, failed or cancelled); the jobs in the order submitted."""
        tasks = [job.task for job in self.jobs if job.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        return list(self.jobs)
