"""The start-up figure the benchmark and the tests read: how long after the process started the tray
icon (or the status window) was shown, and which heavy modules were already loaded then."""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

log = logging.getLogger("trayai.ui.app")  # the line has always come from the app's logger

HEAVY = ("openai", "httpx2", "httpx", "pygments")


def process_age() -> float:
    """Seconds since this process was created (interpreter start included).

    Read from /proc on Linux: psutil would cost the tray ~2 MB of memory for one number.
    """
    try:
        return _proc_age() if sys.platform.startswith("linux") else _psutil_age()
    except (OSError, ValueError, IndexError):  # pragma: no cover - only where /proc is unreadable
        return 0.0


def _proc_age() -> float:
    """Linux: start time in clock ticks after boot (/proc/self/stat field 22) against uptime."""
    stat = Path("/proc/self/stat").read_text()
    start_ticks = int(stat.rsplit(")", 1)[1].split()[19])  # fields after "(comm)" start at field 3
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def _psutil_age() -> float:  # pragma: no cover - macOS and Windows
    # lazy: psutil is loaded only when used: start-up time and memory
    import psutil

    return time.time() - float(psutil.Process().create_time())


def log_shown(*, tray: bool) -> None:
    loaded = {m: m in sys.modules for m in HEAVY}
    log.info(
        "startup: tray shown %.3f s after process start (tray=%s); modules loaded: %s",
        process_age(),
        tray,
        loaded,
    )
