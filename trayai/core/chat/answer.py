"""One answer, the same way everywhere: the chat, the quick prompt, ``ask`` and ``batch`` all get their
answers from :class:`Answer`, which owns what used to be written three times — the target chain
(fallbacks), the model check, stream-or-complete, retries after "context exceeded", the vision check —
and, when a front end gives :class:`~trayai.core.chat.tool_loop.ToolUse`, the model's tool calls.

Each front end maps the typed events to what it does (signals and checkpoints, stdout, records).
Modelled on llm's ``AsyncResponse``: an object that is iterated once and keeps what arrived, so a
front end that is cancelled mid-answer still reads the partial text and timings from it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from dataclasses import dataclass, field, replace

from trayai.core.chat.context import Prepared, halve, prepare
from trayai.core.chat.fallback import worth_falling_back
from trayai.core.chat.modelcheck import ServerModels, other_model
from trayai.core.chat.thinking import PartKind
from trayai.core.chat.tool_loop import ToolEvent, ToolLimitReached, ToolRound, ToolUse, without_orphans
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.classify import classify_exception
from trayai.core.net.client import GenerationOptions, ModelClient, StreamResult
from trayai.core.net.prompt_progress import PromptProgress
from trayai.core.net.wire import ChatMessage
from trayai.core.tools.calls import ToolCall

log = logging.getLogger(__name__)

CONTEXT_RETRIES = 4  # "context exceeded" answers: each retry sends half the turns of the last one


@dataclass(frozen=True)
class AnswerTarget:
    """One server an answer may come from: the first of a chain, then its fallbacks in order.

    ``profile`` is the profile's name only when the server is its own (not an ``--endpoint`` run);
    ``models`` reads the server's list for the model check (shared, so a batch reads it once).
    """

    client: ModelClient
    model: str
    profile: str | None
    stream: bool = True
    context_tokens: int = 0  # 0 = unknown: llama.cpp's /props is asked when there is something to trim
    models: ServerModels | None = None

    @property
    def name(self) -> str:
        """How notes name it: the profile, else the URL."""
        return self.profile or self.client.base_url

    def catalog(self) -> ServerModels:
        return self.models if self.models is not None else ServerModels(self.client)


@dataclass(frozen=True)
class Started:
    """A request goes to ``target`` with ``model`` (the server's own spelling)."""

    target: AnswerTarget
    model: str


@dataclass(frozen=True)
class Thinking:
    """A reasoning model's thinking as it arrives (shown apart, never sent back)."""

    text: str


@dataclass(frozen=True)
class Reading:
    """The server reports how far it has read the prompt (before the first token; llama.cpp)."""

    progress: PromptProgress


@dataclass(frozen=True)
class Text:
    """Answer text as it arrives."""

    text: str


@dataclass(frozen=True)
class FellBack:
    """``source`` failed before a first token; ``to`` is tried next."""

    source: AnswerTarget
    to: AnswerTarget
    why: TrayaiError

    @property
    def note(self) -> str:
        """The words every front end shows for it (``ask`` and ``batch`` on stderr, the chat's log)."""
        return f"{self.source.name!r} cannot answer ({self.why.message}) — trying fallback {self.to.name!r}"


@dataclass(frozen=True)
class Trimmed:
    """``dropped`` of the oldest turns are left out (the context window)."""

    dropped: int

    @property
    def note(self) -> str:
        """The words every front end shows for it (``ask`` and ``batch`` on stderr, the chat's log)."""
        return f"{self.dropped} earlier message(s) left out to fit the context window"


@dataclass(frozen=True)
class Done:
    """The answer ended (also cut at max tokens, or "cancelled" by the server side's close)."""

    result: StreamResult
    target: AnswerTarget
    sent: str  # the model name sent
    other_model: str | None  # the model that answered when its own ``model`` names another one


@dataclass(frozen=True)
class Failed:
    """No answer (or part of one): ``error`` says why; :attr:`Answer.text` keeps what arrived."""

    error: TrayaiError
    target: AnswerTarget
    partial: str


AnswerEvent = Started | Reading | Thinking | Text | FellBack | Trimmed | Done | Failed | ToolEvent


@dataclass
class Answer:
    """One answer over ``targets`` for ``turns`` (oldest first; leading system messages are kept
    whatever is trimmed). Iterate :meth:`events` once; the attributes hold what arrived so far.

    With ``tools``, a turn the model ends with tool calls is followed by the calls' events (see
    core/chat/tool_loop.py) and another request, at most ``tools.max_rounds`` times; ``exchange``
    holds the assistant-with-calls and tool messages in order (also after a Stop: a call cut short is
    answered "cancelled"), ``reply_text`` the text after the last of them. Without ``tools`` the
    request and the events are what they always were.
    """

    targets: Sequence[AnswerTarget]
    turns: Sequence[ChatMessage]
    options: GenerationOptions = field(default_factory=GenerationOptions)
    system: str = ""
    check_models: bool = True  # False: the name is sent as given (``ask --no-resolve``)
    text_parts: list[str] = field(default_factory=list)
    thinking_parts: list[str] = field(default_factory=list)
    result: StreamResult | None = None  # the last attempt's, also after a Stop or an error
    used: AnswerTarget | None = None
    sent: str | None = None
    fell_back: FellBack | None = None
    dropped: int = 0
    tools: ToolUse | None = None
    exchange: list[ChatMessage] = field(default_factory=list)
    rounds: int = 0  # turns of tool calls run
    _reply_from: int = field(default=0, init=False, repr=False)  # text_parts index after the last round

    @property
    def text(self) -> str:
        """Everything the model said, across tool rounds (what a front end streamed)."""
        return "".join(self.text_parts)

    @property
    def reply_text(self) -> str:
        """The text after the last tool round: the final assistant message (all of ``text`` without tools)."""
        return "".join(self.text_parts[self._reply_from :])

    @property
    def thinking(self) -> str:
        return "".join(self.thinking_parts)

    async def events(self) -> AsyncGenerator[AnswerEvent, None]:
        """Started, then Reading (how far the server read the prompt, where it says), Thinking/Text
        as they arrive (Trimmed, FellBack where they happen), then one Done or Failed. Cancelling the
        consumer closes the stream (the server stops generating)."""
        if not self.targets:
            raise ValueError("an answer needs at least one target")
        system, turns = _split_system(self.system, self.turns)
        for position, target in enumerate(self.targets):
            following = self.targets[position + 1] if position + 1 < len(self.targets) else None
            try:
                async for event in self._from(target, system, turns):
                    yield event
                return
            except TrayaiError as exc:
                if (
                    following is not None
                    and not self.exchange  # a tool that ran is never run again elsewhere
                    and worth_falling_back(exc, text_so_far=self.text + self.thinking)
                ):
                    self.fell_back = FellBack(target, following, exc)
                    yield self.fell_back
                    continue
                yield Failed(_about_images(exc, turns), target, self.text)
                return
            except Exception as exc:
                log.exception("an answer failed unexpectedly")
                error = classify_exception(exc, base_url=target.client.base_url, model=self.sent)
                yield Failed(error, target, self.text)
                return

    async def _from(
        self, target: AnswerTarget, system: str, turns: list[ChatMessage]
    ) -> AsyncIterator[AnswerEvent]:
        model = target.model
        if self.check_models:  # never a name the server lacks: it would answer with another model
            model = (await target.catalog().check(model)).send
        self.used, self.sent = target, model
        yield Started(target, model)
        await _check_vision(target, model, turns)
        window = target.context_tokens
        if not window and len(turns) > 1:  # a window matters only when there is something to leave out
            window = await target.client.context_window() or 0
        prepared = prepare(system, turns, context_tokens=window, reply_tokens=self.options.max_tokens)
        options = self.options
        if self.tools is not None:
            options = replace(options, tools=self.tools.tools())
        always: set[str] = set()  # "Always for this tool" holds for the rest of the answer at once
        retries = 0
        while True:
            if prepared.dropped != self.dropped:
                self.dropped = prepared.dropped
                yield Trimmed(prepared.dropped)
            try:
                async for event in self._attempt(target, model, self._messages(prepared), options):
                    yield event
            except TrayaiError as exc:
                keep = halve(prepared, len(turns)) if exc.code is ErrorCode.CONTEXT_EXCEEDED else None
                if keep is None or self.text or self.thinking or retries >= CONTEXT_RETRIES:
                    raise
                retries += 1
                log.info("context exceeded: retrying with the last %d messages", keep)
                prepared = prepare(
                    system, turns, context_tokens=window, reply_tokens=self.options.max_tokens, keep_last=keep
                )
                continue
            calls = self._calls_to_run(options)
            if self.tools is None or not calls:
                break
            if self.rounds >= self.tools.max_rounds:
                yield ToolLimitReached(self.rounds)
                options = replace(options, tool_choice="none")
                continue
            self.rounds += 1
            async for event in ToolRound(self.tools, always).run(self.reply_text, calls, self.exchange):
                yield event
            self._reply_from = len(self.text_parts)
        assert self.result is not None
        yield Done(self.result, target, model, other_model(model, self.result.model))

    def _messages(self, prepared: Prepared) -> list[ChatMessage]:
        """What is sent: the history as prepared, then this answer's tool calls and results so far."""
        if self.tools is None:
            return prepared.messages
        history = without_orphans(prepared.messages) if prepared.dropped else prepared.messages
        return history + self.exchange

    def _calls_to_run(self, options: GenerationOptions) -> list[ToolCall]:
        """The calls the last turn ended with, when tools were offered and may be called."""
        if self.result is None or not options.tools or options.tool_choice == "none":
            return []
        return list(self.result.tool_calls)

    async def _attempt(
        self, target: AnswerTarget, model: str, messages: list[ChatMessage], options: GenerationOptions
    ) -> AsyncIterator[AnswerEvent]:
        client = target.client
        await client.warm_up()  # the SDK import happens off the UI thread
        if not target.stream:
            self.result = await client.complete(messages, model=model, options=options)
            if self.result.thinking:
                self.thinking_parts.append(self.result.thinking)
                yield Thinking(self.result.thinking)
            self.text_parts.append(self.result.text)
            yield Text(self.result.text)
            return
        stream = client.stream_chat(messages, model=model, options=options)
        try:
            async with stream:
                async for part in stream.pieces():
                    if isinstance(part, PromptProgress):
                        yield Reading(part)
                    elif part.kind is PartKind.THINKING:
                        self.thinking_parts.append(part.text)
                        yield Thinking(part.text)
                    else:
                        self.text_parts.append(part.text)
                        yield Text(part.text)
        finally:
            self.result = stream.result  # also after Stop or an error: the timings so far


def _split_system(system: str, turns: Sequence[ChatMessage]) -> tuple[str, list[ChatMessage]]:
    """Leading system messages join ``system``: trimming must never drop them."""
    rest = list(turns)
    parts = [system] if system.strip() else []
    while len(rest) > 1 and rest[0].get("role") == "system" and isinstance(rest[0].get("content"), str):
        parts.append(str(rest.pop(0)["content"]))
    return "\n\n".join(parts), rest


async def _check_vision(target: AnswerTarget, model: str, turns: list[ChatMessage]) -> None:
    """Images to a model the server says cannot see them: refused before sending, with why."""
    if not any(isinstance(t.get("content"), list) for t in turns):
        return
    if await target.client.vision(model) is False:
        raise make_error(
            ErrorCode.UNSUPPORTED,
            f"{model} cannot see images (its server says so)",
            "Pick a model that can (a vision model), or ask without the image.",
        )


def _about_images(error: TrayaiError, turns: list[ChatMessage]) -> TrayaiError:
    """A server that refused a question with an image is most likely refusing the image: say so."""
    if error.code not in (ErrorCode.BAD_REQUEST, ErrorCode.SERVER_ERROR) or not any(
        isinstance(t.get("content"), list) for t in turns
    ):
        return error
    return TrayaiError(
        error.code,
        error.message,
        f"The question had an image: this model may not accept images — try a vision model. {error.hint}",
        detail=error.detail,
        status=error.status,
    )


__all__ = [
    "Answer",
    "AnswerEvent",
    "AnswerTarget",
    "Done",
    "Failed",
    "FellBack",
    "Reading",
    "Started",
    "Text",
    "Thinking",
    "Trimmed",
]
# The tool events (ToolCallRequested, ToolCallDone, ToolLimitReached) are core/chat/tool_loop.py's.
