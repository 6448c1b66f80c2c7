"""Talking to an OpenAI-compatible server: list models, stream a chat completion, measure it.

See docs/architecture.md, "Streaming", "Answers are never lost" and "Hostile servers".
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from trayai.core.errors import (
    ErrorCode,
    ErrorPhase,
    TrayaiError,
    classify_exception,
    classify_status,
    extract_server_message,
    looks_like_html,
    make_error,
)
from trayai.core.textsafe import valid_text
from trayai.core.urls import host_port, is_loopback_url, normalize_base_url

if TYPE_CHECKING:
    import httpx2
    from openai import AsyncOpenAI

Message = Mapping[str, Any]

# Caps against misbehaving servers (every one far above what a real server sends).
MAX_EVENT_BYTES = 1_000_000  # one SSE line; a real delta is a few hundred bytes
MAX_ANSWER_CHARS = 8_000_000  # one answer's text (the chat view stays responsive well past this)
MAX_LISTING_BYTES = 8_000_000  # a /models body (thousands of models fit in a few hundred KB)


T = TypeVar("T")


def _import_openai() -> None:
    import openai  # noqa: F401 - loaded for its side effect: the module is cached for later


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await`` with a deadline (raises ``TimeoutError``) that never swallows a cancellation.

    Why not ``asyncio.wait_for``: on Python 3.11 it returns the result instead of raising when the
    task is cancelled just as the awaited thing completes — measured here, a Stop pressed while
    tokens arrive at 1,000/s was lost about one time in three and the answer ran on to max tokens.
    ``asyncio.timeout`` (3.11+) keeps an outside cancellation; 3.10 falls back to ``wait_for``.
    """
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)  # pragma: no cover - Python 3.10


@dataclass(frozen=True)
class Endpoint:
    """Where to send requests: a normalised base URL, the key to send and the timeouts."""

    base_url: str
    api_key: str
    name: str = "default"
    connect_timeout: float = 5.0
    first_token_timeout: float = 120.0
    stall_timeout: float = 60.0
    answer_timeout: float = 1800.0  # the whole answer, however steadily the server trickles
    models_timeout: float = 10.0

    @classmethod
    def create(cls, base_url: str, api_key: str, **kwargs: Any) -> Endpoint:
        """Normalise ``base_url`` (raising :class:`~trayai.core.urls.InvalidURLError`) and build."""
        return cls(base_url=normalize_base_url(base_url).url, api_key=api_key, **kwargs)


@dataclass(frozen=True)
class ModelInfo:
    id: str
    owned_by: str | None = None
    created: int | None = None


@dataclass(frozen=True)
class ModelListing:
    """``GET /models`` as seen by the client, with how long it took and what answered."""

    models: list[ModelInfo]
    latency: float
    server: str | None = None

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.models]


@dataclass(frozen=True)
class GenerationOptions:
    """Per-request sampling options; None leaves the choice to the server."""

    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def as_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            k: v
            for k, v in (
                ("temperature", self.temperature),
                ("top_p", self.top_p),
                ("max_tokens", self.max_tokens),
            )
            if v is not None
        }
        body.update(self.extra)
        return body


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int | None
    completion_tokens: int
    estimated: bool  # True when counted from stream chunks because the server sent no usage


@dataclass(frozen=True)
class StreamResult:
    """The final record of a reply: what arrived, why it ended and how fast it was.

    ``finish_reason`` is the server's ("stop", "length", …), or "cancelled" when the caller stopped
    it, or "error" when it failed (``error`` then holds the typed error and ``text`` what arrived).
    """

    text: str
    model: str
    finish_reason: str
    usage: Usage
    ttft: float | None  # seconds from sending the request to the first content token
    duration: float  # seconds from sending the request to the end
    tokens_per_second: float | None
    error: TrayaiError | None = None

    @property
    def cut_at_max_tokens(self) -> bool:
        return self.finish_reason == "length"

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "finish_reason": self.finish_reason,
            "prompt_tokens": self.usage.prompt_tokens,
            "completion_tokens": self.usage.completion_tokens,
            "usage_estimated": self.usage.estimated,
            "ttft_s": None if self.ttft is None else round(self.ttft, 4),
            "duration_s": round(self.duration, 4),
            "tokens_per_second": None if self.tokens_per_second is None else round(self.tokens_per_second, 2),
            "error": None if self.error is None else self.error.to_dict(),
        }


class ModelClient:
    """The async client for one endpoint profile; create once, reuse (a kept-alive connection spares
    the next request its handshake), ``aclose()`` at the end."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._openai: AsyncOpenAI | None = None
        self._http: httpx2.AsyncClient | None = None
        self._stream_options_ok = True  # LM Studio refuses stream_options: see refuses_stream_options
        self._unsupported: set[str] = set()  # llama.cpp extras this server does not have
        self._context_window: int | None = None

    @property
    def base_url(self) -> str:
        return self.endpoint.base_url

    @property
    def unanswered_retries(self) -> int:
        """Requests sent again because the server dropped them unanswered (see core/transport.py)."""
        transport = getattr(self._http, "_transport", None)
        return int(getattr(transport, "retries", 0))

    def _http_client(self) -> httpx2.AsyncClient:
        """The connection pool shared by status polls and the OpenAI client."""
        if self._http is None:
            import httpx2

            from trayai.core.transport import guarded_transport

            # Proxy variables are for remote servers: a corporate proxy must not break localhost.
            trust_env = not is_loopback_url(self.endpoint.base_url)
            self._http = httpx2.AsyncClient(
                trust_env=trust_env,
                timeout=httpx2.Timeout(None, connect=self.endpoint.connect_timeout),
                transport=guarded_transport(trust_env=trust_env, max_connections=64, max_keepalive=16),
                follow_redirects=False,  # the transport follows same-origin hops only
            )
        return self._http

    def sdk(self) -> AsyncOpenAI:
        """The OpenAI SDK client, made on first use (``import openai`` is slow: see :meth:`warm_up`)."""
        if self._openai is None:
            from openai import AsyncOpenAI

            self._openai = AsyncOpenAI(
                base_url=self.endpoint.base_url,
                api_key=self.endpoint.api_key,
                max_retries=0,
                http_client=self._http_client(),
            )
        return self._openai

    async def warm_up(self) -> None:
        """Import the OpenAI SDK in a worker thread, so the first chat request doesn't freeze the UI.

        ``import openai`` takes ~0.8 s; done on the Qt thread by the first request it stalls painting
        for that long (measured by tests/perf/bench_chat.py). Idempotent and cheap once done.
        """
        if self._openai is None:
            await asyncio.to_thread(self._prepare_sdk)

    def _prepare_sdk(self) -> None:
        """Worker-thread part of :meth:`warm_up`: the SDK, its client and its chat resources."""
        _import_openai()
        client = self.sdk()
        _ = client.chat.completions.with_raw_response  # the resources load lazily on first access

    async def aclose(self) -> None:
        if self._openai is not None:
            await self._openai.close()
        elif self._http is not None:
            await self._http.aclose()
        self._openai = None
        self._http = None

    async def __aenter__(self) -> ModelClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    # ------------------------------------------------------------------ models

    async def list_models(self) -> ModelListing:
        """``GET /models``, with every failure mapped to a :class:`TrayaiError`.

        Plain httpx2 rather than the OpenAI SDK: the tray polls this every few seconds, and not
        importing ``openai`` until the first chat saves ~0.8 s and ~30 MB for a tray-only session.
        """
        started = time.perf_counter()
        try:
            response, raw = await within(self._get_bounded("/models"), self.endpoint.models_timeout)
            body = raw.decode(response.encoding or "utf-8", "replace")
        except TrayaiError:
            raise
        except asyncio.TimeoutError as exc:
            raise make_error(
                ErrorCode.FIRST_TOKEN_TIMEOUT,
                f"{host_port(self.base_url)} did not list its models within "
                f"{self.endpoint.models_timeout:g} s",
            ) from exc
        except Exception as exc:
            raise classify_exception(exc, base_url=self.base_url, phase=ErrorPhase.CONNECT) from exc
        latency = time.perf_counter() - started
        if response.status_code >= 300:
            raise classify_status(
                response.status_code,
                body,
                response.headers.get("content-type", ""),
                base_url=self.base_url,
                retry_after=response.headers.get("retry-after"),
                location=response.headers.get("location"),
            )
        models = parse_model_list(body, response.headers.get("content-type", ""), self.base_url)
        server = guess_server_kind(
            self.base_url, response.headers.get("server"), [m.owned_by for m in models]
        )
        return ModelListing(models=models, latency=latency, server=server)

    async def _get_bounded(self, path: str) -> tuple[httpx2.Response, bytes]:
        """GET ``base_url + path`` reading at most :data:`MAX_LISTING_BYTES` of (decoded) body."""
        http = self._http_client()
        headers = {"Authorization": f"Bearer {self.endpoint.api_key}", "Accept": "application/json"}
        async with http.stream("GET", f"{self.endpoint.base_url}{path}", headers=headers) as response:
            parts: list[bytes] = []
            size = 0
            async for chunk in response.aiter_raw():  # decoded already, and capped, by the transport
                size += len(chunk)
                if size > MAX_LISTING_BYTES:
                    raise make_error(
                        ErrorCode.TOO_LARGE,
                        f"{host_port(self.base_url)} answered {path} with more than "
                        f"{MAX_LISTING_BYTES // 1_000_000} MB",
                    )
                parts.append(chunk)
            return response, b"".join(parts)

    # ------------------------------------------------------------------ llama.cpp extras

    @property
    def server_root(self) -> str:
        """The server's root URL (``…/v1`` removed): where llama.cpp serves /props and /slots."""
        base = self.endpoint.base_url
        return base[: -len("/v1")] if base.endswith("/v1") else base

    async def _llama_json(self, path: str) -> Any:
        """GET a llama.cpp extra endpoint; None (and never asked again) where the server lacks it."""
        if path in self._unsupported:
            return None
        try:
            response = await within(
                self._http_client().get(
                    f"{self.server_root}{path}",
                    headers={"Authorization": f"Bearer {self.endpoint.api_key}"},
                ),
                self.endpoint.models_timeout,
            )
        except Exception:  # noqa: BLE001 - an optional extra: any failure (network, deadline, cap) = absent
            return None
        if response.status_code in (404, 405, 501):
            self._unsupported.add(path)
            return None
        if response.status_code != 200 or len(response.content) > 1_000_000:
            return None
        try:
            return json.loads(response.content)
        except ValueError:
            self._unsupported.add(path)
            return None

    async def context_window(self) -> int | None:
        """The per-answer context size a llama.cpp server reports in ``/props`` (cached), else None."""
        if self._context_window is None:
            props = await self._llama_json("/props")
            settings = props.get("default_generation_settings") if isinstance(props, dict) else None
            n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
            if isinstance(n_ctx, int) and n_ctx > 0:
                self._context_window = n_ctx
        return self._context_window

    async def busy_slots(self) -> int | None:
        """How many answers a llama.cpp server is generating now (``/slots``), whoever asked."""
        slots = await self._llama_json("/slots")
        if not isinstance(slots, list):
            return None
        return sum(1 for slot in slots if isinstance(slot, dict) and slot.get("is_processing"))

    # ------------------------------------------------------------------ chat

    def stream_chat(
        self,
        messages: Sequence[Message],
        *,
        model: str,
        options: GenerationOptions | None = None,
    ) -> ChatStream:
        """Start streaming a chat completion; iterate the result for text deltas.

        Use as ``async with client.stream_chat(...) as stream: async for delta in stream: …`` and
        read ``stream.result`` afterwards (also after an error or cancellation).
        """
        return ChatStream(self, list(messages), model, options or GenerationOptions())

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str,
        options: GenerationOptions | None = None,
    ) -> StreamResult:
        """A non-streaming completion (servers or profiles without streaming, batch jobs)."""
        import httpx2

        client = self.sdk()
        opts = options or GenerationOptions()
        started = time.perf_counter()
        try:
            # The whole answer arrives at once, so only the overall cap bounds it (a per-read timeout
            # alone is defeated by a server sending a byte at a time).
            raw = await within(
                client.chat.completions.with_raw_response.create(
                    model=model,
                    messages=list(messages),  # type: ignore[arg-type]
                    stream=False,
                    timeout=httpx2.Timeout(
                        self.endpoint.first_token_timeout, connect=self.endpoint.connect_timeout
                    ),
                    **opts.as_body(),
                ),
                self.endpoint.answer_timeout,
            )
            response = raw.http_response
            body = valid_text(response.text)
        except asyncio.TimeoutError as exc:
            raise make_error(
                ErrorCode.ANSWER_TIMEOUT,
                f"The answer from {host_port(self.base_url)} took longer than "
                f"{self.endpoint.answer_timeout:g} s (answer_timeout)",
            ) from exc
        except Exception as exc:
            raise classify_exception(
                exc, base_url=self.base_url, model=model, phase=ErrorPhase.FIRST_TOKEN
            ) from exc
        duration = time.perf_counter() - started
        data = _parse_json_object(body, response.headers.get("content-type", ""), self.base_url)
        text, finish, usage = _completion_fields(data, self.base_url)
        tokens = usage.completion_tokens
        return StreamResult(
            text=text,
            model=str(data.get("model") or model),
            finish_reason=finish or "stop",
            usage=usage,
            ttft=None,
            duration=duration,
            tokens_per_second=tokens / duration if duration > 0 and tokens else None,
        )

    def stream_options(self) -> dict[str, Any]:
        """``stream_options`` for a streamed request, unless this server refused them before."""
        return {"stream_options": {"include_usage": True}} if self._stream_options_ok else {}

    def refuses_stream_options(self, error: TrayaiError) -> bool:
        """True, once, when ``error`` is this server refusing ``stream_options`` (LM Studio): they are
        left out from then on, and the caller sends its request again."""
        refused = (
            error.code is ErrorCode.BAD_REQUEST
            and self._stream_options_ok
            and "stream_options" in (error.detail or error.message)
        )
        if refused:
            self._stream_options_ok = False
        return refused


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
    events: int = 0  # content events, for the max_tokens guard
    chars: int = 0


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
        self._gen: AsyncGenerator[str, None] | None = None
        self.result: StreamResult | None = None

    @property
    def text(self) -> str:
        """Everything received so far (also after a failure)."""
        return "".join(self._chunks)

    def __aiter__(self) -> ChatStream:
        return self

    async def __anext__(self) -> str:
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

    async def _run(self) -> AsyncGenerator[str, None]:
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

    async def _request(self, state: _StreamState) -> AsyncGenerator[str, None]:
        client = self._client
        endpoint = client.endpoint
        oai = client.sdk()
        body = {**self._options.as_body(), **client.stream_options()}
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
            if client.refuses_stream_options(error):  # sent again without them
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

    async def _read(self, response: httpx2.Response, state: _StreamState) -> AsyncGenerator[str, None]:
        endpoint = self._client.endpoint
        content_type = response.headers.get("content-type", "")
        if "event-stream" not in content_type:
            # A server that ignored stream=True (or an HTML page): read the whole body once.
            raw = await self._before(response.aread(), state)
            data = _parse_json_object(raw.decode("utf-8", "replace"), content_type, endpoint.base_url)
            text, finish, usage = _completion_fields(data, endpoint.base_url)
            state.ttft = time.perf_counter() - state.started
            state.finish, state.usage = finish, usage
            if text:
                text = valid_text(text)
                self._chunks.append(text)
                state.times.append(time.perf_counter())
                yield text
            return
        chunks = response.aiter_bytes().__aiter__()
        parts: list[bytes] = []  # the line being assembled: joined once, when its newline arrives
        pending = 0
        done = False
        try:
            while not done:
                try:
                    chunk = await self._before(chunks.__anext__(), state)
                except StopAsyncIteration:
                    break
                except TrayaiError:
                    raise
                except Exception as exc:
                    raise classify_exception(
                        exc,
                        base_url=endpoint.base_url,
                        model=self._model,
                        phase=ErrorPhase.STREAM
                        if state.ttft is not None or self._chunks
                        else ErrorPhase.FIRST_TOKEN,
                    ) from exc
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
                    delta = self._event(line, state)
                    if isinstance(delta, _Done):
                        done = True
                    elif delta is not None:
                        self._check_length(state)
                        yield delta
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

    def _event(self, line: bytes, state: _StreamState) -> str | _Done | None:
        """Handle one SSE line; returns a text delta, :data:`DONE` or None."""
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
        if isinstance(data.get("model"), str) and data["model"]:
            state.model = data["model"][:200]
        usage = data.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            prompt = usage.get("prompt_tokens")
            prompt_tokens = prompt if isinstance(prompt, int) else None
            state.usage = Usage(prompt_tokens, usage["completion_tokens"], False)
        choices = data.get("choices")
        if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
            return None
        choice = choices[0]
        if isinstance(choice.get("finish_reason"), str) and choice["finish_reason"]:
            state.finish = choice["finish_reason"][:40]
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            return None
        now = time.perf_counter()
        if delta.get("reasoning_content") or delta.get("tool_calls"):
            state.last_progress = now  # a thinking model is working: not a stall
        content = delta.get("content")
        if not content or not isinstance(content, str):
            return None
        content = valid_text(content)  # a lone surrogate (valid JSON) must not break a UTF-8 write
        if state.ttft is None:
            state.ttft = now - state.started
        state.last_progress = now
        state.times.append(now)
        state.events += 1
        state.chars += len(content)
        self._chunks.append(content)
        return content

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
        self.result = StreamResult(
            text=self.text,
            model=state.model or self._model,
            finish_reason=outcome,
            usage=usage,
            ttft=state.ttft,
            duration=end - state.started,
            tokens_per_second=rate,
            error=error,
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


# ---------------------------------------------------------------------- parsing helpers


def parse_model_list(body: str, content_type: str, base_url: str) -> list[ModelInfo]:
    """Parse a ``/models`` body; tolerant of servers that omit fields, strict about the shape."""
    data = _parse_json_object(body, content_type, base_url)
    items = data.get("data", data.get("models"))
    if not isinstance(items, list):
        raise make_error(
            ErrorCode.MALFORMED_RESPONSE,
            f"{host_port(base_url)} answered /models without a model list",
            detail=body[:200],
        )
    models: list[ModelInfo] = []
    for item in items:
        if isinstance(item, dict):
            name = item.get("id") or item.get("name") or item.get("model")
            if isinstance(name, str) and name:
                owner = item.get("owned_by")
                created = item.get("created")
                models.append(
                    ModelInfo(
                        name,
                        owner if isinstance(owner, str) else None,
                        created if isinstance(created, int) else None,
                    )
                )
        elif isinstance(item, str):
            models.append(ModelInfo(item))
    return models


def _parse_json_object(body: str, content_type: str, base_url: str) -> dict[str, Any]:
    if looks_like_html(body, content_type):
        raise classify_status(200, body, content_type, base_url=base_url)
    try:
        data = json.loads(body)
    except ValueError as exc:
        raise make_error(
            ErrorCode.MALFORMED_RESPONSE,
            f"{host_port(base_url)} answered with something that is not valid JSON",
            detail=body[:200],
        ) from exc
    if not isinstance(data, dict):
        raise make_error(
            ErrorCode.MALFORMED_RESPONSE,
            f"{host_port(base_url)} answered with JSON of an unexpected shape",
            detail=body[:200],
        )
    return data


def _completion_fields(data: dict[str, Any], base_url: str) -> tuple[str, str | None, Usage]:
    choices = data.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        if data.get("error"):
            reason = extract_server_message(json.dumps(data)) or "unknown error"
            raise make_error(ErrorCode.SERVER_ERROR, f"The server failed: {reason}", detail=reason)
        raise make_error(ErrorCode.MALFORMED_RESPONSE, f"{host_port(base_url)} answered without any choices")
    choice = choices[0]
    message = choice.get("message") or {}
    content = message.get("content") if isinstance(message, dict) else None
    text = content if isinstance(content, str) else str(choice.get("text") or "")
    usage_raw = data.get("usage")
    if isinstance(usage_raw, dict) and usage_raw.get("completion_tokens") is not None:
        usage = Usage(usage_raw.get("prompt_tokens"), int(usage_raw["completion_tokens"]), False)
    else:
        usage = Usage(None, max(1, len(text.split())) if text else 0, True)
    return text, choice.get("finish_reason"), usage


_PORT_KINDS = {
    11434: "Ollama",
    1234: "LM Studio",
    12434: "Docker Model Runner",
    1337: "Jan",
    8000: "vLLM",
    4891: "GPT4All",
    8080: "llama.cpp server",
}
_OWNER_KINDS = {
    "llamacpp": "llama.cpp server",
    "library": "Ollama",
    "ollama": "Ollama",
    "vllm": "vLLM",
    "docker": "Docker Model Runner",
    "organization_owner": "LM Studio",
    "lmstudio": "LM Studio",
    "jan": "Jan",
    "localai": "LocalAI",
    "me": "llama-cpp-python",
}


def guess_server_kind(base_url: str, server_header: str | None, owners: Sequence[str | None]) -> str | None:
    """A best guess at which server family answers, from what one ``/models`` call reveals."""
    if "/engines" in base_url:
        return "Docker Model Runner"
    for owner in owners:
        if owner and owner.lower() in _OWNER_KINDS:
            return _OWNER_KINDS[owner.lower()]
    header = (server_header or "").lower()
    if "llama" in header:
        return "llama.cpp server"
    if "uvicorn" in header and any(o == "me" for o in owners):
        return "llama-cpp-python"
    try:
        port = int(host_port(base_url).rsplit(":", 1)[1])
    except ValueError:  # pragma: no cover - host_port always has a port
        return None
    guess = _PORT_KINDS.get(port)
    return f"{guess}?" if guess else None
