"""The quick prompt's actions: the row that lists them, the chip saying which text they will use, and
running one — by its number in the empty box, Alt+number anytime, or a click on the row.

A part of ``QuickPromptWindow`` (which keeps layout, asking and streaming): the window hands it the
few things an action needs through ``PromptHost``.
"""

from __future__ import annotations

import copy
import html
import logging
from collections.abc import Sequence
from typing import Protocol

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QClipboard, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QLabel

from trayai.core.actions import action_on_key, action_preview, render_action
from trayai.core.errors import AppError
from trayai.core.settings.config import Action
from trayai.ui.chat.controller import ChatController
from trayai.ui.chat.prompt_input import PromptInput
from trayai.ui.prompt.parts import SourceChip

log = logging.getLogger(__name__)

CONTEXT_LIMIT = 20_000  # characters of clipboard/selection sent with a question
FOCUS_WAIT_MS = 1500  # an action run before the window has the keyboard waits this long for the text
_DIGITS = {Qt.Key.Key_1 + n: n + 1 for n in range(9)}  # Qt key → action key 1–9
_FROM = {"selection": " on the selection", "clipboard": " on the clipboard's text"}


class PromptHost(Protocol):
    """What an action needs of the window it runs in."""

    controller: ChatController
    input: PromptInput
    status: QLabel

    def isVisible(self) -> bool: ...
    def new_exchange(self) -> None: ...
    def show_asked(self, question: str) -> None: ...


class PromptActions(QObject):
    """Owns ``row`` (the listed actions as links) and ``chip``; filters the input box's number keys."""

    ran = Signal(object)  # the Action just sent (a rewrite one gets Replace selection / Paste)

    def __init__(self, host: PromptHost, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._host = host
        self.actions: list[Action] = []
        self._set = False
        self.row = QLabel()
        self.row.setObjectName("actions")
        self.row.setWordWrap(True)
        self.row.setTextFormat(Qt.TextFormat.RichText)  # links; names are escaped
        self.row.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.row.setAccessibleName("Quick actions")
        self.chip = SourceChip()
        self.chip.hide()  # shown once the clipboard was read after showing (never delays the window)
        self.row.linkActivated.connect(self._on_link)
        self.row.linkHovered.connect(self._on_hovered)
        self._waiting: Action | None = None  # run once the clipboard's offer arrives (Wayland)
        self._give_up = QTimer(self)
        self._give_up.setSingleShot(True)
        self._give_up.setInterval(FOCUS_WAIT_MS)
        self._give_up.timeout.connect(self._retry)
        clipboard = QGuiApplication.clipboard()
        clipboard.dataChanged.connect(self.preview)
        clipboard.selectionChanged.connect(self.preview)
        clipboard.dataChanged.connect(self._offered)
        clipboard.selectionChanged.connect(self._offered)
        host.input.installEventFilter(self)  # 1–9 in the empty box

    def set_actions(self, actions: Sequence[Action]) -> None:
        """The actions the keys run and the row lists (the app passes the saved settings' ones)."""
        wanted = sorted(copy.deepcopy(list(actions)), key=lambda a: a.key)
        if wanted == self.actions and self._set:
            return  # the app passes them at every summon: no relayout when nothing changed
        self._set = True
        self.actions = wanted
        links = [
            f'<a href="action:{a.key}" style="text-decoration:none"><b>{a.key}</b> {html.escape(a.name)}</a>'
            for a in self.actions
        ]
        self.row.setText(
            " · ".join(links) + " — a number in the empty box runs it on the selection (else the clipboard); "
            "Alt+number anytime"
        )
        self.row.setAccessibleDescription(
            "; ".join(f"{a.key}: {a.name}" for a in self.actions)
            + ". Press the number in the empty box, or Alt and the number, to run an action."
        )
        self.row.setVisible(bool(self.actions))

    def run_on_key(self, key: int) -> bool:
        action = action_on_key(self.actions, key)
        if action is None:
            self._host.status.setText(f"No action on {key} (Settings ▸ Quick prompt & actions)")
            return False
        return self.run(action)

    def run(self, action: Action, *, may_wait: bool = True) -> bool:
        """Send ``action``'s prompt as a new exchange; False (said in the status line) when it cannot.

        Run from a key binding or the tray, the window may not have the keyboard yet, and Wayland gives
        the selection and the clipboard only to the window that has it: there, with no text to be read,
        the action waits (≤ :data:`FOCUS_WAIT_MS`) for the compositor's offer to arrive, then runs."""
        host = self._host
        if host.controller.busy:
            host.status.setText("still answering — Esc stops it")
            return False
        selection, copied = _texts()
        if not (selection or copied) and may_wait and _clipboard_follows_focus():
            self._waiting = action
            self._give_up.start()
            host.status.setText(f"{action.name}: reading the selection…")
            log.info("quick prompt: action %r waits for the clipboard (Wayland offers it later)", action.name)
            return True
        self._waiting = None
        self._give_up.stop()
        try:
            rendered = render_action(
                action,
                selection=selection[:CONTEXT_LIMIT],
                clipboard=copied[:CONTEXT_LIMIT],
                typed=host.input.toPlainText(),
            )
        except AppError as exc:  # nothing selected/copied/typed (a bad template never gets saved)
            host.status.setText(exc.message)
            host.status.setToolTip(exc.hint)
            log.info("quick prompt: action %r not run: %s", action.name, exc.message)
            return False
        host.new_exchange()  # an action is its own conversation; follow-up questions continue it
        if not host.controller.send(rendered.text):
            return False
        said = f"{action.name}{_FROM.get(rendered.selection_from or '', '')}"
        host.input.clear()
        host.show_asked(said)
        host.status.setText(f"{said} — Esc stops")
        host.status.setToolTip("")
        log.info("quick prompt: action %r run (%s)", action.name, rendered.selection_from or "no selection")
        self.ran.emit(action)
        return True

    def _offered(self) -> None:
        """The clipboard or the selection changed: a waiting action runs once there is text to use."""
        if self._waiting is not None and any(_texts()):
            self._retry()

    def _retry(self) -> None:
        """Run the waiting action now (the text arrived, or the wait is over: it says what is missing)."""
        action, self._waiting = self._waiting, None
        if action is not None:
            self._give_up.stop()
            self.run(action, may_wait=False)

    def preview(self, action: Action | None = None) -> None:
        """The chip: which text the actions would use now (the hovered action's, or any action's)."""
        if not self._host.isVisible() or not self.actions:
            return
        selection, copied = _texts()
        self.chip.setText(action_preview(action, selection=selection, clipboard=copied))
        self.chip.show()

    def _on_hovered(self, link: str) -> None:
        key = link.removeprefix("action:")
        self.preview(action_on_key(self.actions, int(key)) if key.isdigit() else None)

    def _on_link(self, link: str) -> None:
        key = link.removeprefix("action:")
        if key.isdigit():
            self.run_on_key(int(key))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """A number key in the empty box runs that action (Shift allowed: AZERTY digits need it)."""
        box = self._host.input
        if (
            watched is box
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in _DIGITS
            and not box.toPlainText()
            and not box.composing
            and not event.modifiers()
            & ~(Qt.KeyboardModifier.KeypadModifier | Qt.KeyboardModifier.ShiftModifier)
            and action_on_key(self.actions, _DIGITS[event.key()]) is not None
        ):
            self.run_on_key(_DIGITS[event.key()])
            return True
        return super().eventFilter(watched, event)


def _clipboard_follows_focus() -> bool:
    """Wayland offers the selection and the clipboard only to the window with the keyboard: read
    before the quick prompt has it, both look empty."""
    return QGuiApplication.platformName().startswith("wayland")


def _texts() -> tuple[str, str]:
    """The desktop's selection (X11 PRIMARY; empty where there is none) and the clipboard's text."""
    clipboard = QGuiApplication.clipboard()
    selection = clipboard.text(QClipboard.Mode.Selection) if clipboard.supportsSelection() else ""
    return selection, clipboard.text(QClipboard.Mode.Clipboard)


__all__ = ["CONTEXT_LIMIT", "PromptActions", "PromptHost"]
