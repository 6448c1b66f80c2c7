"""The quick prompt's "Replace selection" and "Paste" buttons, offered once a rewrite action's answer
(``Action.replaces``: a translation, a correction) has finished — never for a typed question, never
while it streams, and nothing happens until one is clicked.

Where the paste key cannot reach another window, "Replace selection" is "Copy" and its tooltip says
why (core/paste_route.py).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QPushButton, QWidget

from trayai.core.settings.config import Action
from trayai.ui.prompt.replace import ReplaceResult, SelectionReplacer

log = logging.getLogger(__name__)

REPLACE_TIP = (
    "Put the answer in place of the text selected in the window you came from (Ctrl+V is pressed "
    "there for you), then put the clipboard back as it was"
)
PASTE_TIP = "Put the answer on the clipboard and go back to the window you came from: paste it with Ctrl+V"


class RewriteOffer(QObject):
    """Owns the two buttons and the :class:`SelectionReplacer`; the window shows and wires them."""

    def __init__(
        self,
        window: QWidget,
        answer: Callable[[], str],
        say: Callable[[str], None],
        replacer: SelectionReplacer | None = None,
        parent: QObject | None = None,
        twin: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._twin = twin  # the window's own Copy button: hidden while "Copy" here does the same
        self._window = window
        self._answer = answer
        self._say = say
        self.replacer = replacer if replacer is not None else SelectionReplacer(parent=self)
        self.replacer.finished.connect(self._on_finished)
        self.action: Action | None = None  # the rewrite action whose answer is shown (None: not one)
        self.replace_button = QPushButton("&Replace selection")
        self.paste_button = QPushButton("&Paste")
        self.paste_button.setToolTip(PASTE_TIP)
        self.replace_button.setDefault(True)  # drawn as the offer's main button (no Enter: not a dialog)
        for button, name in ((self.replace_button, "Replace selection"), (self.paste_button, "Paste")):
            button.setFocusPolicy(Qt.FocusPolicy.TabFocus)
            button.setAccessibleName(name)
            button.hide()
        self.replace_button.clicked.connect(self._on_replace)
        self.paste_button.clicked.connect(self._on_paste)

    def action_started(self, action: Action) -> None:
        """An action was sent: a rewrite one gets the buttons when its answer ends."""
        self.withdraw()
        self.action = action if action.replaces else None

    def withdraw(self) -> None:
        """A typed question, a new exchange, another action: the last answer is no rewrite to place."""
        self.action = None
        self.answer_started()

    def answer_started(self) -> None:
        """An answer (or a regenerated one) streams: nothing to place until it ends."""
        self.replace_button.hide()
        self.paste_button.hide()
        if self._twin is not None:
            self._twin.show()

    def answer_ended(self, *, whole: bool) -> None:
        """The answer finished: offer the buttons when it is a rewrite action's, whole and not empty."""
        if self.action is None or not whole or not self._answer().strip():
            self.withdraw()
            return
        replacer = self.replacer
        if replacer.can_replace:
            self.replace_button.setText("&Replace selection")
            self.replace_button.setToolTip(REPLACE_TIP)
        else:
            self.replace_button.setText("C&opy")
            self.replace_button.setToolTip(replacer.why_not)
        if self._twin is not None:
            self._twin.setVisible(replacer.can_replace)  # two Copy buttons side by side say nothing more
        self.replace_button.show()
        self.paste_button.show()

    def _on_replace(self) -> None:
        text = self._answer()
        if not text.strip():
            return
        if self.replacer.can_replace:
            log.info("quick prompt: replace selection (%d characters)", len(text))
            self.replacer.replace(text, self._window.hide)
        else:
            self.replacer.copy(text)
            self._say("answer copied — paste it with Ctrl+V")

    def _on_paste(self) -> None:
        text = self._answer()
        if text.strip():
            log.info("quick prompt: paste (%d characters on the clipboard)", len(text))
            self.replacer.paste(text, self._window.hide)

    def _on_finished(self, result: ReplaceResult) -> None:
        self._say(result.words)
        if not result.ok:  # the window was hidden for the paste: back, so the person reads what went wrong
            self._window.show()
            self._window.raise_()
            self._window.activateWindow()


__all__ = ["RewriteOffer"]
