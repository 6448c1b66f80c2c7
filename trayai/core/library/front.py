"""The on-demand front: one loopback endpoint for every library model, the way llama-swap fronts
llama-server. A request is routed by its JSON ``model`` (or ``?model=``) to that model's engine child,
which the pool starts first if needed; streams pass through piece by piece, a client that goes away
cancels its request upstream, and only loopback ``Host`` names are answered (DNS-rebinding guard).

It also speaks llama.cpp's router dialect (``/props`` role ``router``, ``/models`` with
``status.value``, ``/models/load``, ``/models/unload``), so trayai's own model manager drives it.

A model's default sampling (core/library/model_settings.py) is added here, to requests that do not
set those fields: every client on the machine gets it, not only trayai's chat, a client's own values
always win, and a change applies to the next request without reloading the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.library.httpserve import ClientConnection, HttpRefusal, Request, openai_error
from trayai.core.library.model_settings import with_sampling_defaults
from trayai.core.library.pool import EnginePool, ModelStatus, ModelView
from trayai.core.library.relay import UpstreamUnreachable, relay
from trayai.core.loopback import HOST

log = logging.getLogger(__name__)

DEFAULT_MAX_BODY = 64 * 1024 * 1024  # a chat with a few images in base64 fits; a runaway upload does not
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]", "::1"})
ROUTED_GETS = frozenset({"/props", "/metrics", "/slots"})
BUILD_INFO = "trayai on-demand front"
_ROUTER_STATUS = {  # llama.cpp router's words for the same states
    ModelStatus.AVAILABLE: "unloaded",
    ModelStatus.LOADING: "loading",
    ModelStatus.LOADED: "loaded",
}
_STATUS_OF_CODE = {ErrorCode.MODEL_MISSING: 404, ErrorCode.LOAD_CANCELLED: 503}
# Where a model's default sampling is added: generation requests (OpenAI's and llama.cpp's own).
SAMPLED_POSTS = frozenset(
    {"/v1/chat/completions", "/chat/completions", "/v1/completions", "/completions", "/completion"}
)
Sampling = Callable[[str], Mapping[str, float | int]]  # a model's default sampling now, by name


@dataclass(frozen=True)
class FrontLimits:
    """What one request may be: its body's size (bytes)."""

    max_body: int = DEFAULT_MAX_BODY


def host_allowed(host_header: str | None) -> bool:
    """Only loopback names (a page on another site rebinding its name to 127.0.0.1 is refused)."""
    if host_header is None:
        return True  # HTTP/1.0 clients send none; a browser always does
    host = host_header.strip().lower()
    if host.startswith("["):
        host = host[: host.find("]") + 1] if "]" in host else host
    elif host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host in LOOPBACK_NAMES


class OnDemandFront:
    """The loopback HTTP server in front of an :class:`EnginePool`.

    ``await start()`` binds 127.0.0.1:``port`` (0 = any free port; PORT_IN_USE when taken),
    ``await stop()`` closes it, ends open requests and stops every engine child. ``sampling`` gives a
    model's default sampling, added to generation requests that do not set those fields.
    """

    def __init__(
        self,
        pool: EnginePool,
        port: int,
        limits: FrontLimits | None = None,
        *,
        sampling: Sampling | None = None,
    ) -> None:
        self.pool = pool
        self.sampling = sampling
        self.requested_port = port
        self.limits = limits or FrontLimits()
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._background: set[asyncio.Task[Any]] = set()
        self.started_at: float | None = None

    @property
    def port(self) -> int:
        if self._server is None or not self._server.sockets:
            return self.requested_port
        return int(self._server.sockets[0].getsockname()[1])

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        try:
            self._server = await asyncio.start_server(self._accept, HOST, self.requested_port)
        except OSError as exc:
            raise make_error(
                ErrorCode.PORT_IN_USE, f"Port {self.requested_port} on {HOST} is taken ({exc.strerror})"
            ) from exc
        self.started_at = time.monotonic()
        log.info("on-demand front listening on %s", self.base_url)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        for task in [*self._connections, *self._background]:
            task.cancel()
        await asyncio.gather(*self._connections, *self._background, return_exceptions=True)
        if server is not None:
            await server.wait_closed()
        await self.pool.close()

    async def serve_until(self, stopped: Awaitable[object]) -> None:
        """Serve until ``stopped`` completes, then :meth:`stop` (the CLI's foreground run)."""
        try:
            await stopped
        finally:
            await self.stop()

    # ------------------------------------------------------------------ connections

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        client = ClientConnection(reader, writer)
        try:
            await self._converse(client)
        except asyncio.CancelledError:
            pass  # the front is stopping; its connections go with it
        except (ConnectionError, OSError):
            pass  # the client went away; nothing is left to answer
        finally:
            self._connections.discard(task)
            writer.close()
            with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
                await writer.wait_closed()

    async def _converse(self, client: ClientConnection) -> None:
        while True:
            try:
                request = await client.read_request(self.limits.max_body)
            except HttpRefusal as refusal:
                await _refuse(client, refusal, keep_alive=False)
                return
            if request is None:
                return
            if not await self._answer_watched(request, client):
                return

    async def _answer_watched(self, request: Request, client: ClientConnection) -> bool:
        """Answer one request; the client closing its side meanwhile cancels it (load included)."""
        answer = asyncio.create_task(self._answer(request, client))
        gone = asyncio.create_task(client.wait_disconnect())
        try:
            await asyncio.wait({answer, gone}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not answer.done():
                answer.cancel()
            gone.cancel()
            await asyncio.gather(answer, gone, return_exceptions=True)
        if answer.cancelled():
            log.info("%s %s: the client went away; request cancelled", request.method, request.path)
            return False
        return answer.result()

    async def _answer(self, request: Request, client: ClientConnection) -> bool:
        keep = request.keep_alive
        try:
            if not host_allowed(request.headers.get("host")):
                raise HttpRefusal(403, "only loopback host names are served (127.0.0.1, localhost)")
            handler = self._route(request)
            return await handler(request, client)
        except HttpRefusal as refusal:
            await _refuse(client, refusal, keep_alive=keep)
        except TrayaiError as exc:
            await _send_error(client, exc, keep_alive=keep)
        except UpstreamUnreachable as exc:
            await client.send_json(
                502, openai_error(str(exc), "server_error", "engine_unreachable"), keep_alive=keep
            )
        return keep

    def _route(self, request: Request) -> Callable[[Request, ClientConnection], Awaitable[bool]]:
        method, path = request.method, request.path.rstrip("/") or "/"
        if method == "GET" and path == "/health":
            return self._health
        if method == "GET" and path in ("/v1/models", "/models"):
            return self._list
        if method == "POST" and path == "/models/load":
            return self._load
        if method == "POST" and path == "/models/unload":
            return self._unload
        if method == "POST" and path in ("/models", "/v1/models"):
            raise HttpRefusal(501, "this server does not download models (trayai get does)")
        if method == "GET" and path in ROUTED_GETS:
            return self._props if path == "/props" and request.query("model") is None else self._routed_get
        if method == "POST":
            return self._routed_post
        raise HttpRefusal(404 if method in ("GET", "HEAD") else 405, f"{method} {path} is not served here")

    # ------------------------------------------------------------------ own answers

    async def _health(self, request: Request, client: ClientConnection) -> bool:
        await client.send_json(200, {"status": "ok"}, keep_alive=request.keep_alive)
        return request.keep_alive

    async def _props(self, request: Request, client: ClientConnection) -> bool:
        props = {"role": "router", "build_info": BUILD_INFO, "models_autoload": True}
        await client.send_json(200, props, keep_alive=request.keep_alive)
        return request.keep_alive

    async def _list(self, request: Request, client: ClientConnection) -> bool:
        created = int(time.time())
        rows = [_model_row(view, created) for view in self.pool.models()]
        await client.send_json(200, {"object": "list", "data": rows}, keep_alive=request.keep_alive)
        return request.keep_alive

    async def _load(self, request: Request, client: ClientConnection) -> bool:
        """llama.cpp's ``/models/load``: starts the load and answers at once (``/models`` tells)."""
        name = _body_model(request)
        self.pool.find(name)
        task = asyncio.create_task(self._load_quietly(name))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        await client.send_json(200, {"success": True}, keep_alive=request.keep_alive)
        return request.keep_alive

    async def _load_quietly(self, name: str) -> None:
        with contextlib.suppress(TrayaiError):  # the pool's event and log carry the failure
            await self.pool.load(name)

    async def _unload(self, request: Request, client: ClientConnection) -> bool:
        name = _body_model(request)
        if not await self.pool.unload(name):
            raise HttpRefusal(400, f"model {name!r} is not running")
        await client.send_json(200, {"success": True}, keep_alive=request.keep_alive)
        return request.keep_alive

    # ------------------------------------------------------------------ routed answers

    async def _routed_post(self, request: Request, client: ClientConnection) -> bool:
        body = _body(request)
        name = _model_of(body)
        sent = self._with_defaults(request, name, body)
        async with self.pool.use(name) as engine:
            return await relay(request, engine.port, client, sent)

    def _with_defaults(self, request: Request, name: str, body: dict[str, Any]) -> bytes | None:
        """The body with the model's default sampling where it says none (None: send it unchanged)."""
        if self.sampling is None or request.path.rstrip("/") not in SAMPLED_POSTS:
            return None
        defaults = self.sampling(name)
        changed = with_sampling_defaults(body, defaults) if defaults else None
        return None if changed is None else json.dumps(changed, ensure_ascii=False).encode("utf-8")

    async def _routed_get(self, request: Request, client: ClientConnection) -> bool:
        name = request.query("model")
        if not name:
            raise HttpRefusal(400, f"{request.path} needs ?model=NAME on this server")
        if request.query("autoload") == "false" and self.pool.view(name).status is not ModelStatus.LOADED:
            raise HttpRefusal(400, "model is not loaded")
        async with self.pool.use(name) as engine:
            return await relay(request, engine.port, client)


def _model_row(view: ModelView, created: int) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": view.name,
        "object": "model",
        "created": created,
        "owned_by": "trayai",
        "state": view.status.value,
        "status": {"value": _ROUTER_STATUS[view.status]},
        "size": view.size,
    }
    if view.port is not None:
        row["port"] = view.port
    if view.unloads_in is not None:
        row["unloads_in"] = round(view.unloads_in, 1)
    return row


def _body_model(request: Request) -> str:
    return _model_of(_body(request))


def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError):
        raise HttpRefusal(400, "the request body is not JSON") from None
    return body if isinstance(body, dict) else {}


def _model_of(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise HttpRefusal(400, 'the request names no "model" (this server serves several)')
    return model


async def _refuse(client: ClientConnection, refusal: HttpRefusal, *, keep_alive: bool) -> None:
    kind = "invalid_request_error" if refusal.status < 500 else "server_error"
    code = {403: "forbidden_host", 404: "not_found", 413: "request_too_large"}.get(refusal.status, kind)
    await client.send_json(refusal.status, openai_error(refusal.message, kind, code), keep_alive=keep_alive)


async def _send_error(client: ClientConnection, exc: TrayaiError, *, keep_alive: bool) -> None:
    status = _STATUS_OF_CODE.get(exc.code, 500)
    code = "model_not_found" if exc.code is ErrorCode.MODEL_MISSING else exc.code.value
    kind = "invalid_request_error" if status < 500 else "server_error"
    payload = openai_error(exc.message, kind, code, hint=exc.hint)
    await client.send_json(status, payload, keep_alive=keep_alive)
