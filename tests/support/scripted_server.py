"""An in-process, scripted OpenAI-compatible server on loopback that can misbehave on demand.

Why: unit tests and benchmarks need real HTTP (real sockets, chunked SSE, keep-alive) with exact
control over timing and failures — connection drops, stalls, malformed events, HTML error pages —
which no real model server offers deterministically. Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.support.loopback_server import LoopbackHTTPServer, LoopbackServer


@dataclass(frozen=True)
class ScriptedCall:
    """A tool call the scripted model makes: ``arguments`` is sent as written (may be invalid JSON)."""

    name: str
    arguments: str = "{}"
    id: str | None = None  # None: call_<n>

    def entry(self, index: int) -> dict[str, Any]:
        return {
            "id": self.id or f"call_{index}",
            "type": "function",
            "function": {"name": self.name, "arguments": self.arguments},
        }

    def fragments(self, index: int, pieces: int) -> list[dict[str, Any]]:
        """The call as streamed deltas: id and name first, then the arguments in ``pieces`` parts."""
        first = {"index": index, "id": self.id or f"call_{index}", "type": "function"}
        parts = [{**first, "function": {"name": self.name, "arguments": ""}}]
        size = max(1, -(-len(self.arguments) // max(1, pieces)))
        for start in range(0, len(self.arguments), size):
            parts.append({"index": index, "function": {"arguments": self.arguments[start : start + size]}})
        return parts


@dataclass
class Reply:
    """What the next chat completion(s) (or the models listing) should do."""

    text: str = "Hello from the scripted server."
    tokens: list[str] | None = None
    n_tokens: int | None = None
    rate: float | None = None
    first_token_delay: float = 0.0
    headers_delay: float = 0.0
    finish_reason: str | None = "stop"  # None: no finishing chunk, only [DONE] (a cut answer)
    include_usage: bool = True
    send_role_chunk: bool = True
    status: int = 200
    error_message: str = "scripted error"
    error_body: str | None = None
    content_type: str | None = None
    malformed: str | None = None  # None | "json" | "sse" | "html"
    disconnect_after: int | None = None
    stall_after: int | None = None
    error_event_after: int | None = None
    repeat: bool = False
    drop_unanswered: bool = False  # close the connection without sending any response byte
    # Hostile behaviours: "trickle" (a byte at a time, never a whole event), "trickle_after_token",
    # "steady" (a token every hostile_interval, forever), "endless" (full speed, no end),
    # "huge_event" (one SSE line of hostile_size bytes), "gzip_bomb" (hostile_size bytes once decoded).
    hostile: str | None = None
    hostile_size: int = 0  # bytes: the bomb's decoded size, the event's size
    hostile_interval: float = 1.0  # seconds between bytes (trickle) or content events (steady)
    redirect_to: str | None = None  # answer with a redirect to this Location
    redirect_status: int = 307
    hold: threading.Event | None = None  # stream nothing until the test sets it (a run held mid-way)
    # A reasoning model's thinking, sent before the answer as ``reasoning_content`` deltas (one per
    # word, at ``rate`` like the answer), or under ``reasoning_field``'s name (Ollama: "reasoning").
    reasoning: str | None = None
    reasoning_field: str = "reasoning_content"
    # The ``model`` the answer names, whatever was asked (a single-model server answers as itself).
    answer_model: str | None = None
    # Tool calls made after the text: streamed as ``tool_calls`` deltas (each call's arguments in
    # ``tool_fragments`` parts; ``interleave`` sends parallel calls' parts turn about), or as
    # ``message.tool_calls`` when not streamed. Use :func:`tool_reply` (finish reason "tool_calls").
    tool_calls: list[ScriptedCall] | None = None
    tool_fragments: int = 3
    interleave: bool = False
    # llama.cpp's prompt_progress: when the request asks (``return_progress``), one progress chunk
    # (empty delta) per value of ``progress_steps`` (tokens processed of ``progress_total``) before
    # the first token; ``progress_hold`` keeps the stream after the last of them until it is set.
    progress_steps: list[int] | None = None
    progress_total: int = 0
    progress_cache: int = 0
    progress_interval: float = 0.0  # seconds between progress chunks (a slow read)
    progress_hold: threading.Event | None = None

    def token_list(self) -> list[str]:
        if self.n_tokens is not None:
            return [f"tok{i} " for i in range(self.n_tokens)]
        if self.tokens is not None:
            return list(self.tokens)
        return re.findall(r"\S+\s*|\s+", self.text)


@dataclass
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: dict[str, Any] | None

    @property
    def json(self) -> dict[str, Any]:
        """The JSON body, which a test that reads it expects to be there."""
        assert self.body is not None, f"{self.method} {self.path} had no JSON body"
        return self.body


_HTML_PAGE = "<!DOCTYPE html><html><head><title>Scripted page</title></head><body>Not an API</body></html>"


class _Server(LoopbackHTTPServer):
    owner: ScriptedServer

    def __init__(self, owner: ScriptedServer, address: tuple[str, int]) -> None:
        super().__init__(address, _Handler, owner)


class _ClientGone(Exception):
    pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    def setup(self) -> None:
        super().setup()
        self._served = 0  # requests answered on this connection

    def _drop_if_reused(self) -> bool:
        """llama.cpp's habit: close a kept-alive connection instead of answering its next request."""
        if self.owner.drop_reused_connections and self._served > 0:
            with self.owner._lock:
                self.owner.dropped_unanswered += 1
            self._abort()
            return True
        self._served += 1
        return False

    # ------------------------------------------------------------------ plumbing

    @property
    def owner(self) -> ScriptedServer:
        return self.server.owner

    def _record(self, body: dict[str, Any] | None) -> RecordedRequest:
        request = RecordedRequest(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        with self.owner._lock:
            self.owner.requests.append(request)
        return request

    def _common_headers(self) -> None:
        if self.owner.server_header:
            self.send_header("Server", self.owner.server_header)

    def send_response(self, code: int, message: str | None = None) -> None:
        # Replace the default "Server: BaseHTTP/… Python/…" with ours (or none) for kind detection.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        self._common_headers()

    def _send_body(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def _send_json(self, status: int, data: Any) -> None:
        self._send_body(status, json.dumps(data).encode(), "application/json")

    def _send_error_json(
        self, status: int, message: str, kind: str = "invalid_request_error", code: str | None = None
    ) -> None:
        self._send_json(status, {"error": {"message": self._echoed(message), "type": kind, "code": code}})

    def _echoed(self, message: str) -> str:
        """With ``echo_auth``, quote the request's credentials back, as careless servers do."""
        if not self.owner.echo_auth:
            return message
        sent = self.headers.get("Authorization", "")
        # Plain too: only a redactor that knows the key can catch it (no "Bearer"/"api_key=" to match).
        return f"{message} (Authorization: {sent}) — key {sent.removeprefix('Bearer ')} refused"

    def _authorised(self) -> bool:
        key = self.owner.api_key
        if key is None:
            return True
        if self.headers.get("Authorization", "") == f"Bearer {key}":
            return True
        self._send_error_json(401, "Incorrect API key provided", code="invalid_api_key")
        return False

    def _scripted_failure(self, reply: Reply, streaming: bool) -> bool:
        """Handle status/error_body/html/json malformations shared by models and chat."""
        if reply.headers_delay:
            self._sleep_watching(reply.headers_delay)
        if reply.drop_unanswered:
            self._abort()
            return True
        if reply.redirect_to is not None:
            self.send_response(reply.redirect_status)
            self.send_header("Location", reply.redirect_to)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return True
        if reply.hostile is not None and self._hostile(reply, streaming):
            return True
        if reply.status != 200:
            if reply.error_body is not None:
                self._send_body(
                    reply.status, self._echoed(reply.error_body).encode(), reply.content_type or "text/plain"
                )
            else:
                self._send_error_json(
                    reply.status,
                    reply.error_message,
                    "server_error" if reply.status >= 500 else "invalid_request_error",
                )
            return True
        if reply.malformed == "html":
            self._send_body(200, _HTML_PAGE.encode(), reply.content_type or "text/html; charset=utf-8")
            return True
        if reply.malformed == "json" and not streaming:
            self._send_body(200, b"{this is not json", reply.content_type or "application/json")
            return True
        return False

    def _hostile(self, reply: Reply, streaming: bool) -> bool:
        """Misbehave as ``reply.hostile`` says; False leaves the rest to the normal stream."""
        kind = reply.hostile
        content_type = "text/event-stream" if streaming else "application/json"
        if kind == "gzip_bomb":
            prefix = (
                b'data: {"choices":[{"index":0,"delta":{"content":"'
                if streaming
                else b'{"object":"list","data":[{"id":"'
            )
            body = _gzip_bomb(prefix, reply.hostile_size)
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Encoding", "gzip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)
            self.close_connection = True
            return True
        if kind == "trickle" and not streaming:
            self._start_chunked(content_type)
            self._drip(b'{"object":"list","data":[' + b" " * 10_000_000, reply.hostile_interval)
            return True
        return False

    def _start_chunked(self, content_type: str) -> None:
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()

    def _drip(self, data: bytes, interval: float) -> None:
        """Send ``data`` one byte per ``interval`` until the client leaves (or the server stops)."""
        self.close_connection = True
        for index in range(len(data)):
            try:
                self._chunk(data[index : index + 1])
            except _ClientGone:
                self.owner._note_disconnect()
                return
            if self.owner.stopping.is_set() or self._client_closed(interval):
                self.owner._note_disconnect()
                return

    def _sleep_watching(self, seconds: float) -> None:
        """Sleep, but notice the client hanging up (or the server stopping) meanwhile."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.owner.stopping.is_set():
                raise _ClientGone
            if self._client_closed(min(0.02, max(0.0, deadline - time.monotonic()))):
                raise _ClientGone

    def _client_closed(self, wait: float) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], wait)
        except (OSError, ValueError):
            return True
        if not readable:
            return False
        try:
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except OSError:
            return True

    # ------------------------------------------------------------------ routes

    def do_GET(self) -> None:
        self._record(None)
        if self._drop_if_reused():
            return
        prefix = self.owner.prefix
        path = self.path.split("?", 1)[0]
        if path == f"{prefix}/models":
            if not self._authorised():
                return
            reply = self.owner._take_models_reply()
            try:
                if reply is not None and self._scripted_failure(reply, streaming=False):
                    return
            except _ClientGone:
                self.close_connection = True
                return
            with self.owner._lock:
                models = list(self.owner.models)
                owner = self.owner.owned_by
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": m, "object": "model", "created": 1700000000, "owned_by": owner} for m in models
                    ],
                },
            )
            return
        if path == "/props" and self.owner.props is not None:
            self._send_json(200, self.owner.props)
            return
        if path == "/slots" and self.owner.slots is not None:
            self._send_json(200, self.owner.slots)
            return
        self._send_error_json(404, f"No route for GET {path}", code="not_found")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
            self._record(None)
            self._send_error_json(400, "Request body is not valid JSON")
            return
        self._record(body if isinstance(body, dict) else None)
        if self._drop_if_reused():
            return
        path = self.path.split("?", 1)[0]
        if path != f"{self.owner.prefix}/chat/completions":
            self._send_error_json(404, f"No route for POST {path}", code="not_found")
            return
        if not self._authorised():
            return
        if not isinstance(body, dict):
            self._send_error_json(400, "Expected a JSON object")
            return
        if self.owner.reject_stream_options and "stream_options" in body:
            self._send_error_json(400, "Unrecognized key: stream_options")
            return
        if self.owner.reject_return_progress and "return_progress" in body:
            self._send_error_json(400, "Unrecognized key: return_progress")
            return
        model = str(body.get("model", ""))
        if self.owner.unknown_model_status is not None and model not in self.owner.models:
            self._send_error_json(
                self.owner.unknown_model_status, f"The model `{model}` does not exist", code="model_not_found"
            )
            return
        reply = self.owner._take_chat_reply(body)
        try:
            if self._scripted_failure(reply, streaming=bool(body.get("stream"))):
                return
            answering = reply.answer_model or model
            if body.get("stream"):
                self._stream(reply, body, answering)
            else:
                self._complete(reply, body, answering)
        except _ClientGone:
            self.close_connection = True

    # ------------------------------------------------------------------ chat

    def _plan(self, reply: Reply, body: dict[str, Any]) -> tuple[list[str], str | None]:
        tokens = reply.token_list()
        finish = reply.finish_reason
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and 0 < max_tokens < len(tokens):
            tokens, finish = tokens[:max_tokens], "length"
        return tokens, finish

    @staticmethod
    def _prompt_tokens(body: dict[str, Any]) -> int:
        words = 0
        for message in body.get("messages") or []:
            if isinstance(message, dict) and isinstance(message.get("content"), str):
                words += len(message["content"].split())
        return max(1, words)

    def _complete(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        tokens, finish = self._plan(reply, body)
        if reply.first_token_delay:
            self._sleep_watching(reply.first_token_delay)
        data: dict[str, Any] = {
            "id": f"chatcmpl-scripted-{self.owner._next_id()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": "".join(tokens),
                        **({reply.reasoning_field: reply.reasoning} if reply.reasoning else {}),
                        **(
                            {"tool_calls": [c.entry(i) for i, c in enumerate(reply.tool_calls)]}
                            if reply.tool_calls
                            else {}
                        ),
                    },
                    "finish_reason": finish,
                }
            ],
        }
        if reply.include_usage:
            prompt = self._prompt_tokens(body)
            data["usage"] = {
                "prompt_tokens": prompt,
                "completion_tokens": len(tokens),
                "total_tokens": prompt + len(tokens),
            }
        with self.owner._lock:
            self.owner.tokens_sent += len(tokens)
        self._send_json(200, data)

    def _chunk(self, payload: bytes) -> None:
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
            self.wfile.flush()
        except OSError as exc:  # BrokenPipe / ConnectionReset: the client went away
            raise _ClientGone from exc

    def _event(self, data: Any) -> None:
        self._chunk(b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n")

    def _progress(self, reply: Reply, template: dict[str, Any]) -> None:
        """llama.cpp's progress chunks: the chunk shape with an empty delta and ``prompt_progress``."""
        for index, processed in enumerate(reply.progress_steps or ()):
            if index and reply.progress_interval and self._client_closed(reply.progress_interval):
                raise _ClientGone
            progress = {
                "total": reply.progress_total,
                "cache": reply.progress_cache,
                "processed": processed,
                "time_ms": 10 * index,
            }
            self._event({**template, "prompt_progress": progress})
        if reply.progress_hold is not None:
            self.wfile.flush()
            while not reply.progress_hold.is_set():
                self._sleep_watching(0.05)  # keeps noticing a client that hangs up meanwhile

    def _stream(self, reply: Reply, body: dict[str, Any], model: str) -> None:
        owner = self.owner
        tokens, finish = self._plan(reply, body)
        stream_id = f"chatcmpl-scripted-{owner._next_id()}"
        created = int(time.time())

        def chunk(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
            return {
                "id": stream_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
            }

        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        with owner._lock:
            owner.active_streams += 1
            owner.max_active_streams = max(owner.max_active_streams, owner.active_streams)
        finished = False
        try:
            if reply.malformed == "sse":
                self._chunk(b"garbage line\n\n")
                self._sleep_watching(5.0)
                return
            if reply.first_token_delay:
                self.wfile.flush()
                self._sleep_watching(reply.first_token_delay)
            while reply.hold is not None and not reply.hold.is_set():
                self._sleep_watching(0.05)  # keeps noticing a client that hangs up meanwhile
            if reply.send_role_chunk:
                self._event(chunk({"role": "assistant", "content": ""}))
            if reply.hostile in ("trickle", "trickle_after_token"):  # a byte at a time, never an event
                if reply.hostile == "trickle_after_token":
                    self._event(chunk({"content": "Hello"}))
                self._drip(b"data: " + b" " * 10_000_000, reply.hostile_interval)
                return
            if reply.hostile == "steady":  # a real token every interval, forever
                while not owner.stopping.is_set():
                    self._event(chunk({"content": "more "}))
                    if self._client_closed(reply.hostile_interval):
                        raise _ClientGone
                return
            if reply.hostile == "endless":  # full speed, ignoring max_tokens
                index = 0
                while not owner.stopping.is_set():
                    self._event(chunk({"content": f"word{index} "}))
                    index += 1
                return
            if reply.hostile == "huge_event":  # one SSE line of hostile_size bytes
                self._chunk(b'data: {"choices":[{"index":0,"delta":{"content":"')
                block = b"a" * 65536
                for _ in range(reply.hostile_size // len(block) + 1):
                    self._chunk(block)
                self._chunk(b'"}}]}\n\n')
                return
            if body.get("return_progress") and reply.progress_steps:
                self._progress(reply, chunk({"role": "assistant", "content": None}))
            start = time.monotonic()
            thoughts = re.findall(r"\S+\s*|\s+", reply.reasoning or "")
            for index, thought in enumerate(thoughts):
                if reply.rate:
                    delay = start + index / reply.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                self._event(chunk({reply.reasoning_field: thought, "content": None}))
            start = time.monotonic()
            for index, token in enumerate(tokens):
                if reply.disconnect_after is not None and index == reply.disconnect_after:
                    self._abort()
                    return
                if reply.stall_after is not None and index == reply.stall_after:
                    self._stall()
                    return
                if reply.error_event_after is not None and index == reply.error_event_after:
                    self._event(
                        {"error": {"message": self._echoed(reply.error_message), "type": "server_error"}}
                    )
                    self._chunk(b"data: [DONE]\n\n")
                    self._chunk(b"")
                    finished = True
                    return
                if reply.malformed == "json" and index == 1:
                    self._chunk(b"data: {not json\n\n")
                    self._chunk(b"")
                    finished = True
                    return
                if reply.rate:
                    delay = start + index / reply.rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                self._event(chunk({"content": token}))
                with owner._lock:
                    owner.tokens_sent += 1
            for part in _tool_deltas(reply):
                self._event(chunk({"tool_calls": [part]}))
            if finish is not None:
                self._event(chunk({}, finish))
            options = body.get("stream_options")
            if reply.include_usage and isinstance(options, dict) and options.get("include_usage"):
                prompt = self._prompt_tokens(body)
                self._event(
                    {
                        "id": stream_id,
                        "object": "chat.completion.chunk",
                        "created": created,
                        "model": model,
                        "choices": [],
                        "usage": {
                            "prompt_tokens": prompt,
                            "completion_tokens": len(tokens),
                            "total_tokens": prompt + len(tokens),
                        },
                    }
                )
            self._chunk(b"data: [DONE]\n\n")
            self._chunk(b"")
            finished = True
        except _ClientGone:
            owner._note_disconnect()
            raise
        finally:
            with owner._lock:
                owner.active_streams -= 1
            if not finished:
                self.close_connection = True

    def _abort(self) -> None:
        """Drop the connection abruptly: no terminating chunk, no [DONE]."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def _stall(self) -> None:
        """Keep the connection open, sending nothing, until the client leaves or the server stops."""
        self.wfile.flush()
        while not self.owner.stopping.is_set():
            if self._client_closed(0.02):
                raise _ClientGone
        self.close_connection = True


def _tool_deltas(reply: Reply) -> list[dict[str, Any]]:
    """The reply's tool calls as streamed ``tool_calls`` parts, in order or interleaved."""
    calls = [c.fragments(i, reply.tool_fragments) for i, c in enumerate(reply.tool_calls or ())]
    if not reply.interleave:
        return [part for parts in calls for part in parts]
    out: list[dict[str, Any]] = []
    for step in range(max((len(parts) for parts in calls), default=0)):
        out += [parts[step] for parts in calls if step < len(parts)]
    return out


def tool_reply(*calls: ScriptedCall, text: str = "", **fields: Any) -> Reply:
    """A turn that ends with ``calls`` (after ``text``, maybe none), finish reason "tool_calls"."""
    return Reply(
        text=text, tokens=None if text else [], tool_calls=list(calls), finish_reason="tool_calls", **fields
    )


_BOMBS: dict[tuple[bytes, int], bytes] = {}


def _gzip_bomb(prefix: bytes, size: int) -> bytes:
    """``prefix`` + ``size`` bytes of "a", gzip-compressed (~1000:1), made once per process."""
    key = (prefix, size)
    if key not in _BOMBS:
        import zlib

        packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        out = [packer.compress(prefix)]
        block = b"a" * (1 << 20)
        for _ in range(size // len(block)):
            out.append(packer.compress(block))
        out.append(packer.flush())
        _BOMBS[key] = b"".join(out)
    return _BOMBS[key]


class ScriptedServer(LoopbackServer):
    """The server; start with ``with ScriptedServer() as server:`` (see module docstring)."""

    def __init__(
        self,
        *,
        models: Sequence[str] = ("ai/smollm2",),
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        prefix: str = "/v1",
    ) -> None:
        super().__init__("scripted OpenAI-compatible server", host=host, port=port)
        self.models: list[str] = list(models)
        self.api_key = api_key
        self.prefix = prefix
        self.models_reply: Reply | None = None
        self.owned_by = "scripted"
        self.server_header: str | None = None
        self.props: dict[str, Any] | None = None
        self.slots: list[dict[str, Any]] | None = None  # llama.cpp's GET /slots, when set
        self.drop_reused_connections = False  # close instead of answering a kept-alive connection
        self.dropped_unanswered = 0
        self.replies_by_prompt: dict[str, Reply] = {}  # the last user message → its reply (order-free)
        self.reject_stream_options = False
        self.reject_return_progress = False  # a strict server (or proxy) refusing llama.cpp's field
        self.unknown_model_status: int | None = None
        self.echo_auth = False  # error bodies and error events quote the Authorization header back
        self.requests: list[RecordedRequest] = []
        self.tokens_sent = 0
        self.disconnects = 0
        self.disconnected = threading.Event()
        self.active_streams = 0
        self.max_active_streams = 0  # the most streams served at once (concurrency checks)
        self._queue: deque[Reply] = deque()
        self._default = Reply()
        self._lock = threading.Lock()
        self._ids = 0

    # ------------------------------------------------------------------ lifecycle

    def make_server(self, address: tuple[str, int]) -> LoopbackHTTPServer:
        return _Server(self, address)

    @property
    def connections_accepted(self) -> int:
        return self.connections.accepted

    # ------------------------------------------------------------------ addresses

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}{self.prefix}"

    # ------------------------------------------------------------------ scripting

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self._queue.extend(replies)

    def set_default(self, reply: Reply) -> None:
        with self._lock:
            self._default = reply

    def chat_requests(self) -> list[RecordedRequest]:
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0].endswith("/chat/completions")]

    def wait_for_disconnect(self, timeout: float = 5.0) -> bool:
        return self.disconnected.wait(timeout)

    # ------------------------------------------------------------------ internals

    def _take_chat_reply(self, body: dict[str, Any]) -> Reply:
        with self._lock:
            messages = body.get("messages") or []
            last = messages[-1].get("content") if messages and isinstance(messages[-1], dict) else None
            if isinstance(last, str) and last in self.replies_by_prompt:
                return replace(self.replies_by_prompt[last])
            if self._queue:
                reply = self._queue[0]
                if not reply.repeat:
                    self._queue.popleft()
                return replace(reply)
            return replace(self._default)

    def _take_models_reply(self) -> Reply | None:
        with self._lock:
            reply = self.models_reply
            if reply is not None and not reply.repeat:
                self.models_reply = None
            return reply

    def _note_disconnect(self) -> None:
        with self._lock:
            self.disconnects += 1
        self.disconnected.set()

    def _next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids


__all__ = ["RecordedRequest", "Reply", "ScriptedCall", "ScriptedServer", "tool_reply"]
