"""``TrayApp``: the running GUI's services, built once and wired together, and their ordered shutdown
(docs/architecture.md, "The tray app").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QSystemTrayIcon, QWidget

from trayai.core.actions import action_from_command, find_action, unknown_action
from trayai.core.autostart import apply_autostart
from trayai.core.client import ModelClient
from trayai.core.config import ConfigError, ConfigStore, LoadedConfig, Settings
from trayai.core.embedded import EmbeddedServer, RunState, is_builtin_url
from trayai.core.errors import AppError, ErrorCode, TrayaiError, make_error
from trayai.core.launch import LaunchContext
from trayai.core.monitor import MonitorLogic, MonitorPolicy
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.resolve import ResolvedEndpoint, resolve_endpoint
from trayai.core.runtarget import RunTarget, target_from_command
from trayai.core.secrets import SecretStore
from trayai.core.status import ServerState, StatusReport
from trayai.core.traymodel import BuiltinFacts, MenuModel, menu_model, status_lines
from trayai.ui.activation import Activator
from trayai.ui.chat.surfaces import ChatSurfaces
from trayai.ui.hotkeys.service import HotkeyService
from trayai.ui.ipc import InstanceRequest, InstanceServer
from trayai.ui.local_server import LocalServerController
from trayai.ui.loop import install_asyncgen_hooks, release_cancelled_timers
from trayai.ui.model_side import ModelSide
from trayai.ui.monitor import StatusMonitor
from trayai.ui.settings.opener import SettingsOpener
from trayai.ui.startup import log_shown
from trayai.ui.tray import TrayController

log = logging.getLogger(__name__)


class TrayApp(QObject):
    """The running application: owns the services and reacts to the tray's and the IPC's signals."""

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
        self.run_target = run_target or RunTarget()  # --endpoint/--model/--profile: this run only
        # Knows every key resolved; the log, history and chat errors are redacted with it.
        self.redactor = redactor if redactor is not None else Redactor()
        self.paths = paths
        self.store = store
        self.loaded = loaded
        self.secrets = secrets
        self.instance = instance
        self._quit = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._autostart_checked = False
        self._shut_down = False
        self.resolved = self._resolve()
        settings = loaded.settings
        self.server = LocalServerController(
            EmbeddedServer(settings.builtin_server, paths.server_log_file, models_dir=paths.models_dir), self
        )
        self.monitor = StatusMonitor(
            MonitorLogic(
                MonitorPolicy(interval=settings.poll_interval), notifications=settings.notifications
            ),
            ModelClient(self.resolved.endpoint),
            self.resolved.model,
            self,
            redact=self.redactor.redact,
        )
        self.models = ModelSide(
            self.monitor,
            self.server,
            lambda: self.loaded.settings,
            lambda: self.loaded,
            secrets,
            self._resolve_profile,
            self.serve_model,
            self.redactor.redact,
            self,
        )
        self.monitor.use_managers(self.models.manager_for)
        # The chat side is built on first use: the tray alone stays light.
        self.chats = ChatSurfaces(
            paths.data_dir,
            self.redactor,
            lambda: self.resolved,
            self.monitor,
            self._notify,  # the tray is made next
            self._spawn,
            self,
            fallbacks=self.models.fallback_clients,
            presets=lambda: self.loaded.settings.presets,
        )
        self.tray = TrayController(
            self.menu_model,
            tray_available=tray_available,
            notifications=settings.notifications,
            left_click=settings.left_click,
            parent=self,
            tray_icon=tray_icon,
        )
        self.settings_opener = SettingsOpener(secrets, store, self.tray.message, self)
        self.hotkeys = HotkeyService(lambda: self.chats.prompt_window, self.open_prompt, self)
        self.activator = Activator(parent=self)  # a launcher's focus grant, for forwarded commands
        self._connect()

    # ------------------------------------------------------------------ wiring

    def _connect(self) -> None:
        self.monitor.state_changed.connect(lambda _state: self._refresh_status())
        self.monitor.report_changed.connect(self._on_report)
        self.monitor.notify.connect(self.tray.message)
        self.models.changed.connect(self._refresh_status)
        self.models.notify.connect(self.tray.message)
        self.tray.load_requested.connect(self.models.actions.load)
        self.tray.unload_requested.connect(self.models.actions.unload)
        self.tray.unload_all_requested.connect(self.models.actions.unload_all)
        self.tray.pull_requested.connect(self.models.actions.ask_pull)
        self.tray.pull_cancel_requested.connect(self.models.actions.cancel_pull)
        self.tray.menu_opened.connect(self.models.menu_opened)
        self.server.state_changed.connect(self._on_server_state)
        self.server.progress.connect(lambda _msg: self._refresh_status())
        self.server.failed.connect(self._on_server_failed)
        self.tray.quit_requested.connect(self.request_quit)
        self.tray.chat_requested.connect(self.open_chat)
        self.tray.settings_requested.connect(self.open_settings)
        self.tray.prompt_requested.connect(self.open_prompt)
        self.tray.action_requested.connect(self.run_action)
        self.tray.menu_opened.connect(self.monitor.poll_now)
        self.tray.model_chosen.connect(self.choose_model)
        self.tray.profile_chosen.connect(lambda name: self._spawn(self.choose_profile(name)))
        self.tray.server_start_requested.connect(self.start_server)
        self.tray.server_model_chosen.connect(self.choose_server_model)
        self.tray.server_stop_requested.connect(lambda: self._spawn(self.server.stop()))
        self.instance.request_received.connect(self._on_request)
        self.hotkeys.status_changed.connect(lambda _status: self._refresh_status())
        self.chats.finished.connect(lambda _outcome: self._refresh_status())
        self.settings_opener.applied.connect(lambda settings: self._spawn(self.apply_settings(settings)))
        self.tray.tray_appeared.connect(lambda: log.info("a system tray appeared: icon moved into it"))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        self._track(asyncio.ensure_future(coro))

    def _track(self, task: asyncio.Task[Any]) -> None:
        """Keep a reference until it ends (a bare task can be collected) and cancel it at shutdown."""
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _notify(self, title: str, text: str) -> None:
        self.tray.message(title, text)

    def _resolve_profile(self, name: str) -> ResolvedEndpoint:
        """A watched profile's endpoint (its key, if any, joins the redactor)."""
        resolved = resolve_endpoint(self.loaded, self.secrets, profile=name)
        if resolved.has_real_key:
            self.redactor.add_secret(resolved.endpoint.api_key)
        return resolved

    def _resolve(self) -> ResolvedEndpoint:
        target = self.run_target
        resolved = resolve_endpoint(
            self.loaded, self.secrets, profile=target.profile, base_url=target.base_url, model=target.model
        )
        if resolved.has_real_key:
            self.redactor.add_secret(resolved.endpoint.api_key)  # never logged, shown or stored
        return resolved

    # ------------------------------------------------------------------ run

    async def run(self, initial_command: str = "show") -> int:
        """Show the icon, start polling, handle ``initial_command``, then wait for Quit."""
        install_asyncgen_hooks(asyncio.get_running_loop())
        release_cancelled_timers(asyncio.get_running_loop())
        self.tray.show()
        self._refresh_status()
        if not self._early_icon:  # else the bootstrap said it when it showed that icon
            log_shown(tray=self.tray.tray is not None)
        for warning in self.loaded.warnings:
            self.tray.message("trayai configuration", warning)
        if self.tray.tray is None:
            log.warning("no system tray available: showing the status window instead")
        QTimer.singleShot(0, self.monitor.start)  # first poll after the icon is on screen
        QTimer.singleShot(0, self.models.start)
        QTimer.singleShot(0, self.register_hotkey)
        if initial_command != "show":
            self.handle_command(initial_command)
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
        for task in list(self._tasks):
            task.cancel()
        await self.chats.close()  # a running answer is stopped and saved before anything closes
        self.hotkeys.unregister()
        await self.models.close()
        await self.monitor.stop()
        await self.server.stop()
        self.tray.dispose()
        log.info("shutdown complete in %.2f s", time.monotonic() - started)

    def _on_request(self, request: InstanceRequest) -> None:
        self.handle_command(request.command, request.launch)

    def handle_command(self, command: str, launch: LaunchContext | None = None) -> None:
        """A command from the CLI or a second ``trayai`` (over IPC), shown with its launcher's focus
        grant (``ui/activation.py``); unknown ones are ignored."""
        launch = launch or LaunchContext()
        action_name = action_from_command(command)
        if action_name is not None:
            self.activator.summon(launch, lambda: self.run_action(action_name), self._window_for("prompt"))
            return
        target = target_from_command(command)
        if target is not None:
            self._spawn(self.retarget(target))
            return
        actions = {
            "quit": self.request_quit,
            "show": self.tray.bring_forward,
            "chat": self.open_chat,
            "settings": self.open_settings,
            "prompt": self.open_prompt,
        }
        action = actions.get(command)
        if action is not None:
            self.activator.summon(launch, action, self._window_for(command))

    def _window_for(self, command: str) -> Callable[[], QWidget | None]:
        """The window ``command`` shows (asked after it ran: it may have been made just then)."""
        windows: dict[str, Callable[[], QWidget | None]] = {
            "show": lambda: self.tray.window,
            "chat": lambda: self.chats.chat_window,
            "settings": lambda: self.settings_opener.dialog,
            "prompt": lambda: self.chats.prompt_window,
        }
        return windows.get(command, lambda: None)

    async def retarget(self, target: RunTarget) -> None:
        """A second ``trayai --endpoint …``: use that for this run (nothing is saved)."""
        previous, self.run_target = self.run_target, target
        if await self._switch_endpoint(always=True) is None:
            self.run_target = previous  # unusable (the user was told): keep what worked
            return
        self.models.settings_changed()
        self.tray.message("Endpoint for this run", f"{target.describe()} — not saved")
        log.info("retargeted for this run: %s", target.describe())

    # ------------------------------------------------------------------ chat

    def open_chat(self) -> None:
        self.chats.open_chat()

    def open_prompt(self) -> None:
        """Summon the quick prompt (made on first use) with the saved settings' actions."""
        self.chats.open_prompt()
        self._update_prompt_actions()

    def _update_prompt_actions(self) -> None:
        window = self.chats.prompt_window
        if window is not None:
            window.set_actions(self.loaded.settings.actions)

    def run_action(self, name: str) -> None:
        """Tray ▸ Actions, ``trayai prompt --action NAME``: open the quick prompt and run the action."""
        actions = self.loaded.settings.actions
        action = find_action(actions, name)
        if action is None:  # the CLI checked the file; the running app may have other settings
            self.tray.message("No such quick prompt action", unknown_action(name, actions))
            return
        self.open_prompt()
        window = self.chats.prompt_window
        if window is not None and window.isVisible():  # not over a modal dialog of the app
            window.run_action(action)

    def register_hotkey(self) -> None:
        self.hotkeys.register(self.loaded.settings.hotkey)

    # ------------------------------------------------------------------ settings

    def open_settings(self) -> None:
        self.settings_opener.open(self.loaded, self.hotkeys.note(), self.resolved)

    async def apply_settings(self, settings: Settings) -> None:
        """Make saved settings live: endpoint, polling, notifications, server, start at login."""
        old = self.loaded.settings
        self.loaded = replace(self.loaded, settings=settings)
        self.tray.notifications = settings.notifications
        self.tray.left_click = settings.left_click
        self.monitor.logic.notifications = settings.notifications
        self.monitor.logic.policy = replace(self.monitor.logic.policy, interval=settings.poll_interval)
        if settings.start_at_login != old.start_at_login:
            try:
                note = apply_autostart(enabled=settings.start_at_login)
                log.info("start at login: %s", note)
            except OSError as exc:
                self.tray.message("Start at login could not be changed", str(exc))
        if settings.hotkey != old.hotkey:
            self.register_hotkey()
        self._update_prompt_actions()
        self.models.settings_changed()
        if settings.builtin_server != old.builtin_server and await self.server.reconfigure(
            settings.builtin_server
        ):
            self.start_server()
        changed = await self._switch_endpoint(always=False)
        if changed is None:
            return
        self._refresh_status()
        log.info("settings applied (endpoint %s)", "changed" if changed else "unchanged")

    # ------------------------------------------------------------------ status

    def _on_report(self, report: StatusReport) -> None:
        self.models.check_adapter(report)
        loaded = self.models.note_loaded(report)
        if loaded is not None:
            log.info("loaded on %s: %s", report.base_url, ", ".join(loaded) or "nothing")
        self._refresh_status()
        if not self._autostart_checked:
            self._autostart_checked = True
            if report.state is ServerState.UNREACHABLE and self._should_autostart():
                log.info("nothing answers at %s: starting the built-in server", self.resolved.base_url)
                self.start_server()
            # After the decision, so a reader (the tests) that sees this line has seen the one above.
            log.info("first poll: %s", report.state.value)

    def _should_autostart(self) -> bool:
        return (
            self.loaded.settings.builtin_server.autostart
            and self._is_builtin_endpoint()
            and self.server.unavailable_reason() is None
        )

    def start_server(self) -> None:
        self.monitor.set_starting(starting=True)
        self.server.start()

    def _on_server_state(self, state: RunState) -> None:
        self.models.check_adapter(self.monitor.report)
        if state is not RunState.STARTING:
            self.monitor.set_starting(starting=False)
            self.monitor.poll_now()
        self._refresh_status()

    def _on_server_failed(self, error: TrayaiError) -> None:
        self.tray.message("Built-in server failed", f"{error.message}\n{error.hint.splitlines()[0]}")

    def _refresh_status(self) -> None:
        server, hotkey = self.server, self.hotkeys.status
        extra = status_lines(
            server_progress=server.last_progress if server.state is RunState.STARTING else None,
            usage=server.server.usage(),
            last_reply=self.chats.last_reply,
            hotkey_problem=None if hotkey is None or hotkey.active else hotkey.message,
        )
        extra[:0] = self.models.actions.lines()
        fallback = self.models.fallback_line(self.monitor.report, self.chats.fallback_in_use)
        if fallback:
            extra.insert(0, fallback)
        self.tray.show_status(self.monitor.state or ServerState.STARTING, self.monitor.report, extra)
        self.tray.refresh_menu()

    def menu_model(self) -> MenuModel:
        server = self.server.server
        builtin = BuiltinFacts(
            self.server.state,
            self.server.owned,
            server.alias,
            self.server.unavailable_reason(),
            [m.name for m in server.available_models()],
        )
        return menu_model(
            settings=self.loaded.settings,
            overrides={**self.loaded.overrides, **self.run_target.overrides()},
            base_url=self.resolved.base_url,
            state=self.monitor.state,
            report=self.monitor.report,
            builtin=builtin,
            log_dir=str(self.paths.log_dir),
            operation=self.models.actions.operation or self.models.actions.pull_status,
            pulling=self.models.actions.pulling,
            servers=self.models.server_entries(self.monitor.report),
            fallback=self.models.fallback_line(self.monitor.report, self.chats.fallback_in_use),
            now=time.time(),
            active_profile=self.resolved.profile.name,  # --profile for this run wins over the saved one
        )

    # ------------------------------------------------------------------ choices

    def choose_model(self, name: str) -> None:
        """Persist the model to the active profile and re-poll at once."""
        from trayai.core import config_edit

        profile = self.loaded.settings.active()
        profile.model = name
        try:  # this one field, on the file as it is now: the CLI or the dialog may have saved since
            self.store.update(lambda settings: config_edit.set_profile(settings, profile.name, model=name))
        except (OSError, ConfigError) as exc:
            self.tray.message("Could not save the model choice", str(exc))
        if self.run_target.model is not None:  # --model for this run: the new choice replaces it
            self.run_target = replace(self.run_target, model=name)
        self.resolved = replace(self.resolved, model=name)
        self.monitor.set_model(name)

    async def serve_model(self, name: str) -> None:
        """Model ▸ Load on the built-in server: serve that file and wait until it is up."""
        task = self.choose_server_model(name, raise_errors=True)
        if task is not None:
            await task
        if self.server.state is not RunState.RUNNING:
            raise make_error(ErrorCode.BUILTIN_FAILED, f"The built-in server could not start {name!r}")

    def choose_server_model(self, name: str, *, raise_errors: bool = False) -> asyncio.Task[None] | None:
        """Serve another GGUF: restart the built-in server with it and use it when it is the endpoint."""
        try:
            model = self.server.server.select_model(name)
        except TrayaiError as exc:
            if raise_errors:
                raise
            self.tray.message("Cannot serve that model", f"{exc.message}\n{exc.hint}")
            return None
        model_file = self.server.server.settings.model_file  # what select_model just set
        self.loaded.settings.builtin_server.model_file = model_file
        try:
            self.store.update(lambda settings: setattr(settings.builtin_server, "model_file", model_file))
        except (OSError, ConfigError) as exc:
            self.tray.message("Could not save the model choice", str(exc))
        if self._is_builtin_endpoint():
            self.choose_model(model.name)
        self.monitor.set_starting(starting=True)
        task = self.server.switch_model(name)
        self._track(task)
        return task

    def _is_builtin_endpoint(self) -> bool:
        return is_builtin_url(self.resolved.base_url, self.loaded.settings.builtin_server)

    async def choose_profile(self, name: str) -> None:
        settings = self.loaded.settings
        if not settings.has_profile(name) or name == settings.active().name:
            return
        settings.active_profile = name
        self.run_target = replace(self.run_target, profile=None)  # chosen now: it beats --profile
        from trayai.core import config_edit

        try:
            self.store.update(lambda saved: config_edit.use_profile(saved, name))
        except (OSError, ConfigError) as exc:
            self.tray.message("Could not save the endpoint choice", str(exc))
        await self._switch_endpoint(always=True)
        self.models.settings_changed()  # the old active profile joins the watched ones

    async def _switch_endpoint(self, *, always: bool) -> bool | None:
        """Resolve the active profile again and point the monitor (and so the chats) at it.

        Returns whether the endpoint or model changed (unchanged: ``always`` re-creates the client
        anyway, else a poll is requested), or None when the profile cannot be used (the user is told).
        """
        try:
            resolved = self._resolve()
        except AppError as exc:
            self.tray.message("This endpoint cannot be used", str(exc))
            return None
        changed = resolved.endpoint != self.resolved.endpoint or resolved.model != self.resolved.model
        self.resolved = resolved
        if changed or always:
            await self.monitor.set_endpoint(ModelClient(resolved.endpoint), resolved.model)
        else:
            self.monitor.poll_now()
        return changed


def run_app(command: str = "show", *, debug: bool = False, target: RunTarget | None = None) -> int:
    """Kept here for ``trayai.cli``'s import; the bootstrap itself is :mod:`trayai.ui.bootstrap`."""
    from trayai.ui.bootstrap import run_app as bootstrap

    return bootstrap(command, debug=debug, target=target)


__all__ = ["TrayApp", "run_app"]
