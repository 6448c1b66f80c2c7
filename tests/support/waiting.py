"""Waiting on observable state: the one way tests synchronise with another thread, task or process.

A test never sleeps a guessed time for something to happen: it polls what it can see (a log line,
a count, a widget's text) until that holds, and fails naming what never came. The poll interval
only bounds how late the test notices; the timeout only bounds how long a broken build hangs.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# How long an outside program (Xvfb, trayer, sway, waybar, an installed trayai) may take to become
# ready. Generous on purpose: the wait ends as soon as it is ready or exits, so this only bounds how
# long a broken one hangs — a short guess (10 s) failed a pipx test on a loaded machine.
PROGRAM_DEADLINE = 120.0


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


def wait_for_program(
    proc: subprocess.Popen[Any],
    ready: Callable[[], T],
    what: str,
    output: Callable[[], str],
    timeout: float = PROGRAM_DEADLINE,
    interval: float = 0.05,
) -> T:
    """Poll ``ready`` while the outside program ``proc`` runs, and return its value.

    The program exiting first ends the wait at once. Either failure carries ``output()`` — what the
    program printed, kept in a log rather than sent to /dev/null — since a program that did not come
    up under load says why only there.
    """
    deadline = time.monotonic() + timeout
    while not (value := ready()):
        if (code := proc.poll()) is not None:
            raise AssertionError(
                f"{what}: the program exited ({code}) before it was ready; it said:\n{output()}"
            )
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout:g} s waiting for {what}; the program said:\n{output()}"
            )
        time.sleep(interval)
    return value


def tail(path: Path, limit: int = 4000) -> str:
    """The end of a program's log for a failure message ("(no output)" when it wrote nothing)."""
    text = path.read_text(errors="replace") if path.exists() else ""
    return text[-limit:] if text.strip() else "(no output)"
