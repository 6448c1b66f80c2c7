"""What the chat knows of the servers and may ask of the app: every profile's server with its state
and models (the picker, the error buttons), the active one's trouble (the banner), and the acts a
remedy button needs (switch profile, start the built-in server, open Settings). The app's sides are
given as plain calls (``ServerHooks``) so the chat imports none of them and tests can fake them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal

from trayai.core.errors import TrayaiError
from trayai.core.picker import DOWN, PickerServer
from trayai.core.remedies import Situation
from trayai.core.status import ServerState, StatusReport


@dataclass(frozen=True)
class ServerHooks:
    """The app's answers and acts about servers, as calls (each asked when needed, never cached)."""

    servers: Callable[[], list[PickerServer]]  # every profile's server: state and models
    report: Callable[[], StatusReport | None]  # the active server's last poll
    builtin_can_start: Callable[[], bool]  # installed, and not running or starting
    choose_profile: Callable[[str], None]
    start_builtin: Callable[[], None]
    open_settings: Callable[[], None]
    load_model: Callable[[str], None]  # into the active server's memory


class ServerLink(QObject):
    """Signal ``changed``: a server's state or models changed (the banner and the picker redraw)."""

    changed = Signal()

    def __init__(self, hooks: ServerHooks, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.hooks = hooks

    def servers(self) -> list[PickerServer]:
        return self.hooks.servers()

    def active(self) -> PickerServer | None:
        return next((s for s in self.servers() if s.active), None)

    def situation(self, model: str | None) -> Situation:
        """What a remedy button may offer now: the active server's models, the other ready servers."""
        servers = self.servers()
        active = next((s for s in servers if s.active), None)
        report = self.hooks.report()
        models = (
            [m.name for m in active.models]
            if active and active.models
            else list(report.models if report else [])
        )
        ready = [s.profile for s in servers if not s.active and s.state is ServerState.READY]
        return Situation(model, models, ready, self.hooks.builtin_can_start())

    def down_error(self) -> TrayaiError | None:
        """The active server's trouble when it cannot answer (unreachable, failing, refusing the key)."""
        report = self.hooks.report()
        if report is None or report.state not in DOWN:
            return None
        return report.error


__all__ = ["ServerHooks", "ServerLink"]
