"""What qasync's event loop leaves out: async-generator hooks, cancelling a timer, and a running loop for
the callbacks Qt runs after the loop stopped.

Install both once the qasync loop runs (docs/architecture.md, "The tray app").
"""

from __future__ import annotations

import asyncio
import math
import sys
import types
from contextvars import Context
from typing import Any


def install_asyncgen_hooks(loop: asyncio.AbstractEventLoop) -> Any:
    """Route async-generator finalisation to ``loop``; returns the previous hooks (to restore).

    ``BaseEventLoop.run_forever`` registers these so that an async generator dropped half-way (httpx's
    byte streams, when a reply turns out malformed mid-stream) is closed on the loop. qasync runs Qt's
    ``exec()`` instead and never does; the garbage collector then finalises such generators outside
    any loop, noisily ("AsyncLibraryNotFoundError … Exception ignored").
    """
    previous = sys.get_asyncgen_hooks()
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is not None and finalizer is not None:
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
    return previous


MAX_TIMER_MS = 2**31 - 1  # a Qt timer's longest interval (~24.8 days): a longer delay fires then


class _QtTimerHandle(asyncio.Handle):
    """A qasync timer callback whose ``cancel()`` also stops and forgets its Qt timer."""

    __slots__ = ("_qt_loop", "_qt_timer", "_qt_timer_id")

    def __init__(self, callback: Any, args: tuple[Any, ...], loop: Any, context: Context | None) -> None:
        super().__init__(callback, args, loop, context=context)
        self._qt_loop: asyncio.AbstractEventLoop = loop
        self._qt_timer: Any = None
        self._qt_timer_id = -1

    def attach(self, timer: Any, timer_id: int) -> None:
        """Remember the Qt timer that will run this handle, for :meth:`cancel` to stop."""
        self._qt_timer, self._qt_timer_id = timer, timer_id

    def cancel(self) -> None:
        timer, self._qt_timer = self._qt_timer, None
        if timer is not None and not self._cancelled:
            callbacks = timer._SimpleTimer__callbacks  # noqa: SLF001 - qasync has no public way to drop one
            if callbacks.get(self._qt_timer_id) is self:
                del callbacks[self._qt_timer_id]
                timer.killTimer(self._qt_timer_id)
        super().cancel()

    def _run(self) -> None:
        self._qt_timer = None  # qasync forgets the timer once it fired; cancel() must not
        if asyncio._get_running_loop() is not None:  # noqa: SLF001 - the cheap check asyncio itself uses
            super()._run()
            return
        # Qt ran this outside the loop: qasync's ``run_until_complete`` processes events once more
        # after the loop stopped (so does ``asyncio.run``'s clean-up at quit). Run it as the loop
        # would, or anyio's cancellation delivery fails ("no running event loop"), never retries, and
        # the task it was cancelling — a tool server's stop — never ends.
        asyncio.events._set_running_loop(self._qt_loop)  # noqa: SLF001
        try:
            super()._run()
        finally:
            asyncio.events._set_running_loop(None)  # noqa: SLF001


def _call_later(self: Any, delay: float, callback: Any, *args: Any, context: Context | None = None) -> Any:
    if not callable(callback) or asyncio.iscoroutinefunction(callback):
        raise TypeError(f"not a plain callable: {callback!r}")
    handle = _QtTimerHandle(callback, args, self, context)
    if not math.isfinite(delay):
        # ``anyio.sleep_forever()`` is ``sleep(inf)``: a Qt timer takes milliseconds as an int (qasync's
        # own raised OverflowError here); a handle no timer runs is "never", as asyncio means it.
        return handle
    # ``self`` is qasync's loop: this replaces its call_later, so it does what qasync's own does,
    # with its private timer object (checked by release_cancelled_timers before installing this).
    timer = self._timer
    timer_id = timer.startTimer(min(int(max(0.0, delay) * 1000), MAX_TIMER_MS))
    timer._SimpleTimer__callbacks[timer_id] = handle  # noqa: SLF001
    handle.attach(timer, timer_id)
    return handle


def release_cancelled_timers(loop: asyncio.AbstractEventLoop) -> bool:
    """Make ``cancel()`` of ``loop``'s timers stop them at once; False if ``loop`` is not qasync's.

    qasync's ``call_later``/``call_at`` keep a live Qt timer and handle until the timer fires, and
    ``cancel()`` only marks the handle. Every network read runs under a deadline (``within()`` →
    ``call_at`` … ``cancel``), so a fast stream left one per read for ``stall_timeout`` seconds: 62,000
    after a 2 MB answer, making each garbage collection walk them (50-170 ms UI stalls).
    Its handles also run as on the loop when Qt runs them after the loop stopped (``_QtTimerHandle._run``).
    """
    timer = getattr(loop, "_timer", None)
    callbacks = getattr(timer, "_SimpleTimer__callbacks", None)
    if not isinstance(callbacks, dict) or not hasattr(timer, "startTimer"):
        return False  # not the qasync version this was written for: leave it alone
    loop.call_later = types.MethodType(_call_later, loop)  # type: ignore[assignment,method-assign]
    return True


def adopt_loop(loop: asyncio.AbstractEventLoop) -> Any:
    """Both of the above, as the app needs them once its qasync loop runs; returns the previous hooks."""
    previous = install_asyncgen_hooks(loop)
    release_cancelled_timers(loop)
    return previous


__all__ = ["adopt_loop", "install_asyncgen_hooks", "release_cancelled_timers"]
