"""The chat window's side of tool calls: the controller's cards put into the transcript, a waiting
call asked in the approval bar (``tool_approval.py``: its Allow once button takes the keyboard unless
the person is typing in the prompt box, Tab moves to Always and Deny, Enter presses), the focus back
in the prompt box once decided or stopped, and the Options bar's Tools switch kept true to what the
next request will carry.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QToolButton

from trayai.core.chat.history_records import StoredMessage
from trayai.core.tools.policy import Approval
from trayai.ui.chat.controller import ChatController
from trayai.ui.chat.prompt_input import PromptInput
from trayai.ui.chat.tool_approval import ToolApprovalBar
from trayai.ui.chat.tool_cards import CardState, ToolCard
from trayai.ui.chat.tool_turns import Support
from trayai.ui.chat.transcript import TranscriptView


class ToolCardsBinding(QObject):
    """Between one window's controller (its ``tools``), transcript, approval bar, prompt box and
    Tools switch."""

    def __init__(
        self,
        controller: ChatController,
        transcript: TranscriptView,
        bar: ToolApprovalBar,
        prompt: PromptInput,
        switch: QToolButton,
        parent: QObject,
    ) -> None:
        super().__init__(parent)
        self._controller = controller
        self._tools = controller.tools
        self._transcript = transcript
        self.bar = bar
        self._prompt = prompt
        self._switch = switch
        tools = self._tools
        tools.card_added.connect(lambda key, card: self._show(key, card, new=True))
        tools.card_changed.connect(lambda key, card: self._show(key, card, new=False))
        tools.card_settled.connect(self._settle)
        tools.segment_ended.connect(self._segment_ended)
        tools.switch_changed.connect(self.refresh_switch)
        bar.decided.connect(self._decide)
        controller.conversation_changed.connect(lambda _cid: self.refresh_switch())
        controller.busy_changed.connect(lambda busy: self._on_busy(busy=busy))
        switch.toggled.connect(lambda on: self._tools.set_wanted(controller.conversation_id, on=on))
        parent.installEventFilter(self)
        self.refresh_switch()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.WindowActivate:
            self.refresh_switch()  # a tool server may have connected or gone meanwhile
        return False

    # ------------------------------------------------------------------ cards

    def _show(self, key: int, card: ToolCard, *, new: bool) -> None:
        if new:
            self._transcript.append_card(key, card)
        else:
            self._transcript.cards.redraw(key, card, self._transcript.renderer.palette)
        if card.state is CardState.WAITING:
            typing = self._prompt.hasFocus() and bool(self._prompt.toPlainText().strip())
            self.bar.ask(key, card, take_focus=not typing)  # Alt+A/W/D reach it either way
            return
        held = self.bar.has_focus()
        self.bar.forget(key)
        if (held and not self.bar.isVisible()) or self._transcript.hasFocus():
            self._prompt.setFocus()

    def _settle(self, key: int, message: StoredMessage) -> None:
        if message.conversation_id == self._controller.conversation_id:
            self._transcript.settle_card(key, message)

    def _segment_ended(self, message: StoredMessage) -> None:
        if message.conversation_id == self._controller.conversation_id and self._transcript.streaming:
            self._transcript.finish_stream(message)

    def _decide(self, key: int, approval: Approval) -> None:
        held = self.bar.has_focus()
        self._tools.decide(key, approval)
        self.bar.forget(key)  # answered now, or no longer waiting (stopped): asked no more
        if held and not self.bar.isVisible():
            self._prompt.setFocus()  # the last question answered: back to typing

    def _on_busy(self, *, busy: bool) -> None:
        if not busy:
            held = self.bar.has_focus() or self._transcript.hasFocus()
            self.bar.clear()  # Stop while a card waited: nothing is asked any more
            if held:
                self._prompt.setFocus()  # back to typing
        self.refresh_switch()

    # ------------------------------------------------------------------ the Tools switch

    def refresh_switch(self) -> None:
        """Shown only when tools exist; off and disabled for a model its server says cannot call them."""
        tools, switch = self._tools, self._switch
        available = tools.available()
        switch.setVisible(available)
        if not available:
            return
        target = self._controller.target()
        model = str(self._controller.conversation_options().model or target.model)
        support = tools.support(target.client.base_url, model)
        known = (target.client.base_url, model) in tools.checked
        switch.blockSignals(True)
        switch.setEnabled(support is not Support.NO)
        switch.setChecked(support is not Support.NO and tools.wanted(self._controller.conversation_id))
        switch.blockSignals(False)
        switch.setToolTip(switch_tip(model, support if known else None))


def switch_tip(model: str, support: Support | None) -> str:
    """Why the switch is as it is."""
    if support is Support.NO:
        return f"{model} cannot call tools (its server says so): no tools are sent to it"
    said = {
        Support.YES: f"The server says {model} can call tools.",
        Support.UNKNOWN: f"The server does not say whether {model} can call tools.",
        None: f"Not yet asked whether {model} can call tools (the first question asks).",
    }[support]
    return (
        f"{said} On: the model may ask to use your MCP tools — every call asks you first, unless "
        "you chose Always for that tool. Off: this conversation's questions go without tools."
    )


__all__ = ["ToolCardsBinding", "switch_tip"]
