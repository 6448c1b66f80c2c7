"""``TrayApp``: the running GUI's parts, built once and wired together, and their ordered shutdown
(docs/architecture.md, "The tray app"). The live state and every change to it belong to the session
(``ui/session.py``); the parts subscribe to it rather than being pushed to from here.
"""

from __future__ import annotations

import asyncio
import logging
import time

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QSystemTrayIcon

from trayai.core.autostart import apply_autostart
from trayai.core.embedded import EmbeddedServer
from trayai.core.monitor import MonitorLogic, MonitorPolicy
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.runtarget import RunTarget
from trayai.core.settings.config import Settings
from trayai.core.settings.secrets import SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig
from trayai.ui.builtin_side import BuiltinSide
from trayai.ui.chat.surfaces import ChatSurfaces
from trayai.ui.commands import AppCommands
from trayai.ui.hotkeys.service import HotkeyService
from trayai.ui.ipc import InstanceServer
from trayai.ui.library.opener import LibraryOpener
from trayai.ui.local_server import LocalServerController
from trayai.ui.loop import adopt_loop
from trayai.ui.model_side import ModelSide
from trayai.ui.monitor import StatusMonitor
from trayai.ui.session import Session
from trayai.ui.settings.opener import SettingsOpener
from trayai.ui.startup import log_shown
from trayai.ui.theme import AppearanceKeeper
from trayai.ui.tray import TrayController
from trayai.ui.tray_status import TrayStatus

log = logging.getLogger(__name__)


class TrayApp(QObject):
    """The running application: builds the parts, connects them, runs until Quit, shuts down in order."""

    def __init__(
        self,
        paths: AppPaths,
        store: ConfigStore,
        loaded: LoadedConfig,
        secrets: SecretStore,
        instance: InstanceServer,
        *,
        tray_available: bool,
        redactor: Redactor | None = None,
        run_target: RunTarget | None = None,
        tray_icon: QSystemTrayIcon | None = None,
    ) -> None:
        super().__init__()
        self._early_icon = tray_icon is not None  # shown by the bootstrap before all this was built
        self.paths = paths
        self.instance = instance
        self._quit = asyncio.Event()
        self._shut_down = False
        self.session = session = Session(store, loaded, secrets, redactor or Redactor(), run_target, self)
        settings = session.settings
        self.appearance = AppearanceKeeper.of_app(settings)
        if self.appearance is not None:
            session.settings_changed.connect(self.appearance.follow)
        self.server = LocalServerController(
            EmbeddedServer(settings.builtin_server, paths.server_log_file, models_dir=paths.models_dir), self
        )
        policy = MonitorPolicy(interval=settings.poll_interval)
        self.monitor = StatusMonitor(
            MonitorLogic(policy, notifications=settings.notifications),
            session.active.client,
            session.active.model,
            self,
            redact=session.redactor.redact,
        )
        self.builtin = BuiltinSide(session, self.server, self.monitor, self)
        self.models = ModelSide(session, self.monitor, self.server, self.builtin.serve_model, self)
        self.monitor.use_managers(self.models.manager_for)
        self.chats = ChatSurfaces(  # built on first use: the tray alone stays light
            paths.data_dir,
            session,
            self.monitor,
            self,
            fallbacks=self.models.fallback_clients,
            models=self.models,
            builtin=self.builtin,
            tools=session.tools,
        )
        self.hotkeys = HotkeyService(lambda: self.chats.prompt_window, self._summon_prompt, self)
        self.status = TrayStatus(
            session,
            self.monitor,
            self.builtin,
            self.models,
            self.chats,
            self.hotkeys,
            str(paths.log_dir),
            self,
        )
        self.tray = TrayController(
            self.status.menu_model,
            tray_available=tray_available,
            notifications=settings.notifications,
            left_click=settings.left_click,
            parent=self,
            tray_icon=tray_icon,
            tools=session.tools,
        )
        self.status.tray = self.tray
        self.settings_opener = SettingsOpener(secrets, store, self.tray.message, self, tools=session.tools)
        # Get models…: the window and its downloads are made on first use (the tray reads their lines).
        models_dir = lambda: self.server.server.models_dir  # noqa: E731 - read when the window asks
        on_disk = self.server.server.available_models  # the same server object for the app's life
        self.library = LibraryOpener(
            secrets, models_dir, self.builtin.serve_model, self, store=store, local_models=on_disk
        )
        self.status.downloads = self.library.download_lines
        self.commands = AppCommands(
            session,
            self.chats,
            self.tray,
            self.settings_opener,
            self.hotkeys,
            self.library,
            self.request_quit,
            self,
        )
        self._connect()

    def _summon_prompt(self) -> None:
        self.commands.open_prompt()  # the hotkey is made before the commands it triggers

    @property
    def loaded(self) -> LoadedConfig:
        return self.session.loaded

    # ------------------------------------------------------------------ wiring

    def _connect(self) -> None:
        session, tray, models, refresh = self.session, self.tray, self.models, self.status.refresh
        session.notice.connect(tray.message)
        session.endpoint_changed.connect(self.monitor.follow)
        session.endpoint_changed.connect(lambda _active: refresh())
        session.settings_changed.connect(self.monitor.follow_settings)
        session.settings_changed.connect(self._follow_settings)
        self.settings_opener.applied.connect(session.apply)  # OK: every part follows
        self.monitor.state_changed.connect(lambda _state: refresh())
        self.monitor.report_changed.connect(self.status.on_report)
        self.monitor.notify.connect(tray.message)
        models.changed.connect(refresh)
        models.notify.connect(tray.message)
        self.server.state_changed.connect(lambda _state: models.check_adapter(self.monitor.report))
        self.builtin.changed.connect(refresh)
        self.library.downloads_changed.connect(refresh)
        self.library.notice.connect(tray.message)
        tray.load_requested.connect(models.actions.load)
        tray.unload_requested.connect(models.actions.unload)
        tray.unload_all_requested.connect(models.actions.unload_all)
        tray.pull_requested.connect(models.actions.ask_pull)
        tray.pull_cancel_requested.connect(models.actions.cancel_pull)
        tray.menu_opened.connect(models.menu_opened)
        tray.menu_opened.connect(self.monitor.poll_now)
        tray.check_requested.connect(self.monitor.poll_now)
        tray.quit_requested.connect(self.request_quit)
        tray.chat_requested.connect(self.commands.open_chat)
        tray.settings_requested.connect(self.commands.open_settings)
        tray.tools_settings_requested.connect(self.commands.open_settings)
        self.chats.settings_requested.connect(self.commands.open_settings)
        tray.prompt_requested.connect(self.commands.open_prompt)
        tray.library_requested.connect(self.commands.open_library)
        tray.action_requested.connect(self.commands.run_action)
        tray.model_chosen.connect(session.choose_model)
        tray.profile_chosen.connect(session.choose_profile)
        tray.server_start_requested.connect(self.builtin.start)
        tray.server_model_chosen.connect(self.builtin.choose_model)
        tray.server_stop_requested.connect(self.builtin.stop)
        tray.tray_appeared.connect(lambda: log.info("a system tray appeared: icon moved into it"))
        self.instance.request_received.connect(
            lambda request: self.commands.handle(request.command, request.launch)
        )
        self.hotkeys.status_changed.connect(lambda _status: refresh())
        self.chats.finished.connect(lambda _outcome: refresh())

    def _follow_settings(self, settings: Settings, old: Settings) -> None:
        """What no part owns: the tray's own options, start at login and the hotkey."""
        self.tray.notifications = settings.notifications
        self.tray.left_click = settings.left_click
        if settings.start_at_login != old.start_at_login:
            try:
                log.info("start at login: %s", apply_autostart(enabled=settings.start_at_login))
            except OSError as exc:
                self.tray.message("Start at login could not be changed", str(exc))
        if settings.hotkey != old.hotkey:
            self.register_hotkey()

    def register_hotkey(self) -> None:
        self.hotkeys.register(self.session.settings.hotkey)

    # ------------------------------------------------------------------ run

    async def run(self, initial_command: str = "show") -> int:
        """Show the icon, start polling, handle ``initial_command``, then wait for Quit."""
        adopt_loop(asyncio.get_running_loop())
        self.tray.show()
        self.status.refresh()
        if not self._early_icon:  # else the bootstrap said it when it showed that icon
            log_shown(tray=self.tray.tray is not None)
        for warning in self.session.loaded.warnings:
            self.tray.message("trayai configuration", warning)
        if self.tray.tray is None:
            log.warning("no system tray available: showing the status window instead")
        for start in (self.monitor.start, self.models.start, self.register_hotkey, self.session.tools.start):
            QTimer.singleShot(0, start)  # after the icon is on screen (tool servers: in the background)
        if initial_command != "show":
            self.commands.handle(initial_command)
        await self._quit.wait()
        await self.shutdown()
        return 0

    def request_quit(self) -> None:
        self._quit.set()

    async def shutdown(self) -> None:
        """Ordered shutdown, under 2 s: polling/HTTP, built-in server, icon."""
        if self._shut_down:
            return
        self._shut_down = True
        started = time.monotonic()
        self.instance.close()
        await self.session.tasks.cancel_all()
        await self.chats.close()  # a running answer is stopped and saved before anything closes
        self.hotkeys.unregister()
        await self.models.close()
        await self.library.close()  # downloads leave their parts to resume next time
        await self.monitor.stop()
        await self.server.stop()
        await self.session.tools.close()  # no stdio tool server outlives the app
        self.tray.dispose()
        log.info("shutdown complete in %.2f s", time.monotonic() - started)


__all__ = ["TrayApp"]
