"""One streamed chat answer: SSE parsing, absolute deadlines, size caps, the final StreamResult —
with the tool calls the model made (``delta.tool_calls`` fragments assembled) on it, and the server's
prompt-reading progress (llama.cpp's ``prompt_progress``) as typed events before the first token.

See docs/architecture.md, "Answers are never lost or faked" and "Hostile servers".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from trayai.core.chat.thinking import PartKind, StreamPart, ThinkSplitter
from trayai.core.error_catalog import ErrorCode, ErrorPhase
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.classify import classify_exception, extract_server_message
from trayai.core.net.prompt_progress import PromptProgress, parse_prompt_progress
from trayai.core.net.responses import completion_fields, message_reasoning, parse_json_object
from trayai.core.net.urls import host_port
from trayai.core.net.wire import GenerationOptions, JSONObject, Message, StreamResult, Usage, within
from trayai.core.textsafe import valid_text
from trayai.core.tools.calls import ToolCallAssembler

if TYPE_CHECKING:
    import httpx2

    from trayai.core.net.client import ModelClient

# Caps against misbehaving servers (far above what a real server sends).
MAX_EVENT_BYTES = 1_000_000  # one SSE line; a real delta is a few hundred bytes
MAX_ANSWER_CHARS = 8_000_000  # one answer's text (the chat view stays responsive well past this)

T = TypeVar("T")
Piece = StreamPart | PromptProgress  # what parts() yields: text (answer or thinking), or progress


@dataclass
class _StreamState:
    """What one streamed answer has shown so far (times are ``time.perf_counter()`` values)."""

    started: float
    model: str
    ttft: float | None = None  # first content token, for the figures
    last_progress: float | None = None  # last event carrying text (answer or reasoning): the stall clock
    finish: str | None = None
    usage: Usage | None = None
    times: list[float] = field(default_factory=list)
    events: int = 0  # content events (answer and thinking), for the max_tokens guard
    chars: int = 0
    thinking_started: float | None = None
    thinking_ended: float | None = None  # the first answer text after thinking


class _Done:
    """The ``data: [DONE]`` event (a typed sentinel)."""


DONE = _Done()


class ChatStream:
    """An async iterator of text deltas for one request; ``result`` is set when it ends.

    Cancelling the task that iterates (or leaving the ``async with`` block early) closes the HTTP
    response so the server stops generating; ``result.finish_reason`` is then "cancelled".
    Deadlines are absolute (first token, stall between events that carry text, the whole answer),
    so a server trickling bytes cannot hold an answer open.
    """

    def __init__(
        self, client: ModelClient, messages: list[Message], model: str, options: GenerationOptions
    ) -> None:
        self._client = client
        self._messages = messages
        self._model = model
        self._options = options
        self._chunks: list[str] = []
        self._thinking: list[str] = []
        self._splitter = ThinkSplitter()
        self._calls = ToolCallAssembler()  # the turn's ``tool_calls`` fragments, put together
        self._gen: AsyncGenerator[Piece, None] | None = None
        self.result: StreamResult | None = None
        self.progress: PromptProgress | None = None  # the server's last prompt-reading report

    @property
    def text(self) -> str:
        """The answer received so far (also after a failure), without the thinking."""
        return "".join(self._chunks)

    @property
    def thinking(self) -> str:
        """A reasoning model's thinking received so far."""
        return "".join(self._thinking)

    def __aiter__(self) -> ChatStream:
        return self

    async def __anext__(self) -> str:
        """The next piece of answer text (thinking is collected in :attr:`thinking`, not yielded)."""
        while True:
            part = await self._next_part()
            if isinstance(part, StreamPart) and part.kind is PartKind.ANSWER:
                return part.text

    def parts(self) -> AsyncIterator[StreamPart]:
        """Answer and thinking as they arrive, for views that show the thinking live."""
        return self._parts()

    def pieces(self) -> AsyncIterator[Piece]:
        """:meth:`parts`, and before the first token :class:`PromptProgress` where the server reports
        how far it has read the prompt (llama.cpp, asked through ``return_progress``)."""
        return self._pieces()

    async def _parts(self) -> AsyncGenerator[StreamPart, None]:
        async for piece in self._pieces():
            if isinstance(piece, StreamPart):
                yield piece

    async def _pieces(self) -> AsyncGenerator[Piece, None]:
        while True:
            try:
                yield await self._next_part()
            except StopAsyncIteration:
                return

    async def _next_part(self) -> Piece:
        if self._gen is None:
            self._gen = self._run()
        return await self._gen.__anext__()

    async def __aenter__(self) -> ChatStream:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop reading and close the connection (idempotent)."""
        if self._gen is not None:
            await self._gen.aclose()
        elif self.result is None:
            self._finish("cancelled", None, _StreamState(time.perf_counter(), self._model))

    async def _run(self) -> AsyncGenerator[Piece, None]:
        endpoint = self._client.endpoint
        state = _StreamState(time.perf_counter(), self._model)
        outcome = "cancelled"
        error: TrayaiError | None = None
        try:
            async with contextlib.aclosing(self._request(state)) as deltas:
                async for delta in deltas:
                    yield delta
            if not state.finish:
                # llama-cpp-python ends a stream it cut for another request with [DONE] and no
                # finish_reason: calling that "stop" silently passed off half answers as whole.
                raise make_error(
                    ErrorCode.INTERRUPTED,
                    f"{host_port(endpoint.base_url)} ended the answer without finishing it "
                    "(interrupted by the server)",
                )
            outcome = state.finish
        except TrayaiError as exc:
            outcome, error = "error", exc
            raise
        except (asyncio.CancelledError, GeneratorExit):
            outcome = "cancelled"
            raise
        except Exception as exc:  # anything unexpected still gets a typed message
            outcome = "error"
            error = classify_exception(
                exc,
                base_url=endpoint.base_url,
                model=self._model,
                phase=ErrorPhase.STREAM if state.ttft is not None else ErrorPhase.FIRST_TOKEN,
            )
            raise error from exc
        finally:
            self._finish(outcome, error, state)

    def _deadline(self, state: _StreamState) -> tuple[float, TrayaiError]:
        """The next deadline (a perf_counter value) and the error to raise when it passes."""
        endpoint = self._client.endpoint
        where = host_port(endpoint.base_url)
        overall = (
            state.started + endpoint.answer_timeout,
            make_error(
                ErrorCode.ANSWER_TIMEOUT,
                f"The answer from {where} took longer than {endpoint.answer_timeout:g} s (answer_timeout)",
            ),
        )
        if state.last_progress is None:
            first = (
                state.started + endpoint.first_token_timeout,
                make_error(
                    ErrorCode.FIRST_TOKEN_TIMEOUT,
                    f"{where} sent no token within {endpoint.first_token_timeout:g} s",
                ),
            )
        else:
            first = (
                state.last_progress + endpoint.stall_timeout,
                make_error(
                    ErrorCode.STALLED,
                    f"The reply from {where} stalled: no new text for {endpoint.stall_timeout:g} s",
                ),
            )
        return min(first, overall, key=lambda pair: pair[0])

    async def _before(self, awaitable: Awaitable[T], state: _StreamState) -> T:
        """Await ``awaitable`` within the current deadline, raising its typed error when it passes."""
        when, error = self._deadline(state)
        try:
            return await within(awaitable, max(0.0, when - time.perf_counter()))
        except asyncio.TimeoutError as exc:
            raise error from exc

    async def _request(self, state: _StreamState) -> AsyncGenerator[Piece, None]:
        client = self._client
        endpoint = client.endpoint
        oai = client.sdk()
        body: dict[str, Any] = {**self._options.as_body(), **client.stream_options()}
        extra = client.progress_request()  # a field the SDK does not know goes in extra_body
        if extra:
            body["extra_body"] = extra
        # Typed as Any: messages are plain dicts and options vary by server, so the SDK's
        # TypedDict overloads would only get in the way.
        create: Any = oai.chat.completions.with_streaming_response.create
        manager = create(model=self._model, messages=self._messages, stream=True, **body)
        try:
            response = await self._before(manager.__aenter__(), state)
        except TrayaiError:
            raise
        except Exception as exc:
            error = classify_exception(
                exc, base_url=endpoint.base_url, model=self._model, phase=ErrorPhase.FIRST_TOKEN
            )
            if client.refuses_stream_options(error):  # sent again without the refused field
                async with contextlib.aclosing(self._request(state)) as deltas:
                    async for delta in deltas:
                        yield delta
                return
            raise error from exc
        try:
            async with contextlib.aclosing(self._read(response.http_response, state)) as deltas:
                async for delta in deltas:
                    yield delta
        finally:
            await manager.__aexit__(None, None, None)

    async def _read(self, response: httpx2.Response, state: _StreamState) -> AsyncGenerator[Piece, None]:
        endpoint = self._client.endpoint
        if "event-stream" not in response.headers.get("content-type", ""):
            for part in await self._read_whole(response, state):
                yield part
            return
        chunks = response.aiter_bytes().__aiter__()
        parts: list[bytes] = []  # the line being assembled: joined once, when its newline arrives
        pending = 0
        done = False
        try:
            while not done:
                chunk = await self._next_chunk(chunks, state)
                if chunk is None:
                    break
                start = 0
                while not done:
                    newline = chunk.find(b"\n", start)
                    if newline < 0:
                        if start < len(chunk):
                            parts.append(chunk[start:])
                            pending += len(chunk) - start
                            self._check_event_size(pending)
                        break
                    piece = chunk[start:newline]
                    line = b"".join((*parts, piece)) if parts else piece
                    parts, pending = [], 0
                    start = newline + 1
                    self._check_event_size(len(line))
                    event = self._event(line, state)
                    if isinstance(event, _Done):
                        done = True
                    elif event:
                        self._check_length(state)
                        for item in event:
                            yield item
            for part in self._splitter.flush():  # a tag-like tail held back is text after all
                yield self._took(part, state)
            if done:
                await _drain(chunks)
        finally:
            # Close the byte iterator here, inside the loop: left to the garbage collector after a
            # parse error, its clean-up would run outside any event loop and fail noisily.
            with contextlib.suppress(Exception):
                await chunks.aclose()  # type: ignore[attr-defined]
        if not done and state.finish is None:
            raise make_error(
                ErrorCode.DISCONNECTED,
                f"The connection to {host_port(endpoint.base_url)} closed before the reply finished",
            )

    async def _next_chunk(self, chunks: AsyncIterator[bytes], state: _StreamState) -> bytes | None:
        """The next bytes of the stream within the deadline; None at its end; failures typed."""
        try:
            return await self._before(chunks.__anext__(), state)
        except StopAsyncIteration:
            return None
        except TrayaiError:
            raise
        except Exception as exc:
            raise classify_exception(
                exc,
                base_url=self._client.endpoint.base_url,
                model=self._model,
                phase=ErrorPhase.STREAM
                if state.ttft is not None or self._chunks or self._thinking
                else ErrorPhase.FIRST_TOKEN,
            ) from exc

    async def _read_whole(self, response: httpx2.Response, state: _StreamState) -> list[StreamPart]:
        """A server that ignored stream=True (or an HTML page): the whole body, read once."""
        content_type = response.headers.get("content-type", "")
        base_url = self._client.endpoint.base_url
        raw = await self._before(response.aread(), state)
        data = parse_json_object(raw.decode("utf-8", "replace"), content_type, base_url)
        text, finish, usage = completion_fields(data, base_url)
        state.ttft = time.perf_counter() - state.started
        state.finish, state.usage = finish, usage
        self._calls.feed_message(data)
        parts = []
        reasoning = message_reasoning(data)
        if reasoning:
            parts.append(StreamPart(PartKind.THINKING, reasoning))
        parts += self._splitter.feed(text or "") + self._splitter.flush()
        return [self._took(StreamPart(p.kind, valid_text(p.text)), state) for p in parts]

    def _check_event_size(self, size: int) -> None:
        """One SSE line past :data:`MAX_EVENT_BYTES` is refused (a real delta is a few hundred bytes)."""
        if size > MAX_EVENT_BYTES:
            raise make_error(
                ErrorCode.TOO_LARGE,
                f"{host_port(self._client.base_url)} sent a streamed event larger than "
                f"{MAX_EVENT_BYTES // 1_000_000} MB",
            )

    def _check_length(self, state: _StreamState) -> None:
        """Stop reading an answer far past its limit: the server ignored ``max_tokens`` (or none)."""
        where = host_port(self._client.base_url)
        limit = self._options.max_tokens
        if limit and state.events > 2 * limit + 16:
            raise make_error(
                ErrorCode.LENGTH_IGNORED,
                f"{where} ignored max_tokens={limit}: stopped reading after {state.events} tokens",
            )
        if state.chars > MAX_ANSWER_CHARS:
            raise make_error(
                ErrorCode.TOO_LARGE,
                f"The answer from {where} passed {MAX_ANSWER_CHARS // 1_000_000} million characters: "
                "stopped reading",
            )

    def _event(self, line: bytes, state: _StreamState) -> list[Piece] | _Done | None:
        """Handle one SSE line; returns its answer/thinking parts (or progress), :data:`DONE` or None."""
        line = line.rstrip(b"\r")
        if not line.startswith(b"data:"):
            if not line or line.startswith((b":", b"event:", b"id:", b"retry:")):
                return None
            raise make_error(
                ErrorCode.MALFORMED_STREAM,
                f"{host_port(self._client.base_url)} sent a line that is not a server-sent event",
                detail=line[:200].decode("utf-8", "replace"),
            )
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return DONE
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise make_error(
                ErrorCode.MALFORMED_STREAM,
                f"{host_port(self._client.base_url)} sent an event that is not valid JSON",
                detail=payload[:200].decode("utf-8", "replace"),
            ) from exc
        if not isinstance(data, dict):
            return None
        if data.get("error"):
            message = extract_server_message(json.dumps(data)) or "the server reported an error"
            raise make_error(
                ErrorCode.STREAM_ERROR, f"The server failed mid-reply: {message}", detail=message
            )
        self._note_model_and_usage(data, state)
        progress: list[Piece] = [p] if (p := self._note_progress(data, state)) is not None else []
        choices = data.get("choices")
        if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
            return progress or None
        choice = choices[0]
        if isinstance(choice.get("finish_reason"), str) and choice["finish_reason"]:
            state.finish = choice["finish_reason"][:40]
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            return progress or None
        if delta.get("tool_calls"):
            state.last_progress = time.perf_counter()  # the model is working: not a stall
            self._calls.feed(delta)
        parts: list[StreamPart] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            parts.append(StreamPart(PartKind.THINKING, reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            parts.extend(self._splitter.feed(content))
        if not parts:
            return progress or None
        state.events += 1
        return progress + [self._took(StreamPart(p.kind, valid_text(p.text)), state) for p in parts]

    def _note_progress(self, data: JSONObject, state: _StreamState) -> PromptProgress | None:
        """A prompt-reading report before the first token (llama.cpp sends them in chunks with an
        empty delta). The server is working: the first-token wait becomes a stall wait from here."""
        if state.ttft is not None:
            return None  # progress attached to a later chunk says nothing new
        progress = parse_prompt_progress(data)
        if progress is None:
            return None
        state.last_progress = time.perf_counter()
        self.progress = progress
        return progress

    @staticmethod
    def _note_model_and_usage(data: JSONObject, state: _StreamState) -> None:
        """The model's own name and the token usage, from whichever event carries them."""
        model = data.get("model")
        if isinstance(model, str) and model:
            state.model = model[:200]
        usage = data.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            prompt = usage.get("prompt_tokens")
            prompt_tokens = prompt if isinstance(prompt, int) else None
            state.usage = Usage(prompt_tokens, usage["completion_tokens"], False)

    def _took(self, part: StreamPart, state: _StreamState) -> StreamPart:
        """Account for one part: the clocks, the caps, and the answer or thinking it belongs to.

        Text is made valid UTF-8 first: a lone surrogate (valid JSON) must not break a write.
        """
        now = time.perf_counter()
        if state.ttft is None:
            state.ttft = now - state.started  # the server's first token, thinking or answer
        state.last_progress = now
        state.chars += len(part.text)
        state.times.append(now)  # thinking tokens are generated tokens too (and in usage)
        if part.kind is PartKind.THINKING:
            state.thinking_started = state.thinking_started or now
            self._thinking.append(part.text)
        else:
            if state.thinking_started is not None and state.thinking_ended is None:
                state.thinking_ended = now
            self._chunks.append(part.text)
        return part

    def _finish(self, outcome: str, error: TrayaiError | None, state: _StreamState) -> None:
        if self.result is not None:
            return
        end = time.perf_counter()
        times = state.times
        usage = state.usage if state.usage is not None else Usage(None, len(times), True)
        rate = None
        if len(times) >= 2 and times[-1] > times[0]:
            # Generation speed between first and last token (excludes time to first token).
            rate = (usage.completion_tokens - 1) / (times[-1] - times[0])
        thought = None
        if state.thinking_started is not None:
            thought = (state.thinking_ended or end) - state.thinking_started
        self.result = StreamResult(
            text=self.text,
            model=state.model or self._model,
            finish_reason=outcome,
            usage=usage,
            ttft=state.ttft,
            duration=end - state.started,
            tokens_per_second=rate,
            error=error,
            thinking=self.thinking,
            thinking_seconds=thought,
            tool_calls=tuple(self._calls.calls()),
        )


async def _drain(chunks: AsyncIterator[bytes], limit: float = 1.0) -> None:
    """Read what follows ``[DONE]`` (the terminating chunk) so the connection returns to the pool.

    Without this, closing a not-fully-read HTTP/1.1 response drops the keep-alive connection and the
    next request pays for a new TCP handshake. Bounded: a server that keeps talking gets cut off.
    """
    deadline = time.perf_counter() + limit
    with contextlib.suppress(Exception):
        while time.perf_counter() < deadline:
            await within(chunks.__anext__(), max(0.0, deadline - time.perf_counter()))
