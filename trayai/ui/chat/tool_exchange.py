"""One chat answer's tool rounds saved as the history keeps them (core/chat/history_wire.py): the
answer so far becomes the assistant turn that made the calls, each result a ``tool`` message with its
card's look in the meta, and the text after the round a new answer message — in order, so a reopened
chat shows the same turns, cards and answer, and a later question re-sends them as the API expects.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from trayai.core.chat.answer import Answer
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_db import HistoryError
from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.core.chat.history_wire import TOOL_CALL_ID, TOOL_CALLS, TOOL_NAME
from trayai.core.chat.tool_loop import (
    ToolCallDone,
    ToolCallRequested,
    ToolLimitReached,
    ToolSource,
)
from trayai.core.tools.calls import ToolCall, pretty_arguments
from trayai.ui.chat.tool_cards import (
    CARD_META,
    LIMIT_META,
    ToolCard,
    cancelled_meta,
    card_for_request,
    card_meta,
)

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class ExchangeViews:
    """Where the exchange is shown (the ToolTurns' signals)."""

    card_added: Callable[[int, ToolCard], None]
    card_settled: Callable[[int, StoredMessage], None]
    segment_ended: Callable[[StoredMessage], None]
    reply_started: Callable[[StoredMessage], None]
    storage_failed: Callable[[HistoryError], None]


@dataclass
class ToolExchange:
    """The tool rounds of one answer. ``placeholder`` is the answer message text goes to now."""

    history: HistoryStore
    answer: Answer
    hub: ToolSource
    placeholder: StoredMessage
    views: ExchangeViews
    keys: Callable[[], int]  # a fresh negative key for a live card
    text_from: int = 0  # where the current message's text and thinking start in the answer's
    thinking_from: int = 0
    in_round: bool = False
    cards: dict[str, int] = field(default_factory=dict)  # call id → its live card's key
    stored: int = 0  # tool messages of ``answer.exchange`` saved so far
    last_tool: StoredMessage | None = None

    def follow(self, event: object) -> bool:
        """Handle a tool event (True); any other event after a round first opens the next message."""
        if isinstance(event, ToolCallRequested):
            if not self.in_round:
                self._close_message()
            key = self.keys()
            self.cards[event.request.call.id] = key
            self.views.card_added(key, card_for_request(event.request))
            return True
        if isinstance(event, ToolCallDone):
            self._store_results(event)
            return True
        if isinstance(event, ToolLimitReached):
            self._reopen()
            self._note_limit(event.note)
            return True
        self._reopen()
        return False

    def key_of(self, call_id: str) -> int | None:
        return self.cards.get(call_id)

    def segment_text(self) -> str:
        return self.answer.text[self.text_from :]

    def segment_thinking(self) -> str:
        return self.answer.thinking[self.thinking_from :]

    def finish(self) -> StoredMessage:
        """The answer ended (also Stop mid-round): calls left unanswered saved as cancelled, and the
        message the outcome goes to (a new one when the answer stopped between rounds)."""
        self._store_results(None)
        self._reopen()
        return self.placeholder

    # ------------------------------------------------------------------ steps

    def _close_message(self) -> None:
        """The round's calls start: the text so far is the assistant turn that made them."""
        self.in_round = True
        calls = self.answer.exchange[-1].get("tool_calls") or []
        meta: dict[str, Any] = {**self.placeholder.meta, TOOL_CALLS: [dict(call) for call in calls]}
        result = self.answer.result
        if result is not None:
            meta.update(result.to_dict())
            meta.pop("error", None)
        text, thinking = self.segment_text(), self.segment_thinking()
        self._write(
            lambda: self.history.update_message(
                self.placeholder.id, content=text, thinking=thinking, status=MessageStatus.DONE, meta=meta
            )
        )
        p = self.placeholder
        self.views.segment_ended(
            StoredMessage(
                p.id,
                p.conversation_id,
                p.seq,
                "assistant",
                text,
                MessageStatus.DONE,
                meta,
                p.created,
                thinking=thinking,
            )
        )
        self.text_from, self.thinking_from = len(self.answer.text), len(self.answer.thinking)

    def _store_results(self, done: ToolCallDone | None) -> None:
        """Save the tool messages the exchange holds beyond those saved (the card's look in the meta)."""
        tools = [m for m in self.answer.exchange if m.get("role") == "tool"]
        calls = {c["id"]: c for m in self.answer.exchange for c in m.get("tool_calls") or []}
        for message in tools[self.stored :]:
            call_id = str(message.get("tool_call_id", ""))
            entry = calls.get(call_id)
            name = entry["function"]["name"] if entry else ""
            if done is not None and done.request.call.id == call_id:
                look = card_meta(done)
            else:
                call = ToolCall(0, call_id, name, entry["function"]["arguments"] if entry else "")
                look = cancelled_meta(self._title(name), pretty_arguments(call))
            meta = {TOOL_CALL_ID: call_id, TOOL_NAME: name, CARD_META: dict(look)}
            content = str(message.get("content") or "")
            saved = self._add(content, meta)
            self.stored += 1
            if saved is None:
                continue
            self.last_tool = saved
            key = self.cards.pop(call_id, None)
            if key is None:  # a call the round never reached (Stop): its card appears as cancelled
                key = self.keys()
                self.views.card_added(key, ToolCard(look.get("title", ""), look.get("arguments", "")))
            self.views.card_settled(key, saved)

    def _reopen(self) -> None:
        """After a round: the text that follows goes to a new answer message."""
        if not self.in_round:
            return
        self.in_round = False
        model = self.placeholder.meta.get("model")
        conversation = self.placeholder.conversation_id
        created = self._write(
            lambda: self.history.add_message(
                conversation, "assistant", "", status=MessageStatus.STREAMING, meta={"model": model}
            )
        )
        if created is not None:
            self.placeholder = created
            self.views.reply_started(created)

    def _note_limit(self, note: str) -> None:
        """The round limit's note, kept on the last card so a reopened chat shows it too."""
        last = self.last_tool
        if last is None:
            return
        meta = {**last.meta, LIMIT_META: note}
        self._write(lambda: self.history.update_message(last.id, meta=meta))
        updated = StoredMessage(
            last.id, last.conversation_id, last.seq, "tool", last.content, last.status, meta, last.created
        )
        self.last_tool = updated
        self.views.card_settled(last.id, updated)

    def _title(self, name: str) -> str:
        tool = self.hub.lookup(name)
        return f"{tool.info.server}/{tool.info.name}" if tool is not None else name

    def _add(self, content: str, meta: dict[str, Any]) -> StoredMessage | None:
        conversation = self.placeholder.conversation_id
        return self._write(lambda: self.history.add_message(conversation, "tool", content, meta=meta))

    def _write(self, write: Callable[[], T]) -> T | None:
        try:
            return write()
        except HistoryError as exc:
            log.error("history: a tool call could not be saved: %s", exc)
            self.views.storage_failed(exc)
            return None


__all__ = ["ExchangeViews", "ToolExchange"]
