"""The chat controller: one conversation's requests, saved to history as they happen.

Saving rules and Stop: docs/architecture.md, "The chat window".
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import cast

from PySide6.QtCore import QObject, QTimer, Signal

from trayai.core.chat.answer import (
    Answer,
    AnswerEvent,
    AnswerTarget,
    Done,
    Failed,
    FellBack,
    Reading,
    Text,
    Thinking,
    Trimmed,
)
from trayai.core.chat.attachments import Attachment, AttachmentStore, message_content
from trayai.core.chat.chatgroups import ORIGIN_KEY
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_db import HistoryError, MessageNotFound
from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.core.chat.history_wire import wire_messages
from trayai.core.chat.modelcheck import other_model
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.classify import classify_exception
from trayai.core.net.client import GenerationOptions, ModelClient, StreamResult
from trayai.core.net.wire import AnswerRecord
from trayai.core.redact import Redactor
from trayai.core.settings.config import GenerationParams
from trayai.ui.chat.conversations import SharedConversations
from trayai.ui.chat.records import (
    OPTION_NAMES,
    ChatOptions,
    MessageFields,
    OptionChanges,
)
from trayai.ui.chat.tool_access import ToolAccess
from trayai.ui.chat.tool_exchange import ToolExchange
from trayai.ui.chat.tool_turns import ToolTurns

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChatTarget:
    """Where and how to send: supplied fresh for each request (the endpoint can change)."""

    client: ModelClient
    model: str
    profile: str | None  # the profile's name only when the server is its own (not an --endpoint run)
    generation: GenerationParams = field(default_factory=GenerationParams)
    context_tokens: int = 0  # 0 = unknown: trim only after the server says it is exceeded
    fallbacks: tuple[ChatTarget, ...] = ()  # the profile's fallbacks, for failures before a first token

    def answer_target(self, model: str) -> AnswerTarget:
        """This server for the answer pipeline, asked for ``model``."""
        return AnswerTarget(
            self.client,
            model,
            self.profile,
            stream=self.generation.stream,
            context_tokens=self.context_tokens,
        )


@dataclass(frozen=True)
class ReplyOutcome:
    """How a reply ended, with the stored message (content, status and meta as saved)."""

    message: StoredMessage
    result: StreamResult | None
    error: TrayaiError | None
    dropped: int

    @property
    def status(self) -> str:
        return self.message.status


class ChatController(QObject):
    """Owns the running request task; widgets only call its methods and follow its signals."""

    conversation_changed = Signal(int)  # the conversation shown changed (-1: a new, still empty one)
    message_saved = Signal(object)  # a StoredMessage was written (the prompt, before the request)
    reply_started = Signal(object)  # the assistant's StoredMessage placeholder; deltas follow
    delta = Signal(str)  # answer text as it arrives
    thinking_delta = Signal(str)  # a reasoning model's thinking as it arrives (shown apart, never sent)
    prompt_progress = Signal(object)  # a PromptProgress: how far the server read the prompt (llama.cpp)
    finished = Signal(object)  # a ReplyOutcome: done, stopped or cut at max tokens
    failed = Signal(object)  # a ReplyOutcome whose ``error`` says what went wrong (partial text kept)
    busy_changed = Signal(bool)  # a request started / ended
    storage_notice = Signal(str)  # answers cannot be saved (where and why, said once), or "" once they are

    CHECKPOINT_INTERVAL = 0.5  # SIGKILL mid-reply loses at most this much text (target: 1 s)
    # Past this much text a checkpoint rewrites megabytes on the UI thread (~50-70 ms at 5 MB): half as
    # often, still within the 1 s target, so such a write rarely shares a frame with a paint.
    LARGE_ANSWER_CHARS = 1_000_000
    SAVE_RETRY_MS = 5000

    def __init__(
        self,
        history: HistoryStore,
        target: Callable[[], ChatTarget],
        parent: QObject | None = None,
        *,
        redactor: Redactor | None = None,
        attachments: AttachmentStore | None = None,
        conversations: SharedConversations | None = None,
        origin: str | None = None,
        tools: ToolAccess | None = None,
    ) -> None:
        """``conversations``: the one shared by every chat surface (one made here when alone);
        ``origin``: saved in the settings of each conversation this controller starts (the quick
        prompt's go under a heading of their own); ``tools``: MCP tools the model may call."""
        super().__init__(parent)
        self._origin = origin
        self.history = history  # the answer's own writes: messages, checkpoints, versions
        self.conversations = conversations or SharedConversations(history, self)
        if self.conversations.store is not history:
            raise ValueError("the conversations must be over the same history store")
        # Attached files' copies sit next to the history database (user-only).
        self.attachments = attachments or AttachmentStore(history.path.parent / "attachments")
        # Errors quote server bodies, which may echo the API key: shown and saved only redacted.
        self._redactor = redactor if redactor is not None else history.redactor
        self._target = target
        self.tools = ToolTurns(tools, self.conversations, self)  # cards, approvals (tool_turns.py)
        self._exchange: ToolExchange | None = None  # the tool rounds of the answer in flight
        self.conversation_id: int | None = None
        self._pending_options: OptionChanges = {}  # set before the conversation exists
        self._task: asyncio.Task[None] | None = None
        self._answer: Answer | None = None  # the reply in flight (or the last one): what arrived so far
        self._message: StoredMessage | None = None
        self._unsaved: dict[int, MessageFields] = {}  # message id → fields the disk refused
        self._storage_told = False
        self._fallback: tuple[str, str, str] | None = None  # (profile, model, why) when one answered
        self._dropped = 0  # history messages left out of the request in flight
        self._streamed_chars = 0  # text and thinking of the reply in flight, counted as it arrives
        self._regenerating = False  # the reply in flight is a new version of its slot
        self._save_retry = QTimer(self)
        self._save_retry.setInterval(self.SAVE_RETRY_MS)
        self._save_retry.timeout.connect(self.retry_saves)

    # ------------------------------------------------------------------ state

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    @property
    def streaming_message(self) -> StoredMessage | None:
        """The answer being streamed (its placeholder as saved), if any."""
        return self._message if self.busy else None

    @property
    def streaming_text(self) -> str:
        """The text of the answer message in flight (after a tool round: what followed it)."""
        if self._exchange is not None:
            return self._exchange.segment_text()
        return self._answer.text if self._answer is not None else ""

    @property
    def streaming_thinking(self) -> str:
        if self._exchange is not None:
            return self._exchange.segment_thinking()
        return self._answer.thinking if self._answer is not None else ""

    @property
    def unsaved(self) -> int:
        """How many messages have writes the disk refused (kept in memory, retried)."""
        return len(self._unsaved)

    def conversation_options(self) -> ChatOptions:
        """Per-conversation model and parameters (prefilled from the profile for a new one)."""
        target = self._target()
        gen = target.generation
        base = ChatOptions(target.model, gen.system_prompt, gen.temperature, gen.max_tokens)
        if self.conversation_id is None:
            return replace(base, **self._pending_options)
        conv = self.conversations.conversation(self.conversation_id)
        stored = {k: v for k, v in conv.settings.items() if k in OPTION_NAMES}
        if conv.model:
            stored["model"] = conv.model
        return replace(base, **stored)

    def target(self) -> ChatTarget:
        """Where the next request goes (asked fresh each time: the endpoint can change)."""
        return self._target()

    def defaults(self) -> GenerationParams:
        """The profile's generation defaults (what "no preset" means for a conversation)."""
        return self._target().generation

    def set_options(self, **options: object) -> None:
        """Change model / system_prompt / temperature / max_tokens for this conversation only."""
        unknown = set(options) - set(OPTION_NAMES)
        if unknown:
            raise ValueError(f"unknown options: {sorted(unknown)}")
        changes = cast(OptionChanges, options)  # names checked above; values as the widgets give them
        if self.conversation_id is None:
            self._pending_options.update(changes)
            return
        model = changes.pop("model", None)
        self.conversations.set_options(self.conversation_id, model=model, settings=changes)

    # ------------------------------------------------------------------ conversations

    def new_conversation(self) -> None:
        self.stop()
        self.conversation_id = None
        self._pending_options = {}
        self.conversation_changed.emit(-1)

    def open_conversation(self, conversation_id: int) -> None:
        self.conversations.conversation(conversation_id)  # ConversationNotFound if it does not exist
        if conversation_id != self.conversation_id:
            self.stop()
        self.conversation_id = conversation_id
        self.conversation_changed.emit(conversation_id)

    def _ensure_conversation(self) -> int:
        if self.conversation_id is None:
            target = self._target()
            options = self.conversation_options()
            settings: dict[str, object] = {**options.settings()}
            if self._origin is not None:
                settings[ORIGIN_KEY] = self._origin
            conv = self.conversations.create(model=options.model, profile=target.profile, settings=settings)
            self.conversation_id = conv.id
            self._pending_options = {}
            self.tools.conversation_started(conv.id)
            self.conversation_changed.emit(conv.id)
        return self.conversation_id

    # ------------------------------------------------------------------ actions

    def send(self, text: str, attachments: Sequence[Attachment] = ()) -> bool:
        """Save the prompt (and its attachments) and start the answer. False (nothing done) when
        busy or empty."""
        if self.busy or not (text.strip() or attachments):
            return False
        self.retry_saves()
        try:
            conversation = self._ensure_conversation()
            message = self._with_files(self.history.add_message(conversation, "user", text), attachments)
        except HistoryError as exc:
            self._history_failed(exc)
            return False
        self.message_saved.emit(message)
        self.conversations.announce()
        self._start_reply(conversation)
        return True

    def regenerate(self) -> bool:
        """Replace the last answer with a new one (also the Retry of a failed answer)."""
        if self.busy or self.conversation_id is None:
            return False
        try:
            count = self.history.message_count(self.conversation_id)
            if count == 0:
                return False
            last = self.history.messages(self.conversation_id, count - 1)[0]
            if last.role == "assistant":
                # The answer stays as one of the slot's versions: ‹ n/m › brings it back.
                if last.versions == 0 and (last.content or last.thinking):
                    self.history.keep_version(last.id)
                self.history.truncate_from(last.id, keep_versions=True)
                self._regenerating = self.history.answer_versions(last.conversation_id, last.seq) != []
            elif last.role != "user":
                return False
        except HistoryError as exc:
            self._history_failed(exc)
            return False
        self.conversation_changed.emit(self.conversation_id)  # the view reloads without the old answer
        self._start_reply(self.conversation_id)
        return True

    def choose_alternative(self, message_id: int, position: int) -> bool:
        """Show answer ``position`` of a regenerated slot; later turns send the one shown."""
        if self.busy or self.conversation_id is None:
            return False
        try:
            self.history.choose_version(message_id, position)
        except HistoryError as exc:
            self._history_failed(exc)
            return False
        self.conversation_changed.emit(self.conversation_id)
        return True

    def edit(self, message_id: int, text: str, attachments: Sequence[Attachment] = ()) -> bool:
        """Ask again from an edited question as a new branch (core/chat/history_branches.py): the
        question as it was and everything after it stay as branch 1, ‹ n/m › on the question brings
        them back — with the files it carried unless the user removed them (``attachments``: what the
        box holds now)."""
        if self.busy or self.conversation_id is None or not (text.strip() or attachments):
            return False
        self.retry_saves()
        try:
            message = self.history.message(message_id)
            if message.role != "user" or message.conversation_id != self.conversation_id:
                return False
            self._with_files(self.history.branch_from(message_id, text), attachments)
        except HistoryError as exc:
            self._history_failed(exc)
            return False
        self.conversation_changed.emit(self.conversation_id)  # the view reloads: the new branch shown
        self.conversations.announce()
        self._start_reply(self.conversation_id)
        return True

    def choose_branch(self, message_id: int, position: int) -> bool:
        """Show branch ``position`` of an edited question, its whole continuation with it."""
        if self.busy or self.conversation_id is None:
            return False
        try:
            self.history.choose_branch(message_id, position)
        except HistoryError as exc:
            self._history_failed(exc)
            return False
        self.conversation_changed.emit(self.conversation_id)
        return True

    def _with_files(self, message: StoredMessage, attachments: Sequence[Attachment]) -> StoredMessage:
        """``message`` with ``attachments`` recorded as the files it carries."""
        if not attachments:
            return message
        self.history.add_attachments(message.id, attachments)
        return replace(message, attachments=tuple(attachments))

    def stop(self) -> None:
        """Stop the running answer: the stream is closed, the partial answer saved as "stopped"."""
        if self._task is not None and not self._task.done():
            self._task.cancel()

    async def wait_idle(self) -> None:
        """Wait for the running request (if any) to finish saving (shutdown uses this)."""
        task = self._task
        if task is not None and not task.done():
            await asyncio.gather(task, return_exceptions=True)
        if not self.retry_saves():
            log.error("history: %d answer(s) could not be saved before quitting", len(self._unsaved))

    # ------------------------------------------------------------------ the request

    def _start_reply(self, conversation_id: int) -> None:
        options = self.conversation_options()
        target = self._target()
        model = str(options.model or target.model)
        try:
            placeholder = self.history.add_message(
                conversation_id, "assistant", "", status=MessageStatus.STREAMING, meta={"model": model}
            )
        except HistoryError as exc:
            self._history_failed(exc)
            return
        self._message = placeholder
        self._answer = None
        self.reply_started.emit(placeholder)
        self._task = asyncio.ensure_future(self._reply(target, model, options, placeholder))
        self.busy_changed.emit(True)

    async def _reply(
        self, target: ChatTarget, model: str, options: ChatOptions, placeholder: StoredMessage
    ) -> None:
        """The answer from the one pipeline (core/chat/answer.py), mapped to signals and checkpoints."""
        before = self.history.index_of(placeholder.id)
        history = self.history.messages(placeholder.conversation_id, 0, before)
        turns = wire_messages(history, lambda m: message_content(m.content, m.attachments, self.attachments))
        generation = GenerationOptions(
            temperature=options.temperature,
            top_p=target.generation.top_p,
            max_tokens=options.max_tokens,
        )
        chain = [target.answer_target(model), *(t.answer_target(t.model) for t in target.fallbacks)]
        answer = Answer(chain, turns, generation, system=str(options.system_prompt or ""))
        self._exchange, self._answer = None, answer
        self._fallback = None
        self._dropped = 0
        self._streamed_chars = 0
        result: StreamResult | None = None
        error: TrayaiError | None = None
        status = MessageStatus.DONE
        checkpoint = time.monotonic()
        try:
            answer.tools = await self.tools.use_for(target.client, model, placeholder.conversation_id)
            self._exchange = exchange = self.tools.begin(
                self.history, answer, placeholder, self._next_message, self._storage_failed
            )
            async with contextlib.aclosing(answer.events()) as events:
                async for event in events:
                    if exchange is not None and exchange.follow(event):
                        continue  # a tool event; after a round, text goes to the exchange's new message
                    placeholder = exchange.placeholder if exchange is not None else placeholder
                    if isinstance(event, Done):
                        result = event.result
                        if result.finish_reason == "cancelled":
                            status = MessageStatus.STOPPED
                    elif isinstance(event, Failed):
                        status, error = MessageStatus.ERROR, event.error
                    elif self._follow(event) and time.monotonic() - checkpoint >= self._checkpoint_every():
                        checkpoint = time.monotonic()
                        self._checkpoint(placeholder.id)
        except asyncio.CancelledError:
            status = MessageStatus.STOPPED
        except Exception as exc:  # a bug must still leave a saved answer and a message
            log.exception("chat request failed unexpectedly")
            status, error = (
                MessageStatus.ERROR,
                classify_exception(exc, base_url=target.client.base_url, model=model),
            )
        finally:
            if self._exchange is not None:
                placeholder = self._exchange.finish()
            if error is not None:
                error = error.redacted(self._redactor.redact)
            outcome = self._finish(placeholder, status, result, error, self._dropped)
            self._task = None  # idle from here: a slot below may send the next prompt at once
        if error is None:
            self.finished.emit(outcome)
        else:
            self.failed.emit(outcome)
        self.busy_changed.emit(False)
        self.conversations.announce()

    def _next_message(self, message: StoredMessage) -> None:
        """After a tool round the answer goes on in a new message (tool_exchange.py)."""
        self._message = message
        self.reply_started.emit(message)

    def _checkpoint_every(self) -> float:
        big = self._streamed_chars > self.LARGE_ANSWER_CHARS
        return max(self.CHECKPOINT_INTERVAL, 1.0) if big else self.CHECKPOINT_INTERVAL

    def _follow(self, event: AnswerEvent) -> bool:
        """Signal what arrived (or note a fallback or a trim); True when text or thinking came."""
        if isinstance(event, Thinking):
            self._streamed_chars += len(event.text)
            self.thinking_delta.emit(event.text)
        elif isinstance(event, Text):
            self._streamed_chars += len(event.text)
            self.delta.emit(event.text)
        elif isinstance(event, Reading):
            self.prompt_progress.emit(event.progress)
        elif isinstance(event, Trimmed):
            self._dropped = event.dropped
            log.info("chat: %s", event.note)
        elif isinstance(event, FellBack):
            log.warning("chat: %s", self._redactor.redact(event.note))
            self._fallback = (event.to.profile or "", event.to.model, event.why.message)
        return isinstance(event, (Text, Thinking))

    def _checkpoint(self, message_id: int) -> None:
        self._save(message_id, {"content": self.streaming_text, "thinking": self.streaming_thinking})

    def _save(self, message_id: int, fields: MessageFields) -> None:
        """Write ``fields`` now, or keep them (merged with earlier refused ones) for a retry."""
        self._unsaved.setdefault(message_id, {}).update(fields)
        self.retry_saves()

    def retry_saves(self) -> bool:
        """Write what the disk refused earlier, oldest first; True when nothing is left unsaved."""
        while self._unsaved:
            message_id, fields = next(iter(self._unsaved.items()))
            try:
                self.history.update_message(message_id, **fields)
            except MessageNotFound:  # deleted meanwhile: nothing to keep
                pass
            except HistoryError as exc:
                self._storage_failed(exc)
                return False
            del self._unsaved[message_id]
        self._save_retry.stop()
        if self._storage_told:
            self._storage_told = False
            log.info("history: unsaved answers written")
            self.storage_notice.emit("")
        return True

    def _storage_failed(self, exc: HistoryError) -> None:
        if not self._save_retry.isActive():
            self._save_retry.start()
        if self._storage_told:
            return
        self._storage_told = True  # said once per episode, not at every checkpoint
        log.error("history: answers kept in memory: %s", exc)
        self.storage_notice.emit(
            f"{exc.message} This answer is kept in memory and will be saved as soon as the disk "
            f"allows. {exc.hint}"
        )

    def _finish(
        self,
        placeholder: StoredMessage,
        status: MessageStatus,
        result: StreamResult | None,
        error: TrayaiError | None,
        dropped: int,
    ) -> ReplyOutcome:
        text = self.streaming_text
        answer = self._answer
        if result is None and answer is not None:
            result = answer.result  # a Stop or an error: the timings so far
        meta = cast(AnswerRecord, dict(placeholder.meta))  # {"model": …}, saved by _start_reply
        if result is not None:
            meta.update(result.to_dict())
            meta.pop("error", None)
        if status == MessageStatus.STOPPED:
            meta["finish_reason"] = "stopped"
        if error is not None:
            meta["error"] = {"code": error.code.value, "message": error.message, "hint": error.hint}
        if dropped:
            meta["dropped"] = dropped
        if self._fallback is not None:
            profile, model, why = self._fallback
            meta.update(
                {"fallback_profile": profile, "fallback_reason": self._redactor.redact(why), "model": model}
            )
        if answer is not None and answer.used is not None:  # its server; the profile only if its own
            meta.update({"endpoint": answer.used.client.base_url, "profile": answer.used.profile})
            sent, answered = answer.sent, result.model if result is not None else None
            if sent and answered and other_model(sent, answered) is not None:
                meta.update({"model": answered, "asked_model": sent})
        thinking = self.streaming_thinking
        self._save(placeholder.id, {"content": text, "status": status, "meta": meta, "thinking": thinking})
        self._message = None
        version = versions = 0
        if self._regenerating and not self._unsaved:
            self._regenerating = False
            try:  # the new answer joins the slot's earlier ones
                version = versions = self.history.keep_version(placeholder.id)
            except HistoryError as exc:
                log.error("history: the answer could not be kept as a version: %s", exc)
        message = StoredMessage(
            placeholder.id,
            placeholder.conversation_id,
            placeholder.seq,
            "assistant",
            text,
            status,
            dict(meta),
            placeholder.created,
            thinking=thinking,
            version=version,
            versions=versions,
        )
        return ReplyOutcome(message, result, error, dropped)

    def _history_failed(self, exc: HistoryError) -> None:
        error = make_error(ErrorCode.HISTORY, exc.message, exc.hint)
        log.error("history: %s", exc)
        self.failed.emit(
            ReplyOutcome(StoredMessage(-1, -1, -1, "assistant", "", MessageStatus.ERROR), None, error, 0)
        )


__all__ = ["ChatController", "ChatTarget", "ReplyOutcome"]
