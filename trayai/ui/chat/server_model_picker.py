"""The chat's server · model picker: one button showing "model · server" with the server's state icon,
and a menu of every profile's models grouped under their server's heading (``core/picker.py`` decides
what is listed; this draws it). A down server stays listed, greyed, saying so.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QHBoxLayout, QLabel, QMenu, QToolButton, QWidget, QWidgetAction

from trayai.core.picker import PickerChoice, PickerServer
from trayai.ui.icons import state_icon
from trayai.ui.theme import current_theme

OTHER_MODEL = "Another model by name…"


class ServerModelPicker(QToolButton):
    """Emits ``chosen(PickerChoice)`` for a listed model, ``type_requested(profile)`` for "by name"."""

    chosen = Signal(object)
    type_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("server-model-picker")
        self.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setToolTip("The server and model this conversation talks to")
        self.setAccessibleName("Server and model")
        self.menu_ = QMenu(self)
        self.menu_.setObjectName("server-model-menu")
        self.setMenu(self.menu_)
        self.menu_.triggered.connect(self._on_triggered)
        self._servers: list[PickerServer] = []
        self.current: PickerChoice | None = None

    def show_servers(self, servers: Sequence[PickerServer], current: PickerChoice | None) -> None:
        """Redraw the menu and the button (call again whenever a server's state or list changes)."""
        self._servers, self.current = list(servers), current
        self._rebuild()
        self._show_current()

    def _show_current(self) -> None:
        current = self.current
        server = next((s for s in self._servers if current and s.profile == current.profile), None)
        if current is None:
            self.setText("Pick a model")
            return
        self.setText(f"{current.model} · {current.profile}")
        if server is not None and server.state is not None:
            self.setIcon(state_icon(server.state))
            self.setToolTip(f"{current.model} on {server.heading}")

    def _rebuild(self) -> None:
        menu = self.menu_
        menu.clear()
        group = QActionGroup(menu)
        for server in self._servers:
            menu.addAction(self._heading(server))
            if server.down:
                note = menu.addAction(
                    f"    can't be reached now ({server.state.words if server.state else ''})"
                )
                note.setEnabled(False)
            elif not server.models:
                note = menu.addAction("    no models listed")
                note.setEnabled(False)
            for model in server.models:
                action = menu.addAction(f"    {model.label}")
                action.setCheckable(True)
                action.setData(PickerChoice(server.profile, model.name))
                action.setChecked(self.current == PickerChoice(server.profile, model.name))
                action.setEnabled(not server.down)
                group.addAction(action)
            other = menu.addAction(f"    {OTHER_MODEL}")
            other.setData(server.profile)
            other.setEnabled(not server.down)
            other.setObjectName("other-model")
            menu.addSeparator()

    def _heading(self, server: PickerServer) -> QWidgetAction:
        """A server's heading: its state icon and words, in normal contrast (a disabled item is grey)."""
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(8, 4, 8, 2)
        icon = QLabel()
        if server.state is not None:
            icon.setPixmap(state_icon(server.state).pixmap(14, 14))
        text = QLabel(server.heading)
        text.setTextFormat(Qt.TextFormat.PlainText)
        font = text.font()
        font.setBold(True)
        text.setFont(font)
        if server.down:
            text.setStyleSheet(f"QLabel {{ color: {current_theme().muted}; }}")
        row.addWidget(icon)
        row.addWidget(text, 1)
        action = QWidgetAction(self.menu_)
        action.setDefaultWidget(holder)
        action.setObjectName("server-heading")
        action.setText(server.heading)  # read by screen readers and tests
        return action

    def _on_triggered(self, action: QAction) -> None:
        data = action.data()
        if isinstance(data, PickerChoice):
            self.current = data
            self._show_current()
            self.chosen.emit(data)
        elif action.objectName() == "other-model" and isinstance(data, str):
            self.type_requested.emit(data)


__all__ = ["OTHER_MODEL", "ServerModelPicker"]
