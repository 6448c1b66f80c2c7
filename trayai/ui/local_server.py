"""The built-in server seen from the UI: start/stop/switch model off the UI thread, with progress.

trayai only stops a server it started (``owned``); one already listening is used as is and left alone.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from PySide6.QtCore import QObject, Signal

from trayai.core.embedded import EmbeddedServer, RunState, local_extra_missing
from trayai.core.errors import TrayaiError
from trayai.core.loopback import port_is_free
from trayai.core.settings.config import BuiltinServerSettings
from trayai.core.tasks import TaskOwner

log = logging.getLogger(__name__)


class LocalServerController(QObject):
    """One start/restart at a time (the task under ``"server"``): a model switch replaces a start."""

    state_changed = Signal(object)  # RunState
    progress = Signal(str)  # human messages while loading
    failed = Signal(object)  # a TrayaiError

    def __init__(self, server: EmbeddedServer, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.server = server
        self._tasks = TaskOwner()
        self.last_progress = ""

    @property
    def state(self) -> RunState:
        return self.server.state

    @property
    def owned(self) -> bool:
        return self.server.is_running()

    def unavailable_reason(self) -> str | None:
        """Why Start is greyed out, in words; None when it can be started."""
        missing = local_extra_missing()
        if missing:
            return f"not installed ({missing}) — pip install 'trayai[local]'"
        if not self.server.is_running() and not port_is_free(self.server.port):
            return f"port {self.server.port} is taken by another program"
        return None

    def start(self) -> asyncio.Task[None]:
        """Start in the background (idempotent); returns the task so callers may await it."""
        running = self._tasks.get("server")
        return running if running is not None else self._tasks.exclusive("server", self._start())

    async def _start(self) -> None:
        self._set_state(RunState.STARTING)
        try:
            await asyncio.to_thread(self.server.start)
            self._set_state(RunState.STARTING)
            await self.server.wait_ready_async(self._on_progress)
        except TrayaiError as exc:
            log.warning("built-in server failed: %s", exc.message)
            self._set_state(RunState.FAILED)
            self.failed.emit(exc)
            return
        except asyncio.CancelledError:
            await asyncio.to_thread(self.server.stop)
            self._set_state(RunState.STOPPED)
            raise
        self._set_state(RunState.RUNNING)

    def switch_model(self, name: str) -> asyncio.Task[None]:
        """Serve ``name`` (from the models folder) instead: one model at a time, so this restarts.

        Raises :class:`TrayaiError` at once for an unknown name; the caller persists the settings.
        """
        self.server.select_model(name)
        previous = self._tasks.get("server")
        return self._tasks.exclusive("server", self._restart(previous))  # cancels ``previous``

    async def _restart(self, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await previous
        if self.server.is_running():
            self._set_state(RunState.STARTING)
            await asyncio.to_thread(self.server.stop)
        await self._start()

    async def stop(self) -> None:
        """Stop it if we started it (cancelling a start in progress)."""
        running = self._tasks.cancel("server")
        if running is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await running
        if self.server.is_running():
            await asyncio.to_thread(self.server.stop)
        self._set_state(RunState.STOPPED)

    async def reconfigure(self, settings: BuiltinServerSettings) -> bool:
        """Use new settings from the next start: stops it if we run it, and says so (to start it again)."""
        running = self.owned
        if running:
            await self.stop()
        self.server.settings = settings
        return running

    def stop_now(self) -> None:
        """Synchronous last resort at exit (e.g. the session ends without our ordered shutdown)."""
        if self.server.is_running():
            self.server.stop()

    def _on_progress(self, message: str) -> None:
        self.last_progress = message
        self.progress.emit(message)

    def _set_state(self, state: RunState) -> None:
        if state is RunState.STARTING and self.server.state is RunState.FAILED:
            self.server.state = RunState.STARTING
        self.state_changed.emit(state)
