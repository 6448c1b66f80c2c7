"""Qt tests: an offscreen QApplication (pytest-qt's ``qapp``) driven by a qasync event loop."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

T = TypeVar("T")


@pytest.fixture(autouse=True)
def _collect_qt_garbage(qapp: QApplication) -> Iterator[None]:
    """Destroy each test's Qt objects while the QApplication exists (not at interpreter exit)."""
    yield
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()  # joins qasync's executor threads (getaddrinfo, to_thread)
    asyncio.set_event_loop(None)


@pytest.fixture
def run(qloop: qasync.QEventLoop) -> Callable[[Coroutine[Any, Any, T]], T]:
    def runner(coro: Coroutine[Any, Any, T]) -> T:
        return qloop.run_until_complete(asyncio.wait_for(coro, 30))

    return runner
