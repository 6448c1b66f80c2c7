"""Time every answer save, to tell history's share of a UI stall from the view's."""

from __future__ import annotations

import time
from typing import Any

from trayai.core.chat.history import HistoryStore


def record_history_writes(history: HistoryStore) -> list[tuple[float, float]]:
    """Wrap ``history.update_message``; returns the list its (start, end) spans are appended to."""
    spans: list[tuple[float, float]] = []
    update = history.update_message

    def timed(*args: Any, **kwargs: Any) -> None:
        started = time.perf_counter()
        try:
            update(*args, **kwargs)
        finally:
            spans.append((started, time.perf_counter()))

    history.update_message = timed  # type: ignore[method-assign]
    return spans
