"""Timestamps and durations as servers write them (Go's RFC 3339 with nanoseconds, "5m", "-1")."""

from __future__ import annotations

import math
import re
from datetime import datetime

_ISO = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$")
_FOREVER_AFTER = 50 * 365 * 86400  # Ollama writes keep_alive<0 as an expiry centuries away
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h)")
_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}


def parse_time(text: object, now: float) -> float | None:
    """Epoch seconds from an RFC 3339 string; ``math.inf`` for "never expires"; None if unreadable."""
    if not isinstance(text, str):
        return None
    match = _ISO.match(text.strip())
    if match is None:
        return None
    whole, fraction, zone = match.groups()
    fraction = (fraction or "0")[:6].ljust(6, "0")
    zone = "+00:00" if zone in (None, "Z") else zone if ":" in zone else f"{zone[:3]}:{zone[3:]}"
    try:
        moment = datetime.fromisoformat(f"{whole}.{fraction}{zone}").timestamp()
    except ValueError:
        return None
    return math.inf if moment - now > _FOREVER_AFTER else moment


def parse_duration(text: str) -> float:
    """Seconds from "30m", "1h30m", "90s", "300" or "-1" (forever, as ``math.inf``).

    Raises ValueError with the accepted forms when the text is none of them.
    """
    value = text.strip().lower()
    if value in ("-1", "forever", "never"):
        return math.inf
    try:
        seconds = float(value)
    except ValueError:
        parts = _DURATION.findall(value)
        if not parts or "".join(n + u for n, u in parts) != value:
            raise ValueError(
                f"{text!r} is not a duration: use e.g. 30m, 1h, 90s, 300 (seconds) or -1 (keep loaded)"
            ) from None
        seconds = sum(float(n) * _UNIT[u] for n, u in parts)
    if seconds < 0:
        return math.inf
    return seconds
