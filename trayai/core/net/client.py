"""Talking to an OpenAI-compatible server: list models, stream a chat completion, measure it.

See docs/architecture.md, "Streaming", "Answers are never lost" and "Hostile servers".
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trayai.core.chat.thinking import split_thinking
from trayai.core.error_catalog import ErrorCode, ErrorPhase
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.backends.records import ServerKind
from trayai.core.net.classify import classify_exception, classify_status
from trayai.core.net.prompt_progress import PROGRESS_FIELD
from trayai.core.net.responses import (
    ModelInfo,
    completion_fields,
    guess_server_kind,
    message_reasoning,
    parse_json_object,
    parse_model_list,
)
from trayai.core.net.urls import host_port, is_loopback_url, normalize_base_url
from trayai.core.net.wire import GenerationOptions, Message, StreamResult, Usage, within
from trayai.core.textsafe import valid_text

if TYPE_CHECKING:
    import httpx2
    from openai import AsyncOpenAI

    from trayai.core.net.plainhttp import PlainHttp
    from trayai.core.net.stream import ChatStream


_PROXY_VARIABLES = ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY")
MAX_LISTING_BYTES = 8_000_000  # a /models body (thousands of models fit in a few hundred KB)


def _import_openai() -> None:
    # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
    import openai  # noqa: F401 - loaded for its side effect: the module is cached for later


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
        """Normalise ``base_url`` (raising :class:`~trayai.core.net.urls.InvalidURLError`) and build."""
        return cls(base_url=normalize_base_url(base_url).url, api_key=api_key, **kwargs)


@dataclass(frozen=True)
class ModelListing:
    """``GET /models`` as seen by the client, with how long it took and what answered."""

    models: list[ModelInfo]
    latency: float
    server: str | None = None

    @property
    def ids(self) -> list[str]:
        return [m.id for m in self.models]


class ModelClient:
    """The async client for one endpoint profile; create once, reuse (a kept-alive connection spares
    the next request its handshake), ``aclose()`` at the end."""

    def __init__(self, endpoint: Endpoint) -> None:
        self.endpoint = endpoint
        self._openai: AsyncOpenAI | None = None
        self._warming: asyncio.Future[None] | None = None
        self._http: httpx2.AsyncClient | None = None
        self._plain: PlainHttp | None = None
        self._stream_options_ok = True  # LM Studio refuses stream_options: see refuses_stream_options
        self.kind: ServerKind | None = None  # what answers, once its /models proved it (or a caller knows)
        self._progress_ok = True  # return_progress: off once refused (a proxy in front of llama.cpp)
        self._unsupported: set[str] = set()  # llama.cpp extras this server does not have
        self._context_window: int | None = None
        self._vision: dict[str, bool | None] = {}

    @property
    def base_url(self) -> str:
        return self.endpoint.base_url

    @property
    def unanswered_retries(self) -> int:
        """Requests sent again because the server dropped them unanswered (see core/net/transport.py)."""
        transport = getattr(self._http, "_transport", None)
        plain = self._plain.retries if self._plain is not None else 0
        return int(getattr(transport, "retries", 0)) + plain

    def fetch(
        self, method: str, url: str, *, headers: Mapping[str, str] | None = None, json: Any = None
    ) -> AbstractAsyncContextManager[Any]:
        """One request of the polls and model management, its response read as a stream.

        A direct ``http://`` connection goes through core/net/plainhttp.py, so a tray that only watches
        a local server never loads httpx2 (a fifth of its memory); TLS and proxies use :meth:`http`.
        Both responses offer ``status_code``, ``headers.get``, ``aiter_raw()`` and ``aread()``.
        """
        if url.startswith("http://") and self._direct():
            if self._plain is None:
                # lazy: only direct http:// servers use it (polls and model management without httpx2)
                from trayai.core.net.plainhttp import PlainHttp

                self._plain = PlainHttp(connect_timeout=self.endpoint.connect_timeout)
            return self._plain.stream(method, url, headers=headers, json=json)
        return self.http().stream(method, url, headers=headers, json=json)

    def _direct(self) -> bool:
        """No proxy applies: loopback (never proxied, see :meth:`http`) or no proxy variable set."""
        if is_loopback_url(self.endpoint.base_url):
            return True
        return not any(os.environ.get(name) for name in _PROXY_VARIABLES)

    def http(self) -> httpx2.AsyncClient:
        """The connection pool shared by status polls, model management and the OpenAI client."""
        if self._http is None:
            # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
            import httpx2

            # lazy: the transport imports httpx2: off the tray's start-up path like it
            from trayai.core.net.transport import guarded_transport

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
            # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
            from openai import AsyncOpenAI

            self._openai = AsyncOpenAI(
                base_url=self.endpoint.base_url,
                api_key=self.endpoint.api_key,
                max_retries=0,
                http_client=self.http(),
            )
        return self._openai

    async def warm_up(self) -> None:
        """Import the OpenAI SDK in a worker thread, so the first chat request doesn't freeze the UI.

        ``import openai`` takes ~0.8 s; done on the Qt thread by the first request it stalls painting
        for that long (measured by tests/perf/bench_chat.py). Idempotent and cheap once done.
        """
        if self._openai is not None:
            return
        warming = self._warming
        if warming is None or (warming.done() and (warming.cancelled() or warming.exception() is not None)):
            # One import at a time: a batch's answers start together, and two threads building the
            # SDK client at once leave one of them unclosed.
            warming = self._warming = asyncio.ensure_future(asyncio.to_thread(self._prepare_sdk))
        await asyncio.shield(warming)  # a Stop cancels the caller, not the import the others wait for

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
        if self._plain is not None:
            await self._plain.aclose()
        self._openai = None
        self._http = None
        self._plain = None

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
        self.kind = next((k for m in models if (k := ServerKind.from_owner(m.owned_by))), self.kind)
        return ModelListing(models=models, latency=latency, server=server)

    async def _get_bounded(self, path: str) -> tuple[Any, bytes]:
        """GET ``base_url + path`` reading at most :data:`MAX_LISTING_BYTES` of (decoded) body."""
        headers = {"Authorization": f"Bearer {self.endpoint.api_key}", "Accept": "application/json"}
        async with self.fetch("GET", f"{self.endpoint.base_url}{path}", headers=headers) as response:
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
        """The server's root URL (``…/v1`` removed): where llama.cpp serves /props."""
        base = self.endpoint.base_url
        return base[: -len("/v1")] if base.endswith("/v1") else base

    async def _llama_json(self, path: str) -> Any:
        """GET a llama.cpp extra endpoint; None (and never asked again) where the server lacks it."""
        if path in self._unsupported:
            return None
        try:
            status, content = await within(
                self._read_small(
                    "GET", f"{self.server_root}{path}", {"Authorization": f"Bearer {self.endpoint.api_key}"}
                ),
                self.endpoint.models_timeout,
            )
        except Exception:  # noqa: BLE001 - an optional extra: any failure (network, deadline, cap) = absent
            return None
        if status in (404, 405, 501):
            self._unsupported.add(path)
            return None
        if status != 200 or len(content) > 1_000_000:
            return None
        try:
            return json.loads(content)
        except ValueError:
            self._unsupported.add(path)
            return None

    async def _read_small(
        self, method: str, url: str, headers: Mapping[str, str], *, body: Any = None
    ) -> tuple[int, bytes]:
        """Status and body of an optional extra, read up to 8 MB (more raises TOO_LARGE)."""
        async with self.fetch(method, url, headers=headers, json=body) as response:
            parts: list[bytes] = []
            size = 0
            async for chunk in response.aiter_raw():
                size += len(chunk)
                if size > MAX_LISTING_BYTES:
                    raise make_error(ErrorCode.TOO_LARGE, f"{host_port(url)} answered with more than 8 MB")
                parts.append(chunk)
            return int(response.status_code), b"".join(parts)

    async def context_window(self) -> int | None:
        """The per-answer context size a llama.cpp server reports in ``/props`` (cached), else None."""
        if self._context_window is None:
            props = await self._llama_json("/props")
            settings = props.get("default_generation_settings") if isinstance(props, dict) else None
            n_ctx = settings.get("n_ctx") if isinstance(settings, dict) else None
            if isinstance(n_ctx, int) and n_ctx > 0:
                self._context_window = n_ctx
        return self._context_window

    async def vision(self, model: str) -> bool | None:
        """Whether ``model`` can see images, where the server says (llama.cpp ``/props`` modalities,
        Ollama ``/api/show`` capabilities); None when it does not say (try, and explain a refusal)."""
        if model in self._vision:
            return self._vision[model]
        props = await self._llama_json("/props")
        said: bool | None = None
        modalities = props.get("modalities") if isinstance(props, dict) else None
        if isinstance(modalities, dict) and isinstance(modalities.get("vision"), bool):
            said = modalities["vision"]
        elif "/api/show" not in self._unsupported:
            said = await self._ollama_vision(model)
        self._vision[model] = said
        return said

    async def _ollama_vision(self, model: str) -> bool | None:
        try:
            status, content = await within(
                self._read_small("POST", f"{self.server_root}/api/show", {}, body={"model": model}),
                self.endpoint.models_timeout,
            )
        except Exception:  # noqa: BLE001 - optional: any failure means "the server does not say"
            return None
        if status in (404, 405, 501) or len(content) > 8_000_000:
            self._unsupported.add("/api/show")
            return None
        try:
            capabilities = json.loads(content).get("capabilities")
        except (ValueError, AttributeError):
            self._unsupported.add("/api/show")
            return None
        return "vision" in capabilities if isinstance(capabilities, list) else None

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
        # lazy: the stream module builds on this one (a module-level import would be a circle)
        from trayai.core.net.stream import ChatStream

        return ChatStream(self, list(messages), model, options or GenerationOptions())

    async def complete(
        self,
        messages: Sequence[Message],
        *,
        model: str,
        options: GenerationOptions | None = None,
    ) -> StreamResult:
        """A non-streaming completion (servers or profiles without streaming, batch jobs)."""
        # lazy: the HTTP stack stays off the tray's start-up path (tests/unit/test_layers.py)
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
        data = parse_json_object(body, response.headers.get("content-type", ""), self.base_url)
        text, finish, usage = completion_fields(data, self.base_url)
        thinking, text = split_thinking(text)
        thinking = message_reasoning(data) or thinking
        tokens = usage.completion_tokens
        # lazy: the tools build on the wire types here (a module-level import would be a circle)
        from trayai.core.tools.calls import message_tool_calls

        return StreamResult(
            thinking=valid_text(thinking),
            text=text,
            model=str(data.get("model") or model),
            finish_reason=finish or "stop",
            usage=usage,
            ttft=None,
            duration=duration,
            tokens_per_second=tokens / duration if duration > 0 and tokens else None,
            tool_calls=tuple(message_tool_calls(data)),
        )

    def stream_options(self) -> dict[str, dict[str, bool]]:
        """``stream_options`` for a streamed request, unless this server refused them before."""
        return {"stream_options": {"include_usage": True}} if self._stream_options_ok else {}

    def progress_request(self) -> dict[str, bool]:
        """``return_progress`` for a streamed request to a server known to report prompt progress
        (the per-backend switch, ``ServerKind.reports_prompt_progress``); nothing elsewhere."""
        asks = self._progress_ok and self.kind is not None and self.kind.reports_prompt_progress
        return {PROGRESS_FIELD: True} if asks else {}

    def refuses_stream_options(self, error: TrayaiError) -> bool:
        """True, once per field, when ``error`` is this server refusing ``stream_options`` (LM Studio)
        or ``return_progress``: that field is left out from then on, and the caller sends again."""
        if error.code is not ErrorCode.BAD_REQUEST:
            return False
        said = error.detail or error.message
        if self._stream_options_ok and "stream_options" in said:
            self._stream_options_ok = False
            return True
        if self._progress_ok and PROGRESS_FIELD in said and self.progress_request():
            self._progress_ok = False
            return True
        return False


__all__ = [
    "Endpoint",
    "GenerationOptions",
    "Message",
    "ModelClient",
    "ModelInfo",
    "ModelListing",
    "StreamResult",
    "Usage",
    "within",
]
