"""Waiting on observable state: the one way tests synchronise with another thread, task or process.

A test never sleeps a guessed time for something to happen: it polls what it can see (a log line,
a count, a widget's text) until that holds, and fails naming what never came. The poll interval
only bounds how late the test notices; the timeout only bounds how long a broken build hangs.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_until(
    predicate: Callable[[], T], timeout: float = 15.0, what: str = "condition", interval: float = 0.02
) -> T:
    """Poll ``predicate`` (blocking) until it returns something truthy, and return that."""
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(interval)
    return value


async def until(
    predicate: Callable[[], T], timeout: float = 10.0, what: str = "condition", interval: float = 0.01
) -> T:
    """Poll ``predicate`` from a coroutine, letting the event loop run between polls."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not (value := predicate()):
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)
    return value
