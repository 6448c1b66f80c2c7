"""The qasync loop as the app runs it: a cancelled deadline releases its Qt timer at once.

Why: the client awaits every network read under a deadline; qasync kept each cancelled one as a live
Qt timer plus handle until it would have fired (``stall_timeout`` later) — 62,000 of them after a 2 MB
answer, enough to stall the UI (see trayai/ui/loop.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio
import pytest
import qasync
from pytestqt.qtbot import QtBot

from trayai.core.net.client import within


def pending_timers(loop: qasync.QEventLoop) -> int:
    return len(loop._timer._SimpleTimer__callbacks)


def test_cancelled_deadlines_release_their_qt_timers(
    qloop: qasync.QEventLoop, run: Callable[..., Any]
) -> None:
    async def many_deadlines() -> int:
        before = pending_timers(qloop)
        for _ in range(2000):
            await within(asyncio.sleep(0), 60)  # around each network read
        return pending_timers(qloop) - before

    assert run(many_deadlines()) < 10


def test_deadlines_and_timers_still_fire(
    qloop: qasync.QEventLoop, run: Callable[..., Any], qtbot: QtBot
) -> None:
    """qtbot: an exception inside qasync's timerEvent (a Qt virtual) fails the test."""
    fired: list[str] = []

    async def go() -> None:
        with pytest.raises(TimeoutError):
            await within(asyncio.Event().wait(), 0.02)
        done = asyncio.Event()

        def later() -> None:
            fired.append("later")
            done.set()

        qloop.call_later(0.01, later)
        cancelled = qloop.call_later(0.01, fired.append, "cancelled")
        cancelled.cancel()
        cancelled.cancel()  # twice is harmless
        own: list[asyncio.Handle] = []

        def cancel_own() -> None:
            own[0].cancel()  # a callback cancelling its own handle while it runs

        own.append(qloop.call_later(0, cancel_own))
        await done.wait()
        past = asyncio.Event()
        qloop.call_later(0.03, past.set)  # Qt fires timers in due order: the cancelled one is behind us
        await past.wait()

    run(go())
    assert fired == ["later"]


def test_callbacks_qt_runs_after_the_loop_stopped_run_on_the_loop(
    qloop: qasync.QEventLoop, run: Callable[..., Any], qapp: Any
) -> None:
    """qasync processes Qt events once more after ``run_until_complete`` (and ``asyncio.run``'s clean-up
    at quit runs it again): anyio's cancellation delivery then found no running loop, never retried,
    and a cancelled task — a tool server's stop — hung (tests/ui/test_tools_keeper.py, 1 run in 15)."""
    seen: list[asyncio.AbstractEventLoop | None] = []
    qloop.call_soon(lambda: seen.append(asyncio.events._get_running_loop()))
    qapp.processEvents()  # as qasync's last pass, or pytest-qt between tests, would
    assert seen == [qloop]
    assert asyncio.events._get_running_loop() is None  # and left as it was

    async def cancel_inside_anyio() -> asyncio.Task[None]:
        started = asyncio.Event()

        async def wait_in_a_task_group() -> None:
            async with anyio.create_task_group() as group:
                group.start_soon(anyio.sleep_forever)
                started.set()
                await anyio.sleep_forever()

        task = asyncio.ensure_future(wait_in_a_task_group())
        await started.wait()
        task.cancel()  # the group then cancels its child with anyio's own delivery (call_soon)
        return task

    # anyio on this loop as the MCP SDK uses it: sleep_forever is call_later(inf), which a Qt timer
    # cannot take (OverflowError before loop.py said "never"), and a task group cancelled.
    task = run(cancel_inside_anyio())
    run(asyncio.wait({task}, timeout=5))
    assert task.cancelled(), task
