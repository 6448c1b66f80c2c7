"""Qt tests: an offscreen QApplication (pytest-qt's ``qapp``) driven by a qasync event loop."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QCoreApplication, QEvent
from PySide6.QtWidgets import QApplication

from trayai.core.chat.history import HistoryStore
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Settings
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore
from trayai.ui.app import TrayApp
from trayai.ui.ipc import InstanceServer, socket_name
from trayai.ui.loop import adopt_loop

T = TypeVar("T")

_clients: list[ModelClient] = []


def client_for(base_url: str, key: str = "dummy-key", **timeouts: float) -> ModelClient:
    """A client closed with the test's event loop: an unclosed pool leaks sockets (ResourceWarning)."""
    client = ModelClient(Endpoint.create(base_url, key, **timeouts))
    _clients.append(client)
    return client


@pytest.fixture(autouse=True)
def _collect_qt_garbage(qapp: QApplication) -> Iterator[None]:
    """Destroy each test's Qt objects while the QApplication exists (not at interpreter exit)."""
    yield
    gc.unfreeze()  # a chat window's warm-up froze the heap: this test's garbage is this test's
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    qapp.processEvents()


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[qasync.QEventLoop]:
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    previous = adopt_loop(loop)  # as the app does
    yield loop
    while _clients:
        loop.run_until_complete(_clients.pop().aclose())
    loop.run_until_complete(loop.shutdown_asyncgens())
    loop.close()  # joins qasync's executor threads (getaddrinfo, to_thread)
    asyncio.set_event_loop(None)
    sys.set_asyncgen_hooks(*previous)


@pytest.fixture
def run(qloop: qasync.QEventLoop) -> Callable[[Coroutine[Any, Any, T]], T]:
    def runner(coro: Coroutine[Any, Any, T]) -> T:
        result: T = qloop.run_until_complete(asyncio.wait_for(coro, 30))
        return result

    return runner


@pytest.fixture
def history(tmp_path: Path) -> Iterator[HistoryStore]:
    """A chat history database of the test's own."""
    store = HistoryStore(tmp_path / "history.sqlite3")
    yield store
    store.close()


@pytest.fixture
def make_app(
    paths: AppPaths, qloop: Any, qapp: Any, request: pytest.FixtureRequest
) -> Iterator[Callable[[Settings], TrayApp]]:
    qapp.setQuitOnLastWindowClosed(False)  # as run_app does
    # Offscreen there is no tray and no graphical session: an app that runs says so.
    for logger, text in (
        ("trayai.ui.app", "no system tray available"),
        ("trayai.ui.hotkeys", "No graphical session"),
    ):
        request.node.add_marker(pytest.mark.expect_log(logger, text, optional=True))
    apps: list[TrayApp] = []

    def factory(settings: Settings) -> TrayApp:
        paths.ensure()
        store = ConfigStore(paths)
        store.save(settings)
        instance = InstanceServer(socket_name(paths.data_dir))
        assert instance.listen()
        app = TrayApp(
            paths, store, store.load(), SecretStore(MemoryKeyring()), instance, tray_available=False
        )
        app.loaded.settings.builtin_server.autostart = False
        apps.append(app)
        return app

    yield factory
    for app in apps:
        qloop.run_until_complete(app.shutdown())
