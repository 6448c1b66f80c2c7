"""The tray's model side, wired once: the model manager for the active endpoint (the built-in
server's own adapter when trayai runs it), the tray's load / unload / pull actions, and the watch
over every other profile's server (Servers ▸). Keeps ``ui/app.py`` to the app's own wiring.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from trayai.core.chat.fallback import fallback_chain
from trayai.core.embedded import RunState, is_builtin_url
from trayai.core.fleet import FleetLogic, ServerLook, WatchPace
from trayai.core.net.backends.builtin import BuiltinBackend, BuiltinControl
from trayai.core.net.backends.http import ServerHttp
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.urls import host_port
from trayai.core.status import StatusReport
from trayai.core.traymodel import ServerEntry, server_entries
from trayai.ui.fleet import FleetWatcher
from trayai.ui.model_actions import ModelActions

if TYPE_CHECKING:
    from trayai.core.net.client import ModelClient
    from trayai.core.settings.resolve import ResolvedEndpoint
    from trayai.ui.local_server import LocalServerController
    from trayai.ui.monitor import StatusMonitor
    from trayai.ui.session import Session

HURRY_SECONDS = 30.0  # fast polling after an action, until the state has had time to change


class ModelSide(QObject):
    changed = Signal()  # redraw the tooltip and (when closed) the menu
    notify = Signal(str, str)

    def __init__(
        self,
        session: Session,
        monitor: StatusMonitor,
        server: LocalServerController,
        serve_model: Callable[[str], Awaitable[None]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self.monitor = monitor
        self.server = server
        self._serve_model = serve_model
        self.actions = ModelActions(lambda: self.monitor.manager, session.redactor.redact, self)
        settings = session.settings
        pace = WatchPace(interval=max(settings.poll_interval * 6, 30.0))
        self.fleet = FleetWatcher(
            FleetLogic(pace), session.resolve_profile, self, notifications=settings.server_notifications
        )
        self._builtin_adapter = False
        self._last_loaded: list[str] | None = None
        self.actions.changed.connect(self._on_action_changed)
        self.actions.finished.connect(self.monitor.poll_now)
        self.actions.notify.connect(self.notify)
        self.fleet.changed.connect(self.changed)
        self.fleet.notify.connect(self.notify)
        session.settings_changed.connect(lambda _new, _old: self.settings_changed())

    # ------------------------------------------------------------------ the active endpoint's manager

    def manager_for(self, client: ModelClient) -> ModelManager:
        """The built-in server's adapter while trayai runs (or would run) it there; else fingerprinting."""
        self._builtin_adapter = self._wants_builtin(client.base_url)
        if not self._builtin_adapter:
            return ModelManager(client)
        return ModelManager(client, backend=BuiltinBackend(ServerHttp(client), self._control()))

    def _wants_builtin(self, base_url: str, report: StatusReport | None = None) -> bool:
        settings = self._session.settings.builtin_server
        if not is_builtin_url(base_url, settings) or self.server.unavailable_reason() is not None:
            return bool(is_builtin_url(base_url, settings) and self.server.owned)
        if self.server.owned or self.server.state in (RunState.STARTING, RunState.FAILED):
            return True
        return report is None or not report.reachable  # another server answering there is its own

    def check_adapter(self, report: StatusReport | None) -> None:
        """After a poll or a server change: switch adapters when who answers the port has changed."""
        wanted = self._wants_builtin(self.monitor.client.base_url, report)
        if wanted != self._builtin_adapter:
            self.monitor.rebuild_manager()

    def _control(self) -> BuiltinControl:
        engine = self.server.server

        async def stop() -> None:
            await self.server.stop()

        return BuiltinControl(
            available=lambda: [(m.name, m.size) for m in engine.available_models()],
            served=lambda: engine.alias,
            state=lambda: self.server.state,
            context=lambda: engine.settings.context_size,
            switch=self._serve_model,
            stop=stop,
        )

    # ------------------------------------------------------------------ actions and the fleet

    def _on_action_changed(self) -> None:
        if self.actions.busy:
            self.monitor.logic.hurry(HURRY_SECONDS)
        self.changed.emit()

    def start(self) -> None:
        self.fleet.start(self._others())

    def settings_changed(self) -> None:
        self.fleet.notifications = self._session.settings.server_notifications
        self.fleet.set_profiles(self._others())

    def _others(self) -> list[str]:
        settings = self._session.settings
        if not settings.watch_servers:
            return []
        active = settings.active().name
        return [p.name for p in settings.profiles if p.name != active]

    def menu_opened(self) -> None:
        self.fleet.look_now()

    def server_entries(self, active_report: StatusReport | None) -> list[ServerEntry]:
        """Servers ▸: every profile — the active one from the monitor's report, the others from the
        fleet when it watches them, else "not watched" (choosing one still switches to it)."""
        settings = self._session.settings
        resolved = self._session.resolved
        active = resolved.own_profile or ""  # --endpoint elsewhere: no profile is the active one
        watching = settings.watch_servers and len(settings.profiles) > 1
        looks = {look.profile: look for look in self.fleet.looks()} if watching else {}
        if active_report is not None and active:
            snap = active_report.snapshot
            looks[active] = ServerLook(
                active,
                active_report.base_url,
                active_report.state,
                None if snap is None or snap.error is not None else snap.kind,
                None if snap is None or not snap.caps.loaded_state else [m.id for m in snap.loaded],
            )
        ordered = [looks[p.name] for p in settings.profiles if p.name in looks]
        unwatched = {p.name: host_port(p.base_url) for p in settings.profiles if p.name not in looks}
        return server_entries(ordered, active, unwatched)

    def fallback_clients(self) -> list[tuple[ResolvedEndpoint, ModelClient]]:
        """The active profile's usable fallbacks (stored keys only), each with a kept-alive client."""
        session = self._session
        chain = fallback_chain(
            session.loaded, session.secrets, session.resolved, session.known, explicit=session.explicit()
        )
        return [(r, self.fleet.client_for(r)) for r in chain.endpoints[1:]]

    def fallback_line(self, report: StatusReport | None, answered_by: str | None) -> str | None:
        """The tooltip's "Using fallback 'x'" while the active server is down (or last answered so)."""
        names = self._session.settings.active().fallback_names()
        if not names:
            return None
        if report is not None and not report.reachable:
            looks = {look.profile: look for look in self.fleet.looks()}
            up = next((n for n in names if n in looks and looks[n].up), None)
            if up is not None:
                return f"Using fallback {up!r}: the active server is down"
            return "Fallbacks: none of them answers either"
        if answered_by:
            return f"The last answer came from fallback {answered_by!r}"
        return None

    def note_loaded(self, report: StatusReport) -> list[str] | None:
        """The loaded models when they changed since the last report (for the log), else None."""
        snap = report.snapshot
        if snap is None or snap.error is not None or not snap.caps.loaded_state:
            return None
        loaded = [m.id for m in snap.loaded]
        if loaded == self._last_loaded:
            return None
        self._last_loaded = loaded
        return loaded

    def now(self) -> float:
        return time.time()

    async def close(self) -> None:
        await self.actions.close()
        await self.fleet.stop()


__all__ = ["ModelSide"]
