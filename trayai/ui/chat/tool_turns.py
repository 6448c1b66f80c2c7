"""The chat's side of the model's tool calls: whether a request carries tools (the hub has some, the
server does not say the model cannot, the conversation's Tools switch is on), the person's answer on a
card (Allow once / Always for this tool / Deny) resolving the loop's question, and "Always" saved.

The controller asks :meth:`ToolTurns.use_for` before each answer and hands each answer's events to a
:class:`~trayai.ui.chat.tool_exchange.ToolExchange`; the window follows the signals (tool_binding.py).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from trayai.core.chat.answer import Answer
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_db import HistoryError
from trayai.core.chat.history_records import StoredMessage
from trayai.core.chat.tool_loop import RequestedCall, ToolUse
from trayai.core.net.client import ModelClient
from trayai.core.strenum import StrEnum
from trayai.core.tools.hub import HubTool
from trayai.core.tools.policy import Approval
from trayai.core.tools.support import tools_supported
from trayai.ui.chat.conversations import SharedConversations
from trayai.ui.chat.tool_access import ToolAccess
from trayai.ui.chat.tool_cards import ToolCard
from trayai.ui.chat.tool_exchange import ExchangeViews, ToolExchange

log = logging.getLogger(__name__)

TOOLS_SETTING = "tools"  # a conversation's settings: False when its Tools switch is off


class Support(StrEnum):
    """What the server says about the model and tools."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class ToolTurns(QObject):
    """Tools for one controller's answers; ``access`` None: never any."""

    card_added = Signal(int, object)  # a live card's key (< 0) and its ToolCard
    card_changed = Signal(int, object)  # waiting for the person / running
    card_settled = Signal(int, object)  # the key and the stored tool message it becomes
    segment_ended = Signal(object)  # the assistant turn that made calls, as saved
    switch_changed = Signal()  # availability, support or the switch changed: the toggle follows

    def __init__(
        self, access: ToolAccess | None, conversations: SharedConversations, parent: QObject
    ) -> None:
        super().__init__(parent)
        self._access = access
        self._conversations = conversations
        self._support: dict[tuple[str, str], Support] = {}
        self._pending: dict[int, asyncio.Future[Approval]] = {}
        self._exchange: ToolExchange | None = None
        self._keys = itertools.count(-1, -1)
        self._new_wanted = True  # the switch of a chat not saved yet
        self.last: tuple[str, str] | None = None  # (server URL, model) of the last check

    # ------------------------------------------------------------------ the switch

    def available(self) -> bool:
        """An enabled MCP server has tools now."""
        hub = self._access.current_hub() if self._access is not None else None
        return hub is not None and bool(hub.openai_tools())

    @property
    def checked(self) -> set[tuple[str, str]]:
        """The (server URL, model) pairs whose server was asked."""
        return set(self._support)

    def support(self, base_url: str, model: str) -> Support:
        return self._support.get((base_url, model), Support.UNKNOWN)

    def wanted(self, conversation_id: int | None) -> bool:
        if conversation_id is None:
            return self._new_wanted
        try:
            settings = self._conversations.conversation(conversation_id).settings
        except (KeyError, HistoryError):
            return True
        return settings.get(TOOLS_SETTING) is not False

    def set_wanted(self, conversation_id: int | None, *, on: bool) -> None:
        if conversation_id is None:
            self._new_wanted = on
        else:
            self._conversations.set_options(conversation_id, model=None, settings={TOOLS_SETTING: on})
        self.switch_changed.emit()

    def conversation_started(self, conversation_id: int) -> None:
        """A new chat got saved: its switch goes with it."""
        if not self._new_wanted:
            self.set_wanted(conversation_id, on=False)
        self._new_wanted = True

    # ------------------------------------------------------------------ an answer

    async def use_for(self, client: ModelClient, model: str, conversation_id: int | None) -> ToolUse | None:
        """The tools for an answer from ``model``, or None (none, the model cannot, the switch is off)."""
        hub = self._access.current_hub() if self._access is not None else None
        if hub is None or not hub.openai_tools():
            return None
        key = (client.base_url, model)
        self.last = key
        if key not in self._support:
            said = await tools_supported(client, model)
            self._support[key] = Support.UNKNOWN if said is None else Support.YES if said else Support.NO
            self.switch_changed.emit()
        if self._support[key] is Support.NO or not self.wanted(conversation_id):
            return None
        return ToolUse(hub, self._approve, self._remember)

    def begin(
        self,
        history: HistoryStore,
        answer: Answer,
        placeholder: StoredMessage,
        reply_started: Callable[[StoredMessage], None],
        storage_failed: Callable[[HistoryError], None],
    ) -> ToolExchange | None:
        """The answer's exchange (None without tools); ``reply_started`` gets each answer message
        opened after a round, ``storage_failed`` a write the disk refused."""
        if answer.tools is None:
            self._exchange = None
            return None
        views = ExchangeViews(
            self.card_added.emit,
            self.card_settled.emit,
            self.segment_ended.emit,
            reply_started,
            storage_failed,
        )
        self._exchange = ToolExchange(
            history, answer, answer.tools.hub, placeholder, views, lambda: next(self._keys)
        )
        return self._exchange

    def decide(self, key: int, approval: Approval) -> bool:
        """The person's answer on card ``key``; False when it is not waiting (any more)."""
        future = self._pending.pop(key, None)
        if future is None or future.done():
            return False
        future.set_result(approval)
        return True

    @property
    def waiting(self) -> list[int]:
        return [key for key, future in self._pending.items() if not future.done()]

    async def _approve(self, request: RequestedCall) -> Approval:
        exchange = self._exchange
        key = exchange.key_of(request.call.id) if exchange is not None else None
        if key is None:
            return Approval.DENY
        card = ToolCard(request.title, request.arguments)
        future: asyncio.Future[Approval] = asyncio.get_running_loop().create_future()
        self._pending[key] = future
        self.card_changed.emit(key, card.waiting())
        try:
            approval = await future
        finally:
            self._pending.pop(key, None)
        if approval is not Approval.DENY:
            self.card_changed.emit(key, card.running())
        return approval

    def _remember(self, tool: HubTool) -> None:
        if self._access is None:
            return
        try:
            self._access.remember(tool)
        except Exception:  # the call still runs: saving "Always" failed, and is logged
            log.exception("tools: could not remember %s/%s", tool.info.server, tool.info.name)


__all__ = ["TOOLS_SETTING", "Support", "ToolTurns"]
