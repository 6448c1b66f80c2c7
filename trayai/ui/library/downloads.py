"""The library window's downloads: a Get turned into Hub look-ups (off the UI thread), queued transfers
(``core/library/download.py``'s ``DownloadQueue``, one at a time) and one typed status per target that
the rows show — preparing, queued, progress, paused on disk, downloaded, or a failure with its help.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from PySide6.QtCore import QObject, Signal

from trayai.core.errors import AppError
from trayai.core.library.download import (
    Downloader,
    DownloadJob,
    DownloadQueue,
    DownloadRequest,
    Progress,
    model_files,
)
from trayai.core.library.feedback import Paused, Trouble, paused_part, trouble_for
from trayai.core.library.hub import Hub, RepoListing, hub_token
from trayai.core.settings.secrets import SecretStore
from trayai.core.strenum import StrEnum
from trayai.core.tasks import TaskOwner

log = logging.getLogger(__name__)


class Phase(StrEnum):
    """Where a target is, as its row shows it."""

    IDLE = "idle"  # not on disk: Get
    PREPARING = "preparing"  # asking Hugging Face where the bytes are
    QUEUED = "queued"  # waiting for the download before it
    DOWNLOADING = "downloading"
    PAUSED = "paused"  # a part on disk: Resume
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class Target:
    """What one Get fetches: files of one repository (the model first, then a vision projector)."""

    repo: str
    paths: tuple[str, ...]

    @property
    def key(self) -> str:
        return f"{self.repo}/{self.paths[0]}"

    @property
    def file_name(self) -> str:
        return PurePosixPath(self.paths[0]).name

    def dests(self, folder: Path) -> list[Path]:
        return [folder / PurePosixPath(path).name for path in self.paths]


@dataclass(frozen=True)
class TargetStatus:
    phase: Phase
    progress: Progress | None = None  # over all of the target's files
    paused: Paused | None = None
    trouble: Trouble | None = None
    path: Path | None = None  # the model file, once downloaded
    verified: bool = False  # downloaded here and now, and every file matched the repository's sha256


def hub_for(secrets: SecretStore) -> Hub:
    """The Hub with the keychain's token (read now: call it off the UI thread)."""
    return Hub(hub_token(secrets))


class LibraryDownloads(QObject):
    """Signals: ``changed(key)`` — a target's status changed; ``count_changed(n)`` — downloads waiting or
    running. Statuses not set by a run here are read from the models folder (downloaded, paused)."""

    changed = Signal(str)
    count_changed = Signal(int)

    def __init__(
        self,
        models_dir: Callable[[], Path | None],
        secrets: SecretStore,
        *,
        downloader: Downloader | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._models_dir = models_dir
        self._secrets = secrets
        self._downloader = downloader or Downloader()
        self._queue: DownloadQueue | None = None  # made inside the running loop
        self._statuses: dict[str, TargetStatus] = {}
        self._targets: dict[str, Target] = {}
        self._jobs: dict[str, list[DownloadJob]] = {}
        self.tasks = TaskOwner()

    @property
    def folder(self) -> Path | None:
        return self._models_dir()

    @property
    def count(self) -> int:
        """Downloads preparing, queued or running (what the window's header counts)."""
        busy = (Phase.PREPARING, Phase.QUEUED, Phase.DOWNLOADING)
        return sum(status.phase in busy for status in self._statuses.values())

    def status(self, target: Target) -> TargetStatus:
        held = self._statuses.get(target.key)
        if held is not None and held.phase is not Phase.IDLE:
            return held
        return self.on_disk(target)

    def on_disk(self, target: Target) -> TargetStatus:
        folder = self.folder
        if folder is None:
            return TargetStatus(Phase.IDLE)
        dests = target.dests(folder)
        if all(dest.is_file() for dest in dests):
            return TargetStatus(Phase.DONE, path=dests[0])
        for dest in dests:
            paused = paused_part(dest)
            if paused is not None:
                return TargetStatus(Phase.PAUSED, paused=paused)
        return TargetStatus(Phase.IDLE)

    def busy(self) -> list[tuple[Target, TargetStatus]]:
        """Targets preparing, queued or downloading, in the order they were asked for (the tray's lines)."""
        busy = (Phase.PREPARING, Phase.QUEUED, Phase.DOWNLOADING)
        return [
            (self._targets[key], status) for key, status in self._statuses.items() if status.phase in busy
        ]

    def get(self, target: Target) -> None:
        """Start (or resume) ``target``'s download; a second Get while it runs does nothing."""
        if self.tasks.get(target.key) is not None:
            return
        self._targets[target.key] = target
        self._statuses.pop(target.key, None)  # asked for now: behind the ones asked for before
        self._set(target, TargetStatus(Phase.PREPARING))
        self.tasks.exclusive(target.key, self._run(target))

    def cancel(self, target: Target) -> None:
        self.tasks.cancel(target.key)

    def remove(self, target: Target) -> list[Path]:
        """Delete the target's files (model, projector, parts, quarantined copies) from the models folder."""
        folder = self.folder
        removed: list[Path] = []
        for dest in target.dests(folder) if folder is not None else []:
            for path in model_files(dest):
                path.unlink(missing_ok=True)
                removed.append(path)
        self._set(target, TargetStatus(Phase.IDLE))
        return removed

    # ------------------------------------------------------------------ the run

    def _set(self, target: Target, status: TargetStatus) -> None:
        before = self.count
        self._targets[target.key] = target
        self._statuses[target.key] = status
        self.changed.emit(target.key)
        if self.count != before:
            self.count_changed.emit(self.count)

    async def _run(self, target: Target) -> None:
        folder = self.folder
        jobs: list[DownloadJob] = []
        try:
            if folder is None:
                raise AppError(
                    "The built-in server has no models folder", "Set one in Settings ▸ Built-in server."
                )
            requests = await asyncio.to_thread(self._requests, target, folder)
            if self._queue is None:
                self._queue = DownloadQueue(self._downloader)
            sizes = {request.dest: request.size for request in requests}
            done = dict.fromkeys(sizes, 0)
            self._set(target, TargetStatus(Phase.QUEUED))
            for request in requests:
                jobs.append(self._queue.submit(request, self._reporter(target, request.dest, done, sizes)))
            self._jobs[target.key] = jobs
            for job in jobs:
                assert job.task is not None
                await job.task
        except asyncio.CancelledError:
            await self._unwind(jobs)
            self._set(target, self.on_disk(target))
            raise
        except AppError as exc:
            await self._unwind(jobs)
            log.info("library download of %s failed: %s", target.key, exc.message)
            self._set(target, TargetStatus(Phase.FAILED, trouble=trouble_for(exc)))
            return
        finally:
            self._jobs.pop(target.key, None)
        verified = bool(jobs) and all(job.result is not None and job.result.verified for job in jobs)
        self._set(target, TargetStatus(Phase.DONE, path=target.dests(folder)[0], verified=verified))

    def _requests(self, target: Target, folder: Path) -> list[DownloadRequest]:
        """Blocking (a worker thread): the listing, then where each missing file's bytes are."""
        hub = hub_for(self._secrets)
        listing: RepoListing = hub.listing(target.repo)
        requests = []
        for path, dest in zip(target.paths, target.dests(folder), strict=True):
            gguf = listing.find(path)
            if dest.is_file() and dest.stat().st_size == gguf.size:
                continue
            source = hub.source(listing, gguf)
            requests.append(
                DownloadRequest(
                    source.url, dest, source.size, source.sha256, source.etag, source.identity, source.headers
                )
            )
        return requests

    def _reporter(
        self, target: Target, dest: Path, done: dict[Path, int], sizes: dict[Path, int]
    ) -> Callable[[Progress], None]:
        total = sum(sizes.values())

        def report(step: Progress) -> None:
            done[dest] = step.done
            so_far = sum(done.values())
            left = total - so_far
            eta = left / step.rate if step.rate > 0 else None
            summed = Progress(so_far, total, step.rate, eta, step.resumed_from)
            self._set(target, TargetStatus(Phase.DOWNLOADING, progress=summed))

        return report

    async def _unwind(self, jobs: list[DownloadJob]) -> None:
        """Cancel the target's other jobs and wait until each has left a consistent part on disk."""
        tasks = [job.task for job in jobs if job.task is not None]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)


__all__ = ["LibraryDownloads", "Phase", "Target", "TargetStatus", "hub_for"]
