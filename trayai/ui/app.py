"""The one place that wires trayai's GUI together, in a fixed order.

1. arguments (done by the CLI) → 2. single instance: forward the command to a running trayai and exit,
or listen → 3. QApplication (no quit on last window closed) → 4. services built once and passed in
(config, secrets, HTTP client, monitor, built-in server) → 5. the qasync loop → 6. ordered shutdown:
stop polling and close HTTP, stop the built-in server if we started it, hide the icon.

Start-up is kept light: ``openai``/``httpx2`` are imported by the first poll, after the icon shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from trayai import APP_NAME, __version__
from trayai.core.autostart import apply_autostart
from trayai.core.client import ModelClient
from trayai.core.config import ConfigError, ConfigStore, LoadedConfig, Override, Settings
from trayai.core.embedded import EmbeddedServer, RunState, is_builtin_url
from trayai.core.errors import AppError, TrayaiError
from trayai.core.logs import setup_logging
from trayai.core.monitor import MonitorLogic, MonitorPolicy
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.resolve import ResolvedEndpoint, resolve_endpoint
from trayai.core.secrets import SecretStore
from trayai.core.status import ServerState, StatusReport
from trayai.ui.icons import app_icon
from trayai.ui.ipc import InstanceServer, send_command, socket_name
from trayai.ui.local_server import LocalServerController
from trayai.ui.loop import install_asyncgen_hooks, release_cancelled_timers
from trayai.ui.monitor import StatusMonitor
from trayai.ui.tray import MenuModel, TrayController

if TYPE_CHECKING:  # the chat side is imported when first opened: the tray starts lighter
    from trayai.core.history import HistoryStore
    from trayai.ui.chat.controller import ChatController, ChatTarget, ReplyOutcome
    from trayai.ui.chat.window import ChatWindow
    from trayai.ui.hotkeys.base import HotkeyBackend, Registration
    from trayai.ui.prompt.window import QuickPromptWindow
    from trayai.ui.settings.dialog import SettingsDialog

log = logging.getLogger(__name__)


def _process_started() -> float:
    """When this process was created (interpreter start included), for the start-up figure."""
    try:
        import psutil

        return float(psutil.Process().create_time())
    except Exception:  # pragma: no cover - psutil is a dependency; be safe anyway
        return time.time()


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
    ) -> None:
        super().__init__()
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
        self.tray = TrayController(
            self.menu_model,
            tray_available=tray_available,
            notifications=settings.notifications,
            left_click=settings.left_click,
            parent=self,
        )
        # The chat side is built on first use: the tray alone stays light.
        self.history: HistoryStore | None = None
        self.chat: ChatController | None = None
        self.chat_window: ChatWindow | None = None
        self._last_reply: str | None = None  # "Last answer: 45.1 tok/s, first token 0.21 s" (tooltip)
        self.settings_dialog: SettingsDialog | None = None
        self.prompt_window: QuickPromptWindow | None = None
        self.prompt_chat: ChatController | None = None
        self.hotkeys: HotkeyBackend | None = None
        self.hotkey_status: Registration | None = None
        self._connect()

    # ------------------------------------------------------------------ wiring

    def _connect(self) -> None:
        self.monitor.state_changed.connect(lambda _state: self._refresh_status())
        self.monitor.report_changed.connect(self._on_report)
        self.monitor.notify.connect(self.tray.message)
        self.server.state_changed.connect(self._on_server_state)
        self.server.progress.connect(lambda _msg: self._refresh_status())
        self.server.failed.connect(self._on_server_failed)
        self.tray.quit_requested.connect(self.request_quit)
        self.tray.chat_requested.connect(self.open_chat)
        self.tray.settings_requested.connect(self.open_settings)
        self.tray.prompt_requested.connect(self.open_prompt)
        self.tray.menu_opened.connect(self.monitor.poll_now)
        self.tray.model_chosen.connect(self.choose_model)
        self.tray.profile_chosen.connect(lambda name: self._spawn(self.choose_profile(name)))
        self.tray.server_start_requested.connect(self.start_server)
        self.tray.server_model_chosen.connect(self.choose_server_model)
        self.tray.server_stop_requested.connect(lambda: self._spawn(self.server.stop()))
        self.instance.command_received.connect(self.handle_command)
        self.tray.tray_appeared.connect(lambda: log.info("a system tray appeared: icon moved into it"))

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> None:
        task: asyncio.Task[Any] = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _resolve(self) -> ResolvedEndpoint:
        resolved = resolve_endpoint(self.loaded, self.secrets)
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
        loaded_modules = {m: m in sys.modules for m in ("openai", "httpx2", "httpx", "pygments")}
        log.info(
            "startup: tray shown %.3f s after process start (tray=%s); modules loaded: %s",
            time.time() - _process_started(),
            self.tray.tray is not None,
            loaded_modules,
        )
        for warning in self.loaded.warnings:
            self.tray.message("trayai configuration", warning)
        if self.tray.tray is None:
            log.warning("no system tray available: showing the status window instead")
        QTimer.singleShot(0, self.monitor.start)  # first poll after the icon is on screen
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
        if self.chat is not None:  # a running answer is stopped and saved before anything closes
            self.chat.stop()
            await self.chat.wait_idle()
        if self.prompt_chat is not None:
            self.prompt_chat.stop()
            await self.prompt_chat.wait_idle()
        if self.prompt_window is not None:
            self.prompt_window.hide()
            self.prompt_window.deleteLater()
            self.prompt_window = None
        if self.hotkeys is not None:
            self.hotkeys.unregister()
        if self.chat_window is not None:
            self.chat_window.save_state()
            self.chat_window.hide()
            self.chat_window.deleteLater()
            self.chat_window = None
        if self.history is not None:
            self.history.close()
        await self.monitor.stop()
        await self.server.stop()
        self.tray.dispose()
        log.info("shutdown complete in %.2f s", time.monotonic() - started)

    def handle_command(self, command: str) -> None:
        if command == "quit":
            self.request_quit()
        elif command == "show":
            self.tray.bring_forward()
        elif command == "chat":
            self.open_chat()
        elif command == "settings":
            self.open_settings()
        elif command == "prompt":
            self.open_prompt()

    # ------------------------------------------------------------------ chat

    def open_chat(self) -> None:
        """Show the chat window, creating history, controller and window the first time."""
        if self.chat_window is None:
            from trayai.ui.chat.controller import ChatController
            from trayai.ui.chat.warmup import warm_up_chat
            from trayai.ui.chat.window import ChatWindow

            history = self._open_history()
            if history is None:
                return
            self.chat = ChatController(history, self.chat_target, self)
            self.chat.busy_changed.connect(self._on_chat_busy)
            self.chat.finished.connect(self._on_chat_finished)
            self.chat.failed.connect(self._on_chat_failed)
            self.chat_window = ChatWindow(
                self.chat, history, state_file=self.paths.data_dir / "window-state.ini"
            )
            self.chat_window.setWindowIcon(app_icon())
            self.monitor.report_changed.connect(self._update_chat_models)
            self._spawn(warm_up_chat(self.monitor.client))  # ready before the first prompt is typed
            if self.monitor.report is not None:
                self._update_chat_models(self.monitor.report)
        self.chat_window.bring_forward()
        log.info("chat window shown")

    def _open_history(self) -> HistoryStore | None:
        """The history database, opened once for the chat window and the quick prompt."""
        if self.history is not None:
            return self.history
        from trayai.core.history import HistoryError, HistoryStore

        try:
            history = HistoryStore.in_dir(self.paths.data_dir, redactor=self.redactor)
        except HistoryError as exc:
            self.tray.message("The chat history cannot be opened", str(exc))
            return None
        history.purge_deleted(older_than=24 * 3600)  # deletions stay undoable for a day
        history.recover_interrupted()  # answers cut by a crash or SIGKILL of an earlier run
        if history.recovered_from is not None:
            log.warning("history database was damaged: moved to %s", history.recovered_from)
            self.tray.message(
                "Chat history was damaged",
                f"It was moved to {history.recovered_from}; a new one was started.",
            )
        self.history = history
        return history

    # ------------------------------------------------------------------ quick prompt and hotkey

    def open_prompt(self) -> None:
        """Summon the quick prompt (hotkey, ``trayai prompt``, tray menu)."""
        if self.prompt_window is None:
            from trayai.ui.chat.controller import ChatController
            from trayai.ui.chat.warmup import warm_up_chat
            from trayai.ui.prompt.window import QuickPromptWindow

            history = self._open_history()
            if history is None:
                return
            self.prompt_chat = ChatController(history, self.chat_target, self)
            self.prompt_chat.busy_changed.connect(self._on_chat_busy)
            self.prompt_chat.finished.connect(self._on_chat_finished)
            self.prompt_chat.failed.connect(self._on_chat_failed)
            self.prompt_window = QuickPromptWindow(
                self.prompt_chat, state_file=self.paths.data_dir / "window-state.ini"
            )
            self.prompt_window.open_in_chat.connect(self._continue_in_chat)
            self._spawn(warm_up_chat(self.monitor.client))
        self.prompt_window.summon()

    def _continue_in_chat(self, conversation_id: int) -> None:
        self.open_chat()
        if self.chat_window is not None:
            self.chat_window.refresh_sidebar()
            self.chat_window.open_conversation(conversation_id)

    def register_hotkey(self) -> None:
        """(Re-)register the configured hotkey; the outcome shows in the tooltip and Settings."""
        from trayai.core.hotkeys import HotkeyError, parse_hotkey
        from trayai.ui.hotkeys import create_backend
        from trayai.ui.hotkeys.base import Registration

        text = self.loaded.settings.hotkey
        if self.hotkeys is not None:
            self.hotkeys.unregister()
        if not text.strip():
            self.hotkey_status = Registration(
                False, "none", "No hotkey set: `trayai prompt` opens the quick prompt."
            )
            self._refresh_status()
            return
        try:
            hotkey = parse_hotkey(text)
        except HotkeyError as exc:
            self.hotkey_status = Registration(False, "none", f"Hotkey not used: {exc}")
            self._refresh_status()
            return
        if self.hotkeys is None:
            self.hotkeys = create_backend(self)
            self.hotkeys.activated.connect(self._on_hotkey)
            self.hotkeys.status_changed.connect(self._on_hotkey_status)
        self._on_hotkey_status(self.hotkeys.register(hotkey))

    def _on_hotkey(self) -> None:
        window = self.prompt_window
        if window is not None and window.isVisible() and window.isActiveWindow():
            window.dismiss()  # the hotkey toggles
            return
        self.open_prompt()
        window = self.prompt_window
        if window is not None and window.isVisible() and self.hotkeys is not None:
            self.hotkeys.grant_focus(int(window.winId()))

    def _on_hotkey_status(self, status: Registration) -> None:
        self.hotkey_status = status
        if not status.active:
            log.warning("hotkey: %s", status.message)
        self._refresh_status()

    def chat_target(self) -> ChatTarget:
        from trayai.ui.chat.controller import ChatTarget

        profile = self.resolved.profile
        report = self.monitor.report
        resolved_model = report.resolved_model if report is not None else None
        return ChatTarget(
            client=self.monitor.client,
            model=resolved_model or self.monitor.model,
            profile=profile.name,
            generation=profile.generation,
            context_tokens=profile.context_tokens,  # 0: the chat asks the server (llama.cpp /props)
        )

    def _on_chat_busy(self, busy: bool) -> None:
        if busy:
            self.monitor.request_started()

    def _on_chat_finished(self, outcome: ReplyOutcome) -> None:
        meta = outcome.message.meta
        tps, ttft = meta.get("tokens_per_second"), meta.get("ttft_s")
        if isinstance(tps, (int, float)):
            first = f", first token {ttft:.2f} s" if isinstance(ttft, (int, float)) else ""
            self._last_reply = f"Last answer: {tps:.1f} tok/s{first}"
        self.monitor.request_finished(False)
        self._refresh_status()

    def _on_chat_failed(self, outcome: ReplyOutcome) -> None:
        self.monitor.request_finished(True)

    def _update_chat_models(self, report: StatusReport) -> None:
        if self.chat_window is not None:
            self.chat_window.set_models(list(report.models))

    # ------------------------------------------------------------------ settings

    def open_settings(self) -> None:
        """Show the settings dialog (non-modal); a second request raises the open one."""
        if self.settings_dialog is not None and self.settings_dialog.isVisible():
            self.settings_dialog.raise_()
            self.settings_dialog.activateWindow()
            return
        from trayai.ui.settings.dialog import SettingsDialog

        status = self.hotkey_status
        note = None if status is None else ("✓ " if status.active else "✗ ") + status.message
        dialog = SettingsDialog(self.loaded, self.secrets, self.store.save, hotkey_note=note)
        dialog.setWindowIcon(app_icon())
        dialog.applied.connect(lambda settings: self._spawn(self.apply_settings(settings)))
        dialog.finished.connect(lambda _result: self._forget_settings_dialog(dialog))
        self.settings_dialog = dialog
        dialog.open()
        log.info("settings dialog shown")

    def _forget_settings_dialog(self, dialog: SettingsDialog) -> None:
        for warning in getattr(dialog, "warnings", []):
            self.tray.message("API key not stored", warning)
        if self.settings_dialog is dialog:
            self.settings_dialog = None
        dialog.deleteLater()

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
                note = apply_autostart(settings.start_at_login)
                log.info("start at login: %s", note)
            except OSError as exc:
                self.tray.message("Start at login could not be changed", str(exc))
        if settings.hotkey != old.hotkey:
            self.register_hotkey()
        if settings.builtin_server != old.builtin_server:
            running = self.server.owned
            if running:
                await self.server.stop()
            self.server.server.settings = settings.builtin_server
            if running:
                self.start_server()
        try:
            resolved = self._resolve()
        except AppError as exc:
            self.tray.message("This endpoint cannot be used", str(exc))
            return
        changed = resolved.endpoint != self.resolved.endpoint or resolved.model != self.resolved.model
        self.resolved = resolved
        if changed:
            await self.monitor.set_endpoint(ModelClient(resolved.endpoint), resolved.model)
        else:
            self.monitor.poll_now()
        self._refresh_status()
        log.info("settings applied (endpoint %s)", "changed" if changed else "unchanged")

    # ------------------------------------------------------------------ status

    def _on_report(self, report: StatusReport) -> None:
        self._refresh_status()
        if not self._autostart_checked:
            self._autostart_checked = True
            if report.state is ServerState.UNREACHABLE and self._should_autostart():
                log.info("nothing answers at %s: starting the built-in server", self.resolved.base_url)
                self.start_server()

    def _should_autostart(self) -> bool:
        return (
            self.loaded.settings.builtin_server.autostart
            and self._is_builtin_endpoint()
            and self.server.unavailable_reason() is None
        )

    def start_server(self) -> None:
        self.monitor.set_starting(True)
        self.server.start()

    def _on_server_state(self, state: RunState) -> None:
        if state is not RunState.STARTING:
            self.monitor.set_starting(False)
            self.monitor.poll_now()
        self._refresh_status()

    def _on_server_failed(self, error: TrayaiError) -> None:
        self.tray.message("Built-in server failed", f"{error.message}\n{error.hint.splitlines()[0]}")

    def _refresh_status(self) -> None:
        state = self.monitor.state or ServerState.STARTING
        extra: list[str] = []
        if self.server.state is RunState.STARTING and self.server.last_progress:
            extra.append(f"Built-in server: {self.server.last_progress}")
        usage = self.server.server.usage()
        if usage is not None:
            extra.append(
                f"Built-in server: CPU {usage.cpu_percent:.0f}%, memory {usage.rss_bytes / 1e6:.0f} MB"
            )
        if self._last_reply:
            extra.append(self._last_reply)
        if self.hotkey_status is not None and not self.hotkey_status.active:
            extra.append(f"Hotkey: {self.hotkey_status.message}")
        self.tray.show_status(state, self.monitor.report, extra)

    def menu_model(self) -> MenuModel:
        report = self.monitor.report if hasattr(self, "monitor") else None
        settings = self.loaded.settings
        overrides = self.loaded.overrides
        builtin = settings.builtin_server
        server = getattr(self, "server", None)
        return MenuModel(
            state=(self.monitor.state if hasattr(self, "monitor") else None) or ServerState.STARTING,
            summary=report.summary if report else "checking…",
            base_url=self.resolved.base_url,
            models=report.models if report else [],
            current_model=report.resolved_model if report else None,
            model_locked_by=_locked(overrides, "model"),
            profiles=[p.name for p in settings.profiles],
            active_profile=settings.active().name,
            endpoint_locked_by=_locked(overrides, "base_url"),
            server_state=server.state if server else RunState.STOPPED,
            server_owned=server.owned if server else False,
            server_label=f"127.0.0.1:{builtin.port} · {server.server.alias if server else builtin.alias}",
            server_unavailable=server.unavailable_reason() if server else None,
            server_models=[m.name for m in server.server.available_models()] if server else [],
            server_model=server.server.alias if server else builtin.alias,
            hotkey=settings.hotkey or "no hotkey",
            log_dir=str(self.paths.log_dir),
        )

    # ------------------------------------------------------------------ choices

    def choose_model(self, name: str) -> None:
        """Persist the model to the active profile and re-poll at once."""
        settings = self.loaded.settings
        profile = settings.active()
        profile.model = name
        try:
            self.store.save(settings)
        except (OSError, ConfigError) as exc:
            self.tray.message("Could not save the model choice", str(exc))
        self.resolved = replace(self.resolved, model=name)
        self.monitor.set_model(name)

    def choose_server_model(self, name: str) -> None:
        """Serve another GGUF: restart the built-in server with it and use it when it is the endpoint."""
        try:
            model = self.server.server.select_model(name)
        except TrayaiError as exc:
            self.tray.message("Cannot serve that model", f"{exc.message}\n{exc.hint}")
            return
        try:
            self.store.save(self.loaded.settings)
        except (OSError, ConfigError) as exc:
            self.tray.message("Could not save the model choice", str(exc))
        if self._is_builtin_endpoint():
            self.choose_model(model.name)
        self.monitor.set_starting(True)
        task = self.server.switch_model(name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _is_builtin_endpoint(self) -> bool:
        return is_builtin_url(self.resolved.base_url, self.loaded.settings.builtin_server)

    async def choose_profile(self, name: str) -> None:
        settings = self.loaded.settings
        if not settings.has_profile(name) or name == settings.active().name:
            return
        settings.active_profile = name
        try:
            self.store.save(settings)
        except (OSError, ConfigError) as exc:
            self.tray.message("Could not save the endpoint choice", str(exc))
        try:
            self.resolved = self._resolve()
        except AppError as exc:
            self.tray.message("This endpoint cannot be used", str(exc))
            return
        await self.monitor.set_endpoint(ModelClient(self.resolved.endpoint), self.resolved.model)


def _locked(overrides: Mapping[str, Override], key: str) -> str | None:
    override = overrides.get(key)
    return None if override is None else f"{override.variable} ({override.source})"


# ---------------------------------------------------------------------- bootstrap


def install_signal_handlers(
    on_signal: Callable[[], None],
) -> tuple[QSocketNotifier, socket.socket, socket.socket]:
    """Route SIGINT/SIGTERM into the Qt loop through a wake-up socket (no polling timer, ~0 % idle)."""
    reader, writer = socket.socketpair()
    reader.setblocking(False)
    writer.setblocking(False)
    signal.set_wakeup_fd(writer.fileno())
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: None)
    notifier = QSocketNotifier(reader.fileno(), QSocketNotifier.Type.Read)

    def drain() -> None:
        with contextlib.suppress(OSError):
            reader.recv(64)
        on_signal()

    notifier.activated.connect(drain)
    return notifier, reader, writer


def run_app(command: str = "show", *, debug: bool = False) -> int:
    """Entry point of ``trayai`` (no arguments) and of ``trayai chat|prompt|settings|quit``."""
    paths = AppPaths.from_env()
    paths.ensure()
    redactor = Redactor()
    setup_logging(paths.log_dir, debug=debug, stderr=debug, redactor=redactor)
    name = socket_name(paths.data_dir)
    if send_command(name, command):
        log.info("forwarded %r to the running instance", command)
        return 0
    if command == "quit":
        print("trayai is not running.", file=sys.stderr)
        return 0

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("trayai")
    app.setOrganizationName(APP_NAME)
    app.setApplicationVersion(__version__)
    app.setDesktopFileName(APP_NAME)
    app.setWindowIcon(app_icon())

    instance = InstanceServer(name)
    if not instance.listen():  # another instance won the race: forward to it
        return 0 if send_command(name, command) else 1

    store = ConfigStore(paths)
    loaded = store.load()
    tray_available = QSystemTrayIcon.isSystemTrayAvailable()
    try:
        trayapp = TrayApp(
            paths, store, loaded, SecretStore(), instance, tray_available=tray_available, redactor=redactor
        )
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    handlers = install_signal_handlers(trayapp.request_quit)
    app.aboutToQuit.connect(trayapp.server.stop_now)  # session logout: still no orphan server

    import qasync

    try:
        code: int = qasync.run(trayapp.run(command))
    finally:
        signal.set_wakeup_fd(-1)
        handlers[1].close()
        handlers[2].close()
        trayapp.server.stop_now()
    return code


__all__ = ["TrayApp", "run_app"]
