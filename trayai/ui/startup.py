"""The start-up figure the benchmark and the tests read: how long after the process started the tray
icon (or the status window) was shown, and which heavy modules were already loaded then."""

from __future__ import annotations

import logging
import sys
import time

log = logging.getLogger("trayai.ui.app")  # the line has always come from the app's logger

HEAVY = ("openai", "httpx2", "httpx", "pygments")


def process_age() -> float:
    """Seconds since this process was created (interpreter start included)."""
    import psutil

    try:
        return time.time() - float(psutil.Process().create_time())
    except (psutil.Error, OSError):  # pragma: no cover - only where /proc is unreadable
        return 0.0


def log_shown(*, tray: bool) -> None:
    loaded = {m: m in sys.modules for m in HEAVY}
    log.info(
        "startup: tray shown %.3f s after process start (tray=%s); modules loaded: %s",
        process_age(),
        tray,
        loaded,
    )
