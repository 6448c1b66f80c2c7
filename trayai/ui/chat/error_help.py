"""Errors a person can act on, in the chat window: a failed answer's bar under the transcript and a
banner when the active server is down before anything is typed, each with the buttons that can fix
it; pressing one does it here (use a model, switch server, start the built-in one, Settings, Retry,
New chat). The transcript's own error box stays: it is the conversation's history.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from trayai.core.error_catalog import Remedy
from trayai.core.errors import TrayaiError
from trayai.core.remedies import GuiHelp, RemedyAction, Situation, gui_help
from trayai.ui.chat.controller import ChatController, ReplyOutcome
from trayai.ui.chat.error_bar import ErrorBar
from trayai.ui.chat.server_link import ServerLink

# Without the app's servers (a window on its own), only what the conversation itself can do.
OWN_REMEDIES = (Remedy.RETRY, Remedy.PICK_MODEL, Remedy.NEW_CHAT)


class ErrorHelp(QObject):
    """Owns the answer's error bar and the server-down banner of one window, and their buttons' acts."""

    def __init__(
        self,
        controller: ChatController,
        link: ServerLink | None,
        *,
        retry: Callable[[], object],
        new_chat: Callable[[], object],
        options_changed: Callable[[], object],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._link = link
        self._retry = retry
        self._new_chat = new_chat
        self._options_changed = options_changed  # the options bar shows the model chosen here
        self.bar = ErrorBar("answer-error-bar")
        self.banner = ErrorBar("server-down-banner")
        self.bar.acted.connect(self.act)
        self.banner.acted.connect(self.act)
        controller.failed.connect(self._on_failed)
        controller.busy_changed.connect(lambda busy: self.bar.hide() if busy else None)
        controller.conversation_changed.connect(lambda _cid: self.bar.hide())
        if link is not None:
            link.changed.connect(self.follow_server)
            self.follow_server()

    def model(self) -> str | None:
        """The model this conversation asks for (its own, else the profile's)."""
        return self._controller.conversation_options().model or self._controller.target().model

    def help_for(self, error: TrayaiError) -> GuiHelp:
        situation = self._link.situation(self.model()) if self._link else Situation(self.model())
        help_ = gui_help(error, situation)
        if self._link is None:
            help_.actions[:] = [a for a in help_.actions if a.remedy in OWN_REMEDIES]
        return help_

    def _on_failed(self, outcome: ReplyOutcome) -> None:
        if outcome.error is not None and outcome.message.conversation_id == self._controller.conversation_id:
            self.bar.show_help(self.help_for(outcome.error))

    def follow_server(self) -> None:
        """The banner: shown while the active server is down, hidden once it is back."""
        error = self._link.down_error() if self._link else None
        if error is None:
            self.banner.hide()
            return
        help_ = self.help_for(error)
        help_.actions[:] = [a for a in help_.actions if a.remedy not in (Remedy.RETRY, Remedy.NEW_CHAT)]
        self.banner.show_help(help_)

    def act(self, action: RemedyAction) -> None:
        """Do what the pressed button says."""
        remedy, target, hooks = action.remedy, action.target, self._link.hooks if self._link else None
        if remedy is Remedy.PICK_MODEL and target:
            self._controller.set_options(model=target)
            self._options_changed()
        elif remedy is Remedy.RETRY:
            self._retry()
        elif remedy is Remedy.NEW_CHAT:
            self._new_chat()
        elif hooks is None:
            return
        elif remedy is Remedy.SWITCH_SERVER and target:
            hooks.choose_profile(target)
        elif remedy is Remedy.LOAD_MODEL and target:
            hooks.load_model(target)
        elif remedy is Remedy.START_BUILTIN:
            hooks.start_builtin()
        elif remedy is Remedy.OPEN_SETTINGS:
            hooks.open_settings()


__all__ = ["ErrorHelp"]
