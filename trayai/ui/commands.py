"""What the user asks for by name — a tray item, a forwarded ``trayai chat|prompt|settings|quit``, a
quick prompt action, a retarget — turned into the window it shows, with the launcher's focus grant
(``ui/activation.py``). Keeps ``ui/app.py`` to building and shutting down.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from trayai.core.actions import action_from_command, find_action, unknown_action
from trayai.core.launch import LaunchContext
from trayai.core.runtarget import target_from_command
from trayai.ui.activation import Activator

if TYPE_CHECKING:
    from trayai.ui.chat.surfaces import ChatSurfaces
    from trayai.ui.hotkeys.service import HotkeyService
    from trayai.ui.library.opener import LibraryOpener
    from trayai.ui.session import Session
    from trayai.ui.settings.opener import SettingsOpener
    from trayai.ui.tray import TrayController


class AppCommands(QObject):
    def __init__(
        self,
        session: Session,
        chats: ChatSurfaces,
        tray: TrayController,
        settings: SettingsOpener,
        hotkeys: HotkeyService,
        library: LibraryOpener,
        quit_app: Callable[[], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._session = session
        self._chats = chats
        self._tray = tray
        self._settings = settings
        self._hotkeys = hotkeys
        self._library = library
        self._quit = quit_app
        self.activator = Activator(parent=self)  # a launcher's focus grant, for forwarded commands

    def handle(self, command: str, launch: LaunchContext | None = None) -> None:
        """A command from the CLI or a second ``trayai`` (over IPC); unknown ones are ignored."""
        launch = launch or LaunchContext()
        action_name = action_from_command(command)
        if action_name is not None:
            self.activator.summon(launch, lambda: self.run_action(action_name), self._window_for("prompt"))
            return
        target = target_from_command(command)
        if target is not None:
            self._session.retarget(target)
            return
        actions = {
            "quit": self._quit,
            "show": self._tray.bring_forward,
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
            "show": lambda: self._tray.window,
            "chat": lambda: self._chats.chat_window,
            "settings": lambda: self._settings.dialog,
            "prompt": lambda: self._chats.prompt_window,
        }
        return windows.get(command, lambda: None)

    def open_chat(self) -> None:
        self._chats.open_chat()

    def open_prompt(self) -> None:
        self._chats.open_prompt()

    def open_settings(self, section: str | None = None) -> None:
        session = self._session
        self._settings.open(session.loaded, self._hotkeys.note(), session.resolved)
        if section is not None and self._settings.dialog is not None:
            self._settings.dialog.show_section(section)

    def open_library(self) -> None:
        """Tray ▸ Get models…: the one model library window, made on first use, raised after."""
        self._library.open()

    def run_action(self, name: str) -> None:
        """Tray ▸ Actions, ``trayai prompt --action NAME``: open the quick prompt and run the action."""
        actions = self._session.settings.actions
        action = find_action(actions, name)
        if action is None:  # the CLI checked the file; the running app may have other settings
            self._session.notice.emit("No such quick prompt action", unknown_action(name, actions))
            return
        self.open_prompt()
        window = self._chats.prompt_window
        if window is not None and window.isVisible():  # not over a modal dialog of the app
            window.run_action(action)


__all__ = ["AppCommands"]
