"""One streamed chat answer on the wire: the request, the bytes cut into SSE lines, absolute deadlines
and the event-size cap, and the typed error for every way it ends early. What the events say —
text, thinking, tool calls, prompt progress, usage, the final StreamResult — is
``core/net/stream_events.py``'s.

See docs/architecture.md, "Answers are never lost or faked" and "Hostile servers".
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from trayai.core.chat.thinking import PartKind, StreamPart
from trayai.core.error_catalog import ErrorCode, ErrorPhase
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.classify import classify_exception
from trayai.core.net.prompt_progress import PromptProgress
from trayai.core.net.stream_events import AnswerEvents, Done, Piece, StreamClock
from trayai.core.net.urls import host_port
from trayai.core.net.wire import GenerationOptions, Message, StreamResult, within

if TYPE_CHECKING:
    import httpx2

    from trayai.core.net.client import ModelClient

T = TypeVar("T")


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
        self._events = self._new_events()
        self._gen: AsyncGenerator[Piece, None] | None = None
        self.result: StreamResult | None = None

    @property
    def text(self) -> str:
        """The answer received so far (also after a failure), without the thinking."""
        return self._events.text

    @property
    def thinking(self) -> str:
        """A reasoning model's thinking received so far."""
        return self._events.thinking

    @property
    def progress(self) -> PromptProgress | None:
        """The server's last prompt-reading report."""
        return self._events.progress

    def _new_events(self) -> AnswerEvents:
        return AnswerEvents(self._client.endpoint.base_url, self._model, self._options.max_tokens)

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
            self._events = self._new_events()  # never started: its clock starts and ends now
            self._finish("cancelled", None)

    async def _run(self) -> AsyncGenerator[Piece, None]:
        endpoint = self._client.endpoint
        self._events = events = self._new_events()
        state = events.clock
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
            self._finish(outcome, error)

    def _deadline(self, state: StreamClock) -> tuple[float, TrayaiError]:
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

    async def _before(self, awaitable: Awaitable[T], state: StreamClock) -> T:
        """Await ``awaitable`` within the current deadline, raising its typed error when it passes."""
        when, error = self._deadline(state)
        try:
            return await within(awaitable, max(0.0, when - time.perf_counter()))
        except asyncio.TimeoutError as exc:
            raise error from exc

    async def _request(self, state: StreamClock) -> AsyncGenerator[Piece, None]:
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

    async def _read(self, response: httpx2.Response, state: StreamClock) -> AsyncGenerator[Piece, None]:
        endpoint = self._client.endpoint
        events = self._events
        content_type = response.headers.get("content-type", "")
        if "event-stream" not in content_type:
            for part in events.whole(await self._before(response.aread(), state), content_type):
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
                            events.check_event_size(pending)
                        break
                    piece = chunk[start:newline]
                    line = b"".join((*parts, piece)) if parts else piece
                    parts, pending = [], 0
                    start = newline + 1
                    events.check_event_size(len(line))
                    event = events.line(line)
                    if isinstance(event, Done):
                        done = True
                    elif event:
                        for item in event:
                            yield item
            for part in events.flush():  # a tag-like tail held back is text after all
                yield part
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

    async def _next_chunk(self, chunks: AsyncIterator[bytes], state: StreamClock) -> bytes | None:
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
                phase=ErrorPhase.STREAM if self._events.answering else ErrorPhase.FIRST_TOKEN,
            ) from exc

    def _finish(self, outcome: str, error: TrayaiError | None) -> None:
        if self.result is None:
            self.result = self._events.result(outcome, error)


async def _drain(chunks: AsyncIterator[bytes], limit: float = 1.0) -> None:
    """Read what follows ``[DONE]`` (the terminating chunk) so the connection returns to the pool.

    Without this, closing a not-fully-read HTTP/1.1 response drops the keep-alive connection and the
    next request pays for a new TCP handshake. Bounded: a server that keeps talking gets cut off.
    """
    deadline = time.perf_counter() + limit
    with contextlib.suppress(Exception):
        while time.perf_counter() < deadline:
            await within(chunks.__anext__(), max(0.0, deadline - time.perf_counter()))
