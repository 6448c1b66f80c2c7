"""The server · model picker kept in step with the open conversation: every server's models shown,
the conversation's own server · model checked, a choice on another server switching to it, and a
model or server that cannot take the question said before Send (the Send button off, the reason in
sight) — never sent blind (issue 25).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QInputDialog, QLabel, QPushButton, QWidget

from trayai.core.chat.history_db import HistoryError
from trayai.core.picker import PickerChoice, lacks
from trayai.ui.chat.controller import ChatController
from trayai.ui.chat.server_link import ServerLink
from trayai.ui.chat.server_model_picker import ServerModelPicker

PROFILE_KEY = "profile"  # the conversation's server, in its settings next to its model


class PickerBinding(QObject):
    """Between one window's picker, its controller and the app's servers; ``reason`` is the line
    saying why the question cannot go as it is (hidden when it can)."""

    def __init__(
        self,
        picker: ServerModelPicker,
        controller: ChatController,
        link: ServerLink,
        send_button: QPushButton,
        parent: QWidget,
        *,
        options_changed: Callable[[], object],
    ) -> None:
        """``options_changed``: show the conversation's options again (the model box follows)."""
        super().__init__(parent)
        self._options_changed = options_changed
        self._picker = picker
        self._controller = controller
        self._link = link
        self._send = send_button
        self._pending_profile: str | None = None  # a new chat's server, until it is saved
        self.reason = QLabel()
        self.reason.setObjectName("cannot-send")
        self.reason.setTextFormat(Qt.TextFormat.PlainText)
        self.reason.setWordWrap(True)
        self.reason.hide()
        self.dialog: QInputDialog | None = None
        picker.chosen.connect(self.choose)
        picker.type_requested.connect(self.ask_name)
        link.changed.connect(self.refresh)
        controller.conversation_changed.connect(self._on_conversation_changed)

    def _on_conversation_changed(self, conversation_id: int) -> None:
        if conversation_id < 0:  # a new chat starts on the active server
            self._pending_profile = None
        self.refresh()

    def profile(self) -> str | None:
        """The conversation's server: saved with it, else the one chosen for it, else the active one."""
        cid = self._controller.conversation_id
        if cid is not None:
            try:
                conv = self._controller.conversations.conversation(cid)
            except (HistoryError, KeyError):
                conv = None
            if conv is not None:
                saved = conv.settings.get(PROFILE_KEY) or conv.profile
                if isinstance(saved, str) and saved:
                    return saved
        if self._pending_profile:
            return self._pending_profile
        active = self._link.active()
        return active.profile if active else self._controller.target().profile

    def current(self) -> PickerChoice | None:
        profile = self.profile()
        model = self._controller.conversation_options().model
        return PickerChoice(profile, model) if profile and model else None

    def refresh(self) -> None:
        """Redraw the picker and say (or clear) why the question cannot be sent."""
        servers = self._link.servers()
        current = self.current()
        if not self._picker.menu_.isVisible():  # a poll must not redraw the menu under the pointer
            self._picker.show_servers(servers, current)
        why = lacks(servers, current) if current else None
        active = next((s for s in servers if s.active), None)
        if why is None and current and active and current.profile != active.profile:
            why = f"This conversation talks to {current.profile}: choose one of its models to switch to it."
        self.reason.setText(why or "")
        self.reason.setVisible(why is not None)
        self._send.setEnabled(why is None)
        self._send.setToolTip(why or "Send (Enter)")

    def blocked(self) -> str | None:
        """Why Send is refused now (None: it may go)."""
        self.refresh()
        return self.reason.text() or None

    def choose(self, choice: PickerChoice) -> None:
        """A model picked: the conversation keeps it and its server, and that server becomes active."""
        active = self._link.active()
        if active is None or choice.profile != active.profile:
            self._link.hooks.choose_profile(choice.profile)
        self._controller.set_options(model=choice.model)
        cid = self._controller.conversation_id
        if cid is None:
            self._pending_profile = choice.profile
        else:
            self._controller.conversations.set_options(
                cid, model=None, settings={PROFILE_KEY: choice.profile}
            )
        self._options_changed()
        self.refresh()

    def ask_name(self, profile: str) -> None:
        """ "Another model by name…": a small input, non-modal; the name is checked before Send."""
        dialog = QInputDialog(self._picker.window())
        dialog.setWindowTitle("Another model")
        dialog.setLabelText(f"Model name on {profile}:")
        dialog.setObjectName("model-by-name")
        dialog.textValueSelected.connect(
            lambda text: self.choose(PickerChoice(profile, text.strip())) if text.strip() else None
        )
        self.dialog = dialog
        dialog.open()


__all__ = ["PROFILE_KEY", "PickerBinding"]
