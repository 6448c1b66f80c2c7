"""The stdio tool servers a test started, told apart from any other test in the same process started.

A test that counts servers must count only its own (a parallel rig, or a test that failed half-way,
may leave one): take a :class:`ServerCount` before starting any. Servers stopped between two loop
steps used to outlive their test: qasync ran anyio's cancellation outside the loop (fixed in
trayai/ui/loop.py, shown by tests/ui/test_event_loop.py).
"""

from __future__ import annotations

import psutil


def argv(process: psutil.Process) -> str:
    try:
        return " ".join(process.cmdline())
    except psutil.Error:  # exited between the listing and the read
        return ""


def alive(process: psutil.Process) -> bool:
    """Running and not a zombie (an exited child stays one until reaped; it runs nothing)."""
    try:
        return bool(process.is_running() and process.status() != psutil.STATUS_ZOMBIE)
    except psutil.Error:
        return False


def children(marker: str) -> list[psutil.Process]:
    """This process's live descendants whose command line contains ``marker``."""
    return [p for p in psutil.Process().children(recursive=True) if alive(p) and marker in argv(p)]


class ServerCount:
    """The live children matching ``marker`` that were not there when this was made."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self._earlier = {p.pid for p in children(marker)}

    def __call__(self) -> list[psutil.Process]:
        return [p for p in children(self.marker) if p.pid not in self._earlier]
