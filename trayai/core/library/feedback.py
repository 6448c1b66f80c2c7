"""What the model library window and the tray say about a download: its progress in words, a part
paused on disk (resumable after a restart), and a failure as a sentence with the one button that helps.

Qt-free, so the words are tested without a display and the window only lays them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import AppError, TrayaiError
from trayai.core.library.download import Progress, Sidecar, describe_size, part_path, sidecar_path
from trayai.core.strenum import StrEnum


class Help(StrEnum):
    """The button a failure shows: what the user can do about it from the window."""

    RETRY = "retry"
    STORE_TOKEN = "store_token"  # noqa: S105 - a button, not a secret
    OPEN_FOLDER = "open_folder"


@dataclass(frozen=True)
class Trouble:
    """A failed download as the window shows it: a plain headline, the specifics, the helping button."""

    headline: str
    detail: str
    help: Help

    @property
    def button(self) -> str:
        return {
            Help.RETRY: "Retry",
            Help.STORE_TOKEN: "Store a token…",
            Help.OPEN_FOLDER: "Open the models folder",
        }[self.help]


_TROUBLES: dict[ErrorCode, tuple[str, Help]] = {
    ErrorCode.CHECKSUM_MISMATCH: (
        "The file does not match the repository's checksum: it was set aside and is not offered.",
        Help.RETRY,
    ),
    ErrorCode.DISK_FULL: ("Not enough free disk space for this model.", Help.OPEN_FOLDER),
    ErrorCode.HUB_GATED: (
        "This model is gated: it needs a Hugging Face token whose account accepted its terms.",
        Help.STORE_TOKEN,
    ),
    ErrorCode.HUB_UNREACHABLE: ("Hugging Face cannot be reached: check the network.", Help.RETRY),
    ErrorCode.DOWNLOAD_INTERRUPTED: (
        "The download stopped before the end; what arrived is kept and Retry continues from there.",
        Help.RETRY,
    ),
    ErrorCode.HUB_NOT_FOUND: ("Hugging Face has no such file (any more).", Help.RETRY),
}


def trouble_for(error: AppError) -> Trouble:
    """The window's words for a failed download (the error's own message is the detail)."""
    entry = _TROUBLES.get(error.code) if isinstance(error, TrayaiError) else None
    headline, help_ = entry or (error.message, Help.RETRY)
    detail = error.message if headline != error.message else ""
    return Trouble(headline, detail, help_)


def search_failure(error: AppError) -> str:
    """The window's words for a failed Hugging Face search: with the Hub unreachable, the catalog below
    it still shows, from its own (offline) figures."""
    if isinstance(error, TrayaiError) and error.code is ErrorCode.HUB_UNREACHABLE:
        return f"{error.message}; the catalog below is offline figures."
    return error.message


def sentence(words: str) -> str:
    """``words`` with its first letter upper-case and the rest untouched ("GB" stays "GB")."""
    return words[:1].upper() + words[1:]


def clock(seconds: float) -> str:
    """``0:42``, ``12:05``, ``1:02:03``."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


def progress_words(step: Progress) -> str:
    """``43.2 MB of 98.4 MB · 12.1 MB/s · 0:05 left`` (rate and time left once they are known)."""
    parts = [f"{describe_size(step.done)} of {describe_size(step.total)}"]
    if step.rate > 0:
        parts.append(f"{describe_size(int(step.rate))}/s")
    if step.eta is not None and step.done < step.total:
        parts.append(f"{clock(step.eta)} left")
    elif step.done < step.total:
        parts.append("starting…")
    return " · ".join(parts)


def time_left(seconds: float) -> str:
    """``5 s left``, ``2 min left``, ``1 h 5 min left`` — the tray's short form (minutes rounded up)."""
    if seconds < 60:
        return f"{max(1, round(seconds))} s left"
    minutes = -(-int(seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    if not hours:
        return f"{minutes} min left"
    return f"{hours} h {minutes} min left" if minutes else f"{hours} h left"


def tray_progress(name: str, step: Progress | None) -> str:
    """The tray's line for the running download: ``Downloading qwen3-4b 43 % · 12.1 MB/s · 2 min left``
    (``Preparing qwen3-4b…`` before its first byte; rate and time left once they are known)."""
    if step is None:
        return f"Preparing {name}…"
    parts = [f"Downloading {name} {int(100 * step.fraction)} %"]
    if step.rate > 0:
        parts.append(f"{describe_size(int(step.rate))}/s")
    if step.eta is not None and step.done < step.total:
        parts.append(time_left(step.eta))
    return " · ".join(parts)


def queued_words(count: int) -> str:
    """``+2 queued`` — downloads waiting behind the running one."""
    return f"+{count} queued"


@dataclass(frozen=True)
class Paused:
    """A ``.part`` with its sidecar: bytes a later download resumes from."""

    done: int
    total: int

    @property
    def percent(self) -> int:
        return int(100 * self.done / self.total) if self.total else 0

    @property
    def words(self) -> str:
        return f"paused at {self.percent} % ({describe_size(self.done)} of {describe_size(self.total)})"


def paused_part(dest: Path) -> Paused | None:
    """The paused download of ``dest`` on disk, if there is one a resume would keep."""
    part = part_path(dest)
    sidecar = Sidecar.read(sidecar_path(dest))
    try:
        done = part.stat().st_size
    except OSError:
        return None
    if sidecar is None or done > sidecar.size:
        return None
    return Paused(done, sidecar.size)


__all__ = [
    "Help",
    "Paused",
    "Trouble",
    "clock",
    "paused_part",
    "progress_words",
    "queued_words",
    "search_failure",
    "sentence",
    "time_left",
    "tray_progress",
    "trouble_for",
]
