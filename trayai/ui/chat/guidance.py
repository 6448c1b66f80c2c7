"""What the chat window says about where a question goes and what to do next, in one part: the
error bar and server-down banner (``error_help.py``), the server · model picker's binding and its
Send check (``picker_binding.py``), and a new chat's greeting (``empty_state.py``). The window only
places the widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QObject
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QPushButton, QWidget

from trayai.ui.chat.controller import ChatController
from trayai.ui.chat.empty_state import EmptyState
from trayai.ui.chat.error_help import ErrorHelp
from trayai.ui.chat.options_bar import OptionsBar
from trayai.ui.chat.picker_binding import PickerBinding
from trayai.ui.chat.prompt_input import PromptInput
from trayai.ui.chat.server_link import ServerLink


@dataclass(frozen=True)
class WindowActs:
    """What the window does for its guidance: retry the last answer, start a new chat, show the
    conversation's options again, say the global hotkey."""

    retry: Callable[[], object]
    new_chat: Callable[[], object]
    options_changed: Callable[[], object]
    hotkey: Callable[[], str]


class ChatGuidance(QObject):
    """One window's error help, picker binding (None without the app's servers) and empty state."""

    def __init__(
        self,
        controller: ChatController,
        server: ServerLink | None,
        bar: OptionsBar,
        prompt: PromptInput,
        send_button: QPushButton,
        acts: WindowActs,
        parent: QWidget,
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._server = server
        self._prompt = prompt
        self._hotkey = acts.hotkey
        self.errors = ErrorHelp(
            controller,
            server,
            retry=acts.retry,
            new_chat=acts.new_chat,
            options_changed=acts.options_changed,
            parent=self,
        )
        self.picker: PickerBinding | None = None
        if server is not None:  # the app's servers known: the server · model picker
            bar.use_picker()
            self.picker = PickerBinding(
                bar.picker, controller, server, send_button, parent, options_changed=acts.options_changed
            )
            server.changed.connect(self.show_empty_state)
        self.empty = EmptyState()
        self.empty.hide()
        self.empty.prompt_chosen.connect(self.use_example)

    def blocked(self) -> str | None:
        """Why Send is refused now: the chosen server or model cannot take the question."""
        return self.picker.blocked() if self.picker is not None else None

    def options_shown(self) -> None:
        """The conversation's options were shown again: the picker follows."""
        if self.picker is not None:
            self.picker.refresh()

    def show_empty_state(self) -> bool:
        """A new chat greets instead of a blank pane; True when it does (the transcript hides)."""
        empty = self._controller.conversation_id is None
        self.empty.setVisible(empty)
        if empty:
            active = self._server.active() if self._server else None
            server = self.picker.profile() if self.picker else self._controller.target().profile
            state = active.state.words if active is not None and active.state is not None else None
            model = self._controller.conversation_options().model
            self.empty.show_target(model, server, state, self._hotkey())
        return empty

    def use_example(self, text: str) -> None:
        self._prompt.setPlainText(text)
        self._prompt.moveCursor(QTextCursor.MoveOperation.End)
        self._prompt.setFocus()


__all__ = ["ChatGuidance", "WindowActs"]
