"""The tray's picture of the moment: after every poll, server change or answer, the tooltip lines and
the menu model are put together from the monitor, the built-in server, the model side, the hotkey and
the last answer (the wording itself is Qt-free, in ``core/traymodel.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from trayai.core.embedded import RunState
from trayai.core.status import ServerState, StatusReport
from trayai.core.traymodel import MenuModel, menu_model, status_lines

if TYPE_CHECKING:
    from trayai.ui.builtin_side import BuiltinSide
    from trayai.ui.chat.surfaces import ChatSurfaces
    from trayai.ui.hotkeys.service import HotkeyService
    from trayai.ui.model_side import ModelSide
    from trayai.ui.monitor import StatusMonitor
    from trayai.ui.session import Session
    from trayai.ui.tray import TrayController

log = logging.getLogger(__name__)


class TrayStatus(QObject):
    def __init__(
        self,
        session: Session,
        monitor: StatusMonitor,
        builtin: BuiltinSide,
        models: ModelSide,
        chats: ChatSurfaces,
        hotkeys: HotkeyService,
        log_dir: str,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._monitor = monitor
        self._builtin = builtin
        self._models = models
        self._chats = chats
        self._hotkeys = hotkeys
        self._log_dir = log_dir
        self.tray: TrayController | None = None  # set once made (it reads menu_model to draw)
        self.downloads: Callable[[], list[str]] = list  # the library's download lines (LibraryOpener)

    def on_report(self, report: StatusReport) -> None:
        self._models.check_adapter(report)
        loaded = self._models.note_loaded(report)
        if loaded is not None:
            log.info("loaded on %s: %s", report.base_url, ", ".join(loaded) or "nothing")
        self.refresh()
        self._builtin.first_report(report)

    def refresh(self) -> None:
        """Tooltip and menu, redrawn from what every part says now."""
        if self.tray is None:
            return
        server, hotkey = self._builtin.server, self._hotkeys.status
        extra = status_lines(
            server_progress=server.last_progress if server.state is RunState.STARTING else None,
            usage=server.server.usage(),
            last_reply=self._chats.last_reply,
            hotkey_problem=None if hotkey is None or hotkey.active else hotkey.message,
        )
        extra[:0] = self.downloads() + self._models.actions.lines()
        fallback = self._models.fallback_line(self._monitor.report, self._chats.fallback_in_use)
        if fallback:
            extra.insert(0, fallback)
        self.tray.show_status(self._monitor.state or ServerState.STARTING, self._monitor.report, extra)
        self.tray.refresh_menu()

    def menu_model(self) -> MenuModel:
        session, models = self._session, self._models
        return menu_model(
            settings=session.settings,
            overrides=session.overrides(),
            base_url=session.active.base_url,
            state=self._monitor.state,
            report=self._monitor.report,
            builtin=self._builtin.facts(),
            log_dir=self._log_dir,
            operation=models.actions.operation or models.actions.pull_status,
            pulling=models.actions.pulling,
            servers=models.server_entries(self._monitor.report),
            fallback=models.fallback_line(self._monitor.report, self._chats.fallback_in_use),
            now=time.time(),
            active_profile=session.resolved.profile.name,  # --profile for this run wins over the saved one
            downloads=self.downloads(),
        )


__all__ = ["TrayStatus"]
