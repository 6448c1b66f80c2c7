"""A whole GUI session in one process, for the real-keychain test (run inside dbus-run-session).

The key is typed into the settings dialog, stored through the real keyring backend, used by a chat
answer, and the app quits. Usage: ``python -m tests.support.gui_session KEY``.
"""

from __future__ import annotations

import asyncio
import sys

import qasync
from PySide6.QtWidgets import QApplication

from tests.support.waiting import until
from trayai.core.logs import setup_logging
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.settings.secrets import SecretStore
from trayai.core.settings.store import ConfigStore
from trayai.ui.app import TrayApp
from trayai.ui.chat.controller import ReplyOutcome
from trayai.ui.ipc import InstanceServer, socket_name


def main() -> None:
    key = sys.argv[1]
    paths = AppPaths.from_env()
    paths.ensure()
    redactor = Redactor()
    setup_logging(paths.log_dir, debug=True, redactor=redactor)
    app = QApplication(sys.argv[:1])
    app.setQuitOnLastWindowClosed(False)
    instance = InstanceServer(socket_name(paths.data_dir))
    assert instance.listen()
    store = ConfigStore(paths)
    tray = TrayApp(
        paths, store, store.load(), SecretStore(), instance, tray_available=False, redactor=redactor
    )

    async def session() -> None:
        task = asyncio.ensure_future(tray.run())
        tray.commands.open_settings()
        dialog = tray.settings_opener.dialog
        assert dialog is not None
        dialog.profiles_page.key_edit.setText(key)
        dialog.profiles_page.key_edit.textEdited.emit(key)
        assert dialog.try_accept(), dialog.error_label.text()
        await until(lambda: tray.session.resolved.has_real_key, 20, "the key to be resolved")
        print(f"key stored in: {tray.session.secrets.backend_name}", flush=True)
        tray.commands.open_chat()
        assert tray.chats.chat is not None
        answers: list[ReplyOutcome] = []
        tray.chats.chat.finished.connect(answers.append)
        tray.chats.chat.failed.connect(answers.append)
        assert tray.chats.chat.send("Hello, with a key")
        await until(lambda: bool(answers), 20, "the answer")
        print(f"answer: {answers[0].message.content}", flush=True)
        tray.request_quit()
        await task

    qasync.run(session())
    del app


if __name__ == "__main__":
    main()
