"""The built-in server as the app uses it: started when nothing answers at its port (once, after the
first poll), restarted with another model file from the tray, reconfigured when its settings change,
and its facts for the menu. Keeps ``ui/app.py`` to building and shutting down.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from trayai.core.embedded import RunState, is_builtin_url
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import ConfigError, TrayaiError, make_error
from trayai.core.settings.config import Settings
from trayai.core.status import ServerState, StatusReport
from trayai.core.traymodel import BuiltinFacts

if TYPE_CHECKING:
    from trayai.ui.local_server import LocalServerController
    from trayai.ui.monitor import StatusMonitor
    from trayai.ui.session import Session

log = logging.getLogger(__name__)


class BuiltinSide(QObject):
    """Signal ``changed``: its state or progress changed (the tooltip and menu redraw)."""

    changed = Signal()

    def __init__(
        self,
        session: Session,
        server: LocalServerController,
        monitor: StatusMonitor,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self.server = server
        self._monitor = monitor
        self._autostart_checked = False
        server.state_changed.connect(self._on_state)
        server.progress.connect(lambda _message: self.changed.emit())
        server.failed.connect(self._on_failed)
        session.settings_changed.connect(self._follow_settings)

    def facts(self) -> BuiltinFacts:
        engine = self.server.server
        on_demand = engine.settings.on_demand  # every model is served: Model ▸ loads and unloads them
        return BuiltinFacts(
            self.server.state,
            self.server.owned,
            "every library model, on demand" if on_demand else engine.alias,
            self.server.unavailable_reason(),
            [] if on_demand else [m.name for m in engine.available_models()],
        )

    def is_endpoint(self) -> bool:
        """The active endpoint is the built-in server's port."""
        return is_builtin_url(self._session.active.base_url, self._session.settings.builtin_server)

    def first_report(self, report: StatusReport) -> None:
        """After the first poll only: nothing answers at the built-in port → start it (autostart)."""
        if self._autostart_checked:
            return
        self._autostart_checked = True
        if report.state is ServerState.UNREACHABLE and self._should_autostart():
            log.info("nothing answers at %s: starting the built-in server", self._session.active.base_url)
            self.start()
        # After the decision, so a reader (the tests) that sees this line has seen the one above.
        log.info("first poll: %s", report.state.value)

    def _should_autostart(self) -> bool:
        return (
            self._session.settings.builtin_server.autostart
            and self.is_endpoint()
            and self.server.unavailable_reason() is None
        )

    def start(self) -> None:
        self._monitor.set_starting(starting=True)
        self.server.start()

    def stop(self) -> None:
        self._session.tasks.spawn(self.server.stop())

    async def serve_model(self, name: str) -> None:
        """Model ▸ Load on the built-in server: serve that file and wait until it is up. A running
        on-demand front serves every file already: choosing it is enough (a restart would cut answers)."""
        engine, running = self.server.server, self.server.state is RunState.RUNNING
        if running and engine.settings.on_demand and name in {m.name for m in engine.available_models()}:
            if self.is_endpoint():
                self._session.choose_model(name)
            return
        task = self.choose_model(name, raise_errors=True)
        if task is not None:
            await task
        if self.server.state is not RunState.RUNNING:
            raise make_error(ErrorCode.BUILTIN_FAILED, f"The built-in server could not start {name!r}")

    def choose_model(self, name: str, *, raise_errors: bool = False) -> asyncio.Task[None] | None:
        """Serve another GGUF: restart the built-in server with it and use it when it is the endpoint."""
        session = self._session
        try:
            model = self.server.server.select_model(name)
        except TrayaiError as exc:
            if raise_errors:
                raise
            session.notice.emit("Cannot serve that model", f"{exc.message}\n{exc.hint}")
            return None
        model_file = self.server.server.settings.model_file  # what select_model just set
        session.settings.builtin_server.model_file = model_file
        try:
            session.store.update(lambda saved: setattr(saved.builtin_server, "model_file", model_file))
        except (OSError, ConfigError) as exc:
            session.notice.emit("Could not save the model choice", str(exc))
        if self.is_endpoint():
            session.choose_model(model.name)
        self._monitor.set_starting(starting=True)
        task = self.server.switch_model(name)
        session.tasks.track(task)
        return task

    def _follow_settings(self, settings: Settings, old: Settings) -> None:
        if settings.builtin_server != old.builtin_server:
            self._session.tasks.spawn(self._reconfigure(settings))

    async def _reconfigure(self, settings: Settings) -> None:
        if await self.server.reconfigure(settings.builtin_server):
            self.start()

    def _on_state(self, state: RunState) -> None:
        if state is not RunState.STARTING:
            self._monitor.set_starting(starting=False)
            self._monitor.poll_now()
        self.changed.emit()

    def _on_failed(self, error: TrayaiError) -> None:
        self._session.notice.emit("Built-in server failed", f"{error.message}\n{error.hint.splitlines()[0]}")


__all__ = ["BuiltinSide"]
