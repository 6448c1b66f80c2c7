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

    def get(self, key: str) -> asyncio.Task[Any] | None:
        """The task running under ``key``, or None when there is none (or it has ended)."""
        task = self._keyed.get(key)
        return None if task is None or task.done() else task

    def release(self, key: str, task: asyncio.Task[Any] | None = None) -> asyncio.Task[Any] | None:
        """Stop keying the task under ``key`` (only if it is ``task`` when given): it runs on, still
        owned, but a new task of that key no longer replaces it. Returns it while it runs."""
        held = self._keyed.get(key)
        if held is None or (task is not None and held is not task):
            return None
        del self._keyed[key]
        return None if held.done() else held

    def cancel(self, key: str) -> asyncio.Task[Any] | None:
        """Cancel the task under ``key``; it stays owned (and keyed) until it has unwound. Returns it
        while it runs, so a caller may await the unwinding."""
        task = self.get(key)
        if task is not None:
            task.cancel()
        return task

    def live(self) -> list[asyncio.Task[Any]]:
        """Every owned task that has not ended yet (cancelled ones still unwinding included)."""
        return [task for task in self._tasks if not task.done()]

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

    def close(self) -> None:
        """Cancel every task now and start no new one (a window closing, outside any coroutine);
        they unwind on their own, still owned until they have."""
        self._closed = True
        for task in self.live():
            task.cancel()

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
