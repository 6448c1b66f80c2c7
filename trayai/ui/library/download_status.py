"""The library's downloads as the tray shows them: the running one's progress and how many wait
("Downloading qwen3-4b 43 % · 12.1 MB/s · 2 min left", "+2 queued") for the tooltip and the menu, and
one notice when a download finished or failed (with why). It watches the ``LibraryDownloads`` the Get
models window drives, both kept by ``ui/library/opener.py``: downloads go on, and show, with the window
closed.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from trayai.core.library.feedback import queued_words, tray_progress
from trayai.ui.library.downloads import LibraryDownloads, Phase, Target


def model_name(target: Target) -> str:
    """The name the built-in server lists the model under: its file's stem."""
    return Path(target.file_name).stem


class DownloadStatus(QObject):
    """Signals: ``changed`` — the tray's lines changed (at once when a download starts, ends or moves up
    the queue; progress at most once a second); ``notice(title, text)`` — a download finished or
    failed, said once each time (a cancel says nothing: the person did it)."""

    changed = Signal()
    notice = Signal(str, str)
    PROGRESS_EVERY_MS = 1000

    def __init__(self, downloads: LibraryDownloads, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._downloads = downloads
        self._busy: dict[str, Target] = {}  # preparing, queued or downloading at the last change
        self._shape: tuple[tuple[str, Phase], ...] = ()  # what the lines were last made from
        self._progress = QTimer(self)
        self._progress.setSingleShot(True)
        self._progress.setInterval(self.PROGRESS_EVERY_MS)
        self._progress.timeout.connect(self.changed)
        downloads.changed.connect(self._on_changed)

    def lines(self) -> list[str]:
        """The running download's line, then how many wait behind it; none when nothing downloads."""
        busy = self._downloads.busy()
        if not busy:
            return []
        target, status = next(((t, s) for t, s in busy if s.phase is Phase.DOWNLOADING), busy[0])
        lines = [tray_progress(model_name(target), status.progress)]
        if len(busy) > 1:
            lines.append(queued_words(len(busy) - 1))
        return lines

    def _on_changed(self, _key: str) -> None:
        busy = self._downloads.busy()
        now = {target.key: target for target, _ in busy}
        for key, target in self._busy.items():
            if key not in now:
                self._ended(target)
        self._busy = now
        shape = tuple((target.key, status.phase) for target, status in busy)
        if shape != self._shape:
            self._shape = shape
            self._progress.stop()
            self.changed.emit()
        elif not self._progress.isActive():
            self._progress.start()

    def _ended(self, target: Target) -> None:
        status = self._downloads.status(target)
        name = model_name(target)
        if status.phase is Phase.DONE:
            checked = " and checked against the repository's sha256" if status.verified else ""
            self.notice.emit(f"Downloaded {name}", f"{name} is in the models folder{checked}: ready to use.")
        elif status.phase is Phase.FAILED and status.trouble is not None:
            trouble = status.trouble
            why = " ".join(part for part in (trouble.headline, trouble.detail) if part)
            self.notice.emit(f"Download of {name} failed", why)


__all__ = ["DownloadStatus", "model_name"]
