"""How the GUI process starts and ends: single instance, QApplication, signals, the qasync loop, exit
(docs/architecture.md, "The tray app").
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import sys
from collections.abc import Callable

from PySide6.QtCore import QSocketNotifier
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from trayai import APP_NAME
from trayai.core.display import NoDisplay, holding_display
from trayai.core.errors import AppError
from trayai.core.launch import LaunchContext
from trayai.core.logs import setup_logging
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.runtarget import RunTarget
from trayai.core.settings.secrets import SecretStore
from trayai.core.settings.store import ConfigStore
from trayai.core.status import ServerState
from trayai.ui.icons import app_icon, check_icons, state_icon
from trayai.ui.ipc import InstanceServer, send_command, socket_name
from trayai.ui.startup import log_shown

log = logging.getLogger(__name__)


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


def show_early_icon() -> QSystemTrayIcon:
    """The tray icon, in its *starting* state, before the app is imported and built: it is on the
    panel as soon as a bare Qt tray app's would be (the app adopts it, ``TrayController``)."""
    icon = QSystemTrayIcon(state_icon(ServerState.STARTING))
    icon.setToolTip("trayai — starting")
    icon.show()
    log_shown(tray=True)
    return icon


def run_app(command: str = "show", *, debug: bool = False, target: RunTarget | None = None) -> int:
    """Entry point of ``trayai`` (no arguments) and of ``trayai chat|prompt|settings|quit``;
    ``target`` (``--endpoint``/``--model``/``--profile``) points this run, or the running one, elsewhere."""
    target = target or RunTarget()
    paths = AppPaths.from_env()
    paths.ensure()
    redactor = Redactor()
    setup_logging(paths.log_dir, debug=debug, stderr=debug, redactor=redactor)
    name = socket_name(paths.data_dir)
    launch = LaunchContext.from_env(os.environ)  # a launcher's focus grant goes with the command
    if not target.empty and send_command(name, target.command()):
        log.info("retargeted the running instance: %s", target.describe())
        if command == "show" or send_command(name, command, launch=launch):
            return 0
    elif send_command(name, command, launch=launch):
        log.info("forwarded %r to the running instance", command)
        return 0
    if command == "quit":
        print("trayai is not running.", file=sys.stderr)
        return 0
    # This process makes the GUI: without a display Qt would abort (exit 134), so NoDisplay instead
    # (logged too: started at login, nobody reads its stderr).
    try:
        with holding_display():
            app = QApplication.instance() or QApplication(sys.argv[:1])
    except NoDisplay as exc:
        log.error("%s", exc.message)
        raise
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    app.setApplicationName(APP_NAME)
    app.setApplicationDisplayName("trayai")
    app.setOrganizationName(APP_NAME)
    app.setDesktopFileName(APP_NAME)
    try:  # a broken installation says so, instead of putting an invisible icon in the tray
        log.info("icons: %s", check_icons())
    except AppError as exc:
        log.error("%s — %s", exc.message, exc.hint)
        print(f"error: {exc.message}\n{exc.hint}", file=sys.stderr)
        return 1
    app.setWindowIcon(app_icon())

    instance = InstanceServer(name)
    if not instance.listen():  # another instance won the race: forward to it
        return 0 if send_command(name, command, launch=launch) else 1

    tray_available = QSystemTrayIcon.isSystemTrayAvailable()
    early = show_early_icon() if tray_available else None
    # lazy: loaded when first used: the tray stays light
    from trayai.ui.app import TrayApp  # the rest of the app loads while the icon is already there

    store = ConfigStore(paths)
    loaded = store.load()
    try:
        trayapp = TrayApp(
            paths,
            store,
            loaded,
            SecretStore(),
            instance,
            tray_available=tray_available,
            redactor=redactor,
            run_target=target,
            tray_icon=early,
        )
    except AppError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    handlers = install_signal_handlers(trayapp.request_quit)
    app.aboutToQuit.connect(trayapp.server.stop_now)  # session logout: still no orphan server

    # lazy: Qt classes made on first use: the tray's start-up and memory (docs/architecture.md)
    import qasync

    try:
        code: int = qasync.run(trayapp.run(command))
    finally:
        signal.set_wakeup_fd(-1)
        handlers[1].close()
        handlers[2].close()
        trayapp.server.stop_now()
    return code


__all__ = ["install_signal_handlers", "run_app"]
