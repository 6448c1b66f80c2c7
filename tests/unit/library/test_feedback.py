"""The library window's and the tray's words (core/library/feedback.py): progress, a paused part found on
disk, and each failure's headline with the button that helps."""

from __future__ import annotations

from pathlib import Path

import pytest

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import AppError, make_error
from trayai.core.library.download import DownloadRequest, Progress, Sidecar, part_path, sidecar_path
from trayai.core.library.feedback import (
    Help,
    clock,
    paused_part,
    progress_words,
    queued_words,
    sentence,
    time_left,
    tray_progress,
    trouble_for,
)


def test_progress_in_words() -> None:
    assert progress_words(Progress(43_200_000, 98_400_000, 12_100_000, 4.6)) == (
        "43.2 MB of 98.4 MB · 12.1 MB/s · 0:04 left"
    )
    assert progress_words(Progress(0, 2_500_000_000, 0.0, None)) == "0 bytes of 2.50 GB · starting…"
    assert progress_words(Progress(5, 5, 1_500_000.0, 0.0)) == "5 bytes of 5 bytes · 1.5 MB/s"
    assert [clock(s) for s in (42, 725, 3723)] == ["0:42", "12:05", "1:02:03"]
    assert sentence("too large (needs ~9.8 GB, 7.1 GB free)") == "Too large (needs ~9.8 GB, 7.1 GB free)"


def test_the_trays_words_for_the_running_download_and_the_queue() -> None:
    assert tray_progress("qwen3-4b", Progress(2_150_000_000, 5_000_000_000, 12_100_000, 236.0)) == (
        "Downloading qwen3-4b 43 % · 12.1 MB/s · 4 min left"
    )
    assert tray_progress("qwen3-4b", Progress(0, 5_000_000_000, 0.0, None)) == "Downloading qwen3-4b 0 %"
    assert tray_progress("qwen3-4b", None) == "Preparing qwen3-4b…"
    assert tray_progress("q", Progress(5, 5, 1_500_000.0, 0.0)) == "Downloading q 100 % · 1.5 MB/s"
    assert queued_words(2) == "+2 queued"
    assert [time_left(s) for s in (0.2, 42, 60, 61, 3599, 3600, 3900)] == [
        "1 s left",
        "42 s left",
        "1 min left",
        "2 min left",
        "1 h left",
        "1 h left",
        "1 h 5 min left",
    ]


@pytest.mark.parametrize(
    ("code", "help_", "starts"),
    [
        (ErrorCode.CHECKSUM_MISMATCH, Help.RETRY, "The file does not match"),
        (ErrorCode.DISK_FULL, Help.OPEN_FOLDER, "Not enough free disk space"),
        (ErrorCode.HUB_GATED, Help.STORE_TOKEN, "This model is gated"),
        (ErrorCode.HUB_UNREACHABLE, Help.RETRY, "Hugging Face cannot be reached"),
        (ErrorCode.DOWNLOAD_INTERRUPTED, Help.RETRY, "The download stopped"),
        (ErrorCode.HUB_NOT_FOUND, Help.RETRY, "Hugging Face has no such file"),
    ],
)
def test_each_failure_has_its_words_and_its_button(code: ErrorCode, help_: Help, starts: str) -> None:
    trouble = trouble_for(make_error(code, "the specifics"))
    assert trouble.headline.startswith(starts) and trouble.help is help_
    assert trouble.detail == "the specifics" and trouble.button


def test_an_unexpected_failure_is_its_own_message_with_retry() -> None:
    trouble = trouble_for(AppError("The built-in server has no models folder"))
    assert (trouble.headline, trouble.detail, trouble.help) == (
        "The built-in server has no models folder",
        "",
        Help.RETRY,
    )


def test_a_part_with_its_sidecar_is_paused_and_anything_less_is_not(tmp_path: Path) -> None:
    dest = tmp_path / "m.gguf"
    assert paused_part(dest) is None
    part_path(dest).write_bytes(b"x" * 430)
    assert paused_part(dest) is None  # no sidecar: a later run starts over
    request = DownloadRequest("http://hub/m.gguf", dest, 1000, None, "e", "hf:r/m.gguf")
    Sidecar.of(request).write(sidecar_path(dest))
    paused = paused_part(dest)
    assert paused is not None and paused.percent == 43 and paused.words.startswith("paused at 43 % (")
    part_path(dest).write_bytes(b"x" * 1001)
    assert paused_part(dest) is None  # longer than the file: not a part of it
