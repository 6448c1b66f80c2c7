"""Watching every profile's server from the tray: one timer, looks as asyncio tasks, each server at
its own pace with back-off (decisions in ``core/fleet.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from trayai.core.errors import AppError
from trayai.core.fleet import FleetLogic, ServerLook, look, quick_endpoint
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.client import ModelClient
from trayai.core.settings.resolve import ResolvedEndpoint
from trayai.core.status import ServerState
from trayai.core.tasks import TaskOwner

log = logging.getLogger(__name__)


class FleetWatcher(QObject):
    """Keeps one client per profile (kept-alive connections make a look cheap)."""

    changed = Signal()  # a look finished
    notify = Signal(str, str)  # a watched server went down or came back (when enabled)

    def __init__(
        self,
        logic: FleetLogic,
        resolve: Callable[[str], ResolvedEndpoint],
        parent: QObject | None = None,
        *,
        notifications: bool = False,
    ) -> None:
        super().__init__(parent)
        self.logic = logic
        self.notifications = notifications
        self._resolve = resolve
        self._clients: dict[str, tuple[ResolvedEndpoint, ModelClient, ModelManager]] = {}
        self._tasks = TaskOwner()  # "look:PROFILE" per server (never two at once); client closes
        self._running = False
        self.looks_taken = 0  # observability for tests and the benchmark
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._tick)

    def start(self, profiles: list[str]) -> None:
        self._running = True
        self.set_profiles(profiles)

    def set_profiles(self, profiles: list[str]) -> None:
        """Follow the settings; a changed profile gets a new client on its next look."""
        self.logic.set_profiles(profiles)
        for name in list(self._clients):
            if name not in profiles and not name.startswith("chat:"):
                self._retire(name)
        self._schedule(0)

    def look_now(self, profile: str | None = None) -> None:
        """Look again soon (the menu opened; a profile was edited)."""
        for watch in self.logic.watches.values():
            if profile is None or watch.profile == profile:
                watch.due = 0.0
        self._schedule(0)

    def looks(self) -> list[ServerLook]:
        return self.logic.looks()

    def _schedule(self, delay: float) -> None:
        if self._running:
            self._timer.start(int(max(0.0, delay) * 1000))

    def _tick(self) -> None:
        for profile in self.logic.due():
            key = f"look:{profile}"
            if self._tasks.get(key) is None:
                self._tasks.exclusive(key, self._look(profile))
        self._schedule(max(self.logic.next_delay(), 0.5))

    def client_for(self, resolved: ResolvedEndpoint) -> ModelClient:
        """A kept-alive client for a profile's full endpoint (chat fallbacks), made once per endpoint."""
        key = f"chat:{resolved.profile.name}"
        held = self._clients.get(key)
        if held is not None and held[0].endpoint == resolved.endpoint:
            return held[1]
        if held is not None:
            self._retire(key)
        client = ModelClient(resolved.endpoint)
        self._clients[key] = (resolved, client, ModelManager(client))
        return client

    def _client(self, profile: str) -> tuple[ResolvedEndpoint, ModelClient, ModelManager]:
        resolved = quick_endpoint(self._resolve(profile))
        held = self._clients.get(profile)
        if held is not None and held[0].endpoint == resolved.endpoint and held[0].model == resolved.model:
            return held
        if held is not None:
            self._retire(profile)
        client = ModelClient(resolved.endpoint)
        held = (resolved, client, ModelManager(client))
        self._clients[profile] = held
        return held

    def _retire(self, profile: str) -> None:
        held = self._clients.pop(profile, None)
        if held is not None:
            self._tasks.spawn(held[1].aclose())

    async def _look(self, profile: str) -> None:
        try:
            resolved, client, manager = self._client(profile)
            seen = await look(resolved, client, manager)
        except AppError as exc:
            seen = ServerLook(profile, "", ServerState.ERROR, problem=str(exc))
        except Exception:  # never let one server's look stop the watching
            log.exception("looking at %s failed", profile)
            return
        self.looks_taken += 1
        note = self.logic.record(seen)
        if note is not None and self.notifications:
            self.notify.emit("Server " + ("back" if seen.up else "down"), note)
        self.changed.emit()

    async def stop(self) -> None:
        self._running = False
        self._timer.stop()
        await self._tasks.cancel_all()
        for _, client, _ in self._clients.values():
            await client.aclose()
        self._clients.clear()
