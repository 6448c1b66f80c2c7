"""``TaskOwner``: one owner for the app's background tasks — kept referenced until they end (a bare
task can be collected mid-way), one per key where a new one replaces the old (``exclusive``), and all
cancelled and awaited at shutdown. Modelled on Textual's worker manager and its ``exclusive`` flag.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class TaskOwner:
    """Holds every task it starts until it ends; ``cancel_all`` ends them in order at shutdown."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()
        self._keyed: dict[str, asyncio.Task[Any]] = {}
        self._closed = False

    def __len__(self) -> int:
        return len(self._tasks)

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Run ``coro`` in the background; its failure is logged, never lost silently."""
        task = asyncio.ensure_future(coro)
        if self._closed:  # shutting down: nothing new may start
            task.cancel()
        self.track(task)
        return task

    def exclusive(self, key: str, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        """Like :meth:`spawn`, but the task of the same ``key`` still running is cancelled first."""
        previous = self._keyed.get(key)
        if previous is not None and not previous.done():
            previous.cancel()
        task = self.spawn(coro)
        self._keyed[key] = task
        return task

    def track(self, task: asyncio.Task[Any]) -> None:
        """Own a task started elsewhere (kept referenced, cancelled at shutdown)."""
        self._tasks.add(task)
        task.add_done_callback(self._ended)

    def _ended(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        for key, held in list(self._keyed.items()):
            if held is task:
                del self._keyed[key]
        if not task.cancelled() and task.exception() is not None:
            log.error("background task failed", exc_info=task.exception())

    async def cancel_all(self) -> None:
        """Cancel every task and wait for them to finish unwinding (shutdown)."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


__all__ = ["TaskOwner"]
