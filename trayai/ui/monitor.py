"""The status monitor at the Qt edge: polls ``GET /v1/models`` as asyncio tasks, never two at once,
and emits what changed (decisions in ``core/monitor.py``; docs/architecture.md, "The tray app").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal

from trayai.core.monitor import MonitorLogic, Transition
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.classify import classify_exception
from trayai.core.net.client import ModelClient
from trayai.core.status import ServerState, StatusReport, probe, state_for_error
from trayai.core.tasks import TaskOwner

if TYPE_CHECKING:
    from trayai.core.active import ActiveEndpoint
    from trayai.core.settings.config import Settings

log = logging.getLogger(__name__)


class StatusMonitor(QObject):
    """Timers come from the policy per instance, so tests pass one with short intervals."""

    report_changed = Signal(object)  # a StatusReport after every poll
    state_changed = Signal(object)  # the shown ServerState when it changes (starting/generating included)
    notify = Signal(str, str)  # title and message worth a notification (already rate-limited)

    def __init__(
        self,
        logic: MonitorLogic,
        client: ModelClient,
        model: str,
        parent: QObject | None = None,
        *,
        redact: Callable[[str], str] | None = None,
        manager_for: Callable[[ModelClient], ModelManager] = ModelManager,
    ) -> None:
        super().__init__(parent)
        self._manager_for = manager_for  # the built-in server gets its own adapter (ui/app.py)
        self.manager = manager_for(client)
        self.logic = logic
        self._redact = redact  # errors quote servers, which may echo the key back
        self._client = client
        self._model = model
        # "poll": the one poll in flight; unkeyed: old clients closing after a switch
        self._tasks = TaskOwner()
        self._again = False
        self._running = False
        self.polls = 0  # completed polls (observability for tests and the benchmark)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.poll_now)

    @property
    def client(self) -> ModelClient:
        return self._client

    @property
    def model(self) -> str:
        return self._model

    @property
    def report(self) -> StatusReport | None:
        return self.logic.report

    @property
    def state(self) -> ServerState | None:
        return self.logic.state

    def start(self) -> None:
        self._running = True
        self.poll_now()

    async def stop(self) -> None:
        """Stop polling, cancel a poll in flight and close the HTTP client."""
        self._running = False
        self._timer.stop()
        poll = self._tasks.cancel("poll")
        if poll is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await poll
        for retire in self._tasks.live():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await retire
        await self._client.aclose()

    def poll_now(self) -> None:
        """Poll at once (or right after the poll in flight)."""
        if not self._running:
            return
        if self._tasks.get("poll") is not None:
            self._again = True
            return
        self._timer.stop()
        self._tasks.exclusive("poll", self._poll())

    def follow_settings(self, settings: Settings, _old: Settings) -> None:
        """Notifications and the poll interval follow the saved settings."""
        self.logic.notifications = settings.notifications
        self.logic.policy = replace(self.logic.policy, interval=settings.poll_interval)

    def follow(self, active: ActiveEndpoint) -> None:
        """The session replaced the active endpoint: the same client takes the new model; a new one is
        polled at once (see :meth:`set_endpoint`)."""
        if active.client is self._client:
            self.set_model(active.model)
        else:
            self._use(active.client, active.model)

    async def set_endpoint(self, client: ModelClient, model: str) -> None:
        """Switch endpoint/model: forget the old state, poll at once, and close the old client once
        its poll in flight has unwound."""
        await self._use(client, model)

    def _use(self, client: ModelClient, model: str) -> asyncio.Task[None]:
        old = self._client
        self._client, self._model = client, model
        self.manager = self._manager_for(client)
        running = self._tasks.release("poll")  # a poll of the old client still unwinding is not this one's
        if running is not None:
            running.cancel()
        retire = self._tasks.spawn(self._retire(old if old is not client else None, running))
        self._apply(self.logic.reset())
        self.poll_now()
        return retire

    @staticmethod
    async def _retire(client: ModelClient | None, poll: asyncio.Task[None] | None) -> None:
        if poll is not None:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await poll
        if client is not None:
            await client.aclose()

    def use_managers(self, manager_for: Callable[[ModelClient], ModelManager]) -> None:
        """Build the model manager with ``manager_for`` from now on (the app's built-in adapter)."""
        self._manager_for = manager_for
        self.rebuild_manager()

    def rebuild_manager(self) -> None:
        """The endpoint's kind of control changed (the built-in server now listens there, or no longer)."""
        self.manager = self._manager_for(self._client)
        self.poll_now()

    def set_model(self, model: str) -> None:
        self._model = model
        self.poll_now()

    def set_starting(self, *, starting: bool) -> None:
        self._apply(self.logic.set_starting(starting=starting))
        if starting:
            self.poll_now()

    def request_started(self) -> None:
        self._apply(self.logic.request_started())

    def request_finished(self, *, failed: bool = False) -> None:
        self._apply(self.logic.request_finished())
        if failed:
            self.poll_now()  # a failed chat request may mean the server went away: look now

    async def _poll(self) -> None:
        client, model, manager = self._client, self._model, self.manager
        try:
            report = await probe(client, model, busy=False)
            if report.reachable or manager.fixed:
                report.with_snapshot(await manager.snapshot(report.listing))
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # never let a bug in a poll stop the monitor
            log.exception("status poll failed")
            error = classify_exception(exc, base_url=client.base_url)
            report = StatusReport(
                state=state_for_error(error), base_url=client.base_url, model=model, error=error
            )
        finally:
            self._tasks.release("poll", asyncio.current_task())
        if client is not self._client:
            return  # the endpoint changed meanwhile; this report is about the old one
        if report.error is not None and self._redact is not None:
            report.error = report.error.redacted(self._redact)
        self.polls += 1
        self._apply(self.logic.record(report))
        self.report_changed.emit(report)
        if self._running:
            if self._again:
                self._again = False
                QTimer.singleShot(0, self.poll_now)
            else:
                self._timer.start(int(self.logic.next_delay() * 1000))

    def _apply(self, transition: Transition) -> None:
        if transition.changed:
            self.state_changed.emit(transition.after)
        if transition.notification is not None:
            self.notify.emit(transition.notification.title, transition.notification.message)
