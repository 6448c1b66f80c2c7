"""In-process fakes of the local model servers trayai talks to, faithful to their documented HTTP APIs.

Why: model management (list, load, unload, pull with progress, busy, context size) differs per
server, and each server has traps a client must survive (DMR answers Ollama's ``/api/version`` with a
hard-coded 0.1.0; llama.cpp's ``/models`` carries an Ollama-shaped ``models[]`` stub; llama.cpp's
router loads asynchronously while Ollama and LM Studio block; Jan lists only running models). Real
servers cannot be started in CI, and they cannot be made slow, stuck or failing on demand. These fakes
keep mutable state behind real HTTP on loopback, so a client can change it and watch it change.

Every shape follows ``/work/shared/design/model-apis.md`` and the sources it cites; where a server's
own code says more than that reference (an error body, a status code) the fake follows the code.
Standard library only; one loopback server (tests/support/loopback_server.py) per fake.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
import select
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.support.loopback_server import LoopbackHTTPServer, LoopbackServer
from tests.support.scripted_server import RecordedRequest

__all__ = ["FakeBackend", "FakeModel", "Kind", "RecordedRequest", "Touch"]


class Kind(str, Enum):
    """Which server a fake plays (its value is what the tray's detection would name it)."""

    OLLAMA = "ollama"
    LLAMACPP_ROUTER = "llamacpp-router"
    LLAMACPP_SINGLE = "llamacpp-single"
    LMSTUDIO = "lmstudio"
    LMSTUDIO_V0 = "lmstudio-v0"
    DMR = "dmr"
    LOCALAI = "localai"
    VLLM = "vllm"
    JAN = "jan"
    GENERIC = "generic"


@dataclass
class FakeModel:
    """One model the fake knows about; the fields are live state that tests may read and change."""

    name: str  # id/key/tag as that backend spells it ("llama3.2:latest", "ai/smollm2:latest", …)
    size_bytes: int = 100_000_000
    context_trained: int = 8192
    loaded: bool = False
    remote: bool = False  # Ollama cloud model (remote_host set): never loadable
    sleeping: bool = False  # llama.cpp: loaded but asleep (router status "sleeping", /props.is_sleeping)
    load_fails: bool = False  # a load ends in failure (router: failed:true, exit_code; others: an error)


@dataclass(frozen=True)
class Touch:
    """A request that made the server load, wake or keep awake a model (restarted its idle timer or
    its keep-alive): what a status poll must never cause. ``request`` is "METHOD /path?query"."""

    model: str
    request: str


# ---------------------------------------------------------------------------------------------- helpers

_DEFAULT_MODELS: dict[Kind, str] = {
    Kind.OLLAMA: "llama3.2:latest",
    Kind.LLAMACPP_ROUTER: "ggml-org/gemma-3-1b-it-GGUF:Q4_K_M",
    Kind.LLAMACPP_SINGLE: "gemma-3-1b-it",
    Kind.LMSTUDIO: "qwen/qwen3-4b",
    Kind.LMSTUDIO_V0: "qwen/qwen3-4b",
    Kind.DMR: "ai/smollm2:latest",
    Kind.LOCALAI: "phi-2",
    Kind.VLLM: "Qwen/Qwen2.5-0.5B-Instruct",
    Kind.JAN: "llama3.2-1b-instruct",
    Kind.GENERIC: "local-model",
}
_ALWAYS_LOADED = frozenset({Kind.LLAMACPP_SINGLE, Kind.VLLM})
_CREATED = 1_735_689_600  # 2025-01-01: a fixed "created"/"modified_at" so listings are stable
_BUILD_INFO = "b6100-00dd0816"
_FOREVER = timedelta(days=365 * 292)  # Ollama's keep_alive<0: time.Duration(math.MaxInt64) from now


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat().replace("+00:00", "Z")


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _human_size(n: int) -> str:
    """DMR's config.size: a human string such as "256.35 MiB", not a number."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} GiB"  # pragma: no cover - the loop always returns


def _params(size_bytes: int) -> int:
    return size_bytes * 2  # a Q4 file holds about two parameters per byte


def _params_string(size_bytes: int) -> str:
    count = _params(size_bytes)
    if count >= 1_000_000_000:
        return f"{count / 1e9:.1f}B"
    return f"{count / 1e6:.0f}M"


def _loaded_context(model: FakeModel, wanted: Any = None) -> int:
    """The context a runner is loaded with: the one asked for, else 4096, never over the trained one."""
    if isinstance(wanted, int) and wanted > 0:
        return min(wanted, model.context_trained)
    return min(4096, model.context_trained)


_DURATION = re.compile(r"(-?\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")
_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def _keep_alive_seconds(value: Any) -> float | None:
    """Ollama's keep_alive: seconds, a Go duration string, or negative (forever → None)."""
    if value is None:
        return 300.0
    seconds: float
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return 300.0
    if isinstance(value, str) and not re.fullmatch(r"-?\d+(?:\.\d+)?", value.strip()):
        seconds = sum(float(num) * _UNIT_SECONDS[unit] for num, unit in _DURATION.findall(value))
    else:
        seconds = float(value)
    return None if seconds < 0 else seconds


def _go_html_escape(text: str) -> str:
    """Go's html.EscapeString, which DMR applies to its text/plain progress stream."""
    return (
        text.replace("&", "&amp;")
        .replace("'", "&#39;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&#34;")
    )


class _ClientGone(Exception):
    """The client hung up (or the fake is stopping): stop answering this request."""


# ---------------------------------------------------------------------------------------------- HTTP


class _Server(LoopbackHTTPServer):
    owner: FakeBackend
    quiet_errors = (ConnectionError, OSError, _ClientGone)  # tests cancel pulls on purpose

    def __init__(self, fake: FakeBackend, address: tuple[str, int]) -> None:
        self.fake = fake
        super().__init__(address, _Exchange, fake)


Route = Callable[["_Exchange"], None]


class _Exchange(BaseHTTPRequestHandler):
    """One request and its answer: parsing, recording, auth, routing, and the writing helpers."""

    protocol_version = "HTTP/1.1"
    server: _Server
    route_path: str
    query: dict[str, str]
    body: Any
    head_only: bool

    def log_message(self, format: str, *args: Any) -> None:
        return

    @property
    def fake(self) -> FakeBackend:
        return self.server.fake

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_DELETE(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def _dispatch(self) -> None:
        split = urlsplit(self.path)
        self.route_path = unquote(split.path)
        self.query = {key: values[-1] for key, values in parse_qs(split.query).items()}
        self.head_only = self.command == "HEAD"
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            self.body = json.loads(raw) if raw else None
        except ValueError:
            self.body = None
        headers = {key.lower(): value for key, value in self.headers.items()}
        recorded = RecordedRequest(
            self.command, self.path, headers, self.body if isinstance(self.body, dict) else None
        )
        with self.fake.lock:
            self.fake.requests.append(recorded)
            self.fake._doze()
        api = self.fake._api
        method = "GET" if self.head_only else self.command
        try:
            if self.fake.api_key is not None and not api.auth_exempt(self.route_path):
                sent = self.headers.get("Authorization")
                if sent != f"Bearer {self.fake.api_key}":
                    api.unauthorised(self, sent)
                    return
            route = api.find(method, self.route_path)
            if route is None:
                if api.path_known(self.route_path):
                    api.method_not_allowed(self)
                else:
                    api.not_found(self)
                return
            route(self)
        except _ClientGone:
            self.close_connection = True

    # ------------------------------------------------------------------ reading

    def json_object(self) -> dict[str, Any]:
        return self.body if isinstance(self.body, dict) else {}

    def header(self, name: str) -> str:
        return str(self.headers.get(name) or "")

    # ------------------------------------------------------------------ writing

    def send_response(self, code: int, message: str | None = None) -> None:
        # No "Server: BaseHTTP/… Python/…": each fake sends only the headers its server sends.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())
        for key, value in self.fake._api.extra_headers.items():
            self.send_header(key, value)

    def send_body(self, status: int, body: bytes, content_type: str | None) -> None:
        try:
            self.send_response(status)
            if content_type is not None:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not self.head_only:
                self.wfile.write(body)
            self.wfile.flush()
        except OSError as exc:
            raise _ClientGone from exc

    def send_json(self, status: int, data: Any, content_type: str = "application/json") -> None:
        self.send_body(status, json.dumps(data).encode(), content_type)

    def send_text(self, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
        self.send_body(status, text.encode(), content_type)

    def start_stream(self, status: int, content_type: str) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Cache-Control", "no-cache")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.flush()
        except OSError as exc:
            raise _ClientGone from exc

    def chunk(self, payload: bytes) -> None:
        if not payload:
            return
        try:
            self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
            self.wfile.flush()
        except OSError as exc:
            raise _ClientGone from exc

    def ndjson(self, data: Any) -> None:
        self.chunk(json.dumps(data, separators=(",", ":")).encode() + b"\n")

    def sse(self, data: Any) -> None:
        self.chunk(b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n")

    def end_stream(self) -> None:
        try:
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError as exc:
            raise _ClientGone from exc

    # ------------------------------------------------------------------ waiting

    def client_closed(self, wait: float) -> bool:
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

    def pause(self, seconds: float | None) -> None:
        """Wait ``seconds`` (None: until the fake stops), noticing a client that hangs up meanwhile."""
        deadline = None if seconds is None else time.monotonic() + seconds
        while deadline is None or time.monotonic() < deadline:
            if self.fake.stopping.is_set():
                raise _ClientGone
            left = 0.02 if deadline is None else min(0.02, max(0.0, deadline - time.monotonic()))
            if self.client_closed(left):
                raise _ClientGone

    def wait_until(self, predicate: Callable[[], bool]) -> None:
        """Block until ``predicate`` (checked under the fake's lock) holds, watching the client."""
        while True:
            with self.fake.lock:
                if predicate():
                    return
            if self.fake.stopping.is_set() or self.client_closed(0.02):
                raise _ClientGone


# ---------------------------------------------------------------------------------------------- the fake


@dataclass
class _Job:
    """A background download that clients poll (LM Studio download jobs, LocalAI gallery jobs)."""

    job_id: str
    model: str
    total: int
    started: float
    done: int = 0
    status: str = "downloading"  # downloading | completed | failed
    error: str | None = None
    finished: float | None = None


@dataclass
class _Download:
    """A llama.cpp router download in flight (listed in /models with status "downloading")."""

    url: str
    total: int
    token: int
    done: int = 0


class FakeBackend(LoopbackServer):
    """One fake server of one ``Kind``; ``with FakeBackend(Kind.OLLAMA) as fake:`` (see module doc)."""

    def __init__(
        self,
        kind: Kind,
        models: list[FakeModel] | None = None,
        *,
        api_key: str | None = None,
        load_seconds: float = 0.0,
        load_never_finishes: bool = False,
        pullable: dict[str, int] | None = None,
        pull_step_seconds: float = 0.05,
        pull_steps: int = 5,
        pull_fail_at_step: int | None = None,
        lie_loaded: set[str] | None = None,
        router_sse: bool = True,
        busy: bool = False,
        unload_seconds: float = 0.0,
        models_autoload: bool = True,
        metrics: bool = False,
        sleep_idle_seconds: float | None = None,
    ) -> None:
        super().__init__(f"fake {kind.value} server")
        self.kind = kind
        self.api_key = api_key
        self.load_seconds = load_seconds
        self.load_never_finishes = load_never_finishes
        self.pullable: dict[str, int] = dict(pullable or {})
        self.pull_step_seconds = pull_step_seconds
        self.pull_steps = max(1, pull_steps)
        self.pull_fail_at_step = pull_fail_at_step
        self.lie_loaded: set[str] = set(lie_loaded or ())
        self.router_sse = router_sse
        self.busy = busy
        # llama.cpp: a router child exits this long after /models/unload (listed as before meanwhile);
        # --no-models-autoload; --metrics; --sleep-idle-seconds (a model idle that long falls asleep)
        self.unload_seconds = unload_seconds
        self.models_autoload = models_autoload
        self.metrics = metrics
        self.sleep_idle_seconds = sleep_idle_seconds
        self.touches: list[Touch] = []
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.pulls_cancelled = 0
        if models is None:
            models = [FakeModel(_DEFAULT_MODELS[kind])]
        self.models: dict[str, FakeModel] = {m.name: m for m in models}
        for model in self.models.values():
            if kind in _ALWAYS_LOADED or model.name in self.lie_loaded:
                model.loaded = True
        self._changed = threading.Condition(self.lock)
        self._workers: list[threading.Thread] = []
        self._ids = itertools.count(1)
        self._loading: dict[str, int] = {}  # name → load token, while a load is in flight
        self._failed: dict[str, int] = {}  # name → exit code of its last failed load (router)
        self._loaded_at: dict[str, float] = {}
        self._last_task: dict[str, float] = {}  # llama.cpp: when a model's idle timer last restarted
        self._stopping_models: dict[str, int] = {}  # router: name → token of a child asked to exit
        self._keep_alive: dict[str, float | None] = {}  # Ollama: seconds, None = forever
        self._instances: dict[str, list[tuple[str, int]]] = {}  # LM Studio: (instance id, context)
        self._downloads: dict[str, _Download] = {}  # llama.cpp router
        self._events: list[dict[str, Any]] = []  # llama.cpp router /models/sse
        self._jobs: dict[str, _Job] = {}  # LM Studio and LocalAI
        self._api: _Api = _API_BY_KIND[kind](self)

    # ------------------------------------------------------------------ lifecycle

    def make_server(self, address: tuple[str, int]) -> LoopbackHTTPServer:
        return _Server(self, address)

    def start(self) -> FakeBackend:
        if not self.running:
            with self.lock:
                for model in self.models.values():  # the idle timers of models loaded from the start
                    self._last_task.setdefault(model.name, time.monotonic())
        return super().start()

    def stop(self) -> None:
        """Also wakes the handlers waiting on a state change and joins the fake's own workers."""
        if not self.running:
            return
        self.stopping.set()
        with self.lock:
            self._changed.notify_all()
        super().stop()
        with self.lock:
            workers = list(self._workers)
        for worker in workers:
            worker.join(2.0)

    # ------------------------------------------------------------------ addresses

    @property
    def root_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root_url}/engines/v1" if self.kind is Kind.DMR else f"{self.root_url}/v1"

    # ------------------------------------------------------------------ outside changes

    def set_loaded(self, name: str, loaded: bool) -> None:
        """Change a model's state as if someone else (another client, the server's own TTL) did."""
        with self.lock:
            model = self.models[name]
            self._loading.pop(name, None)
            self._stopping_models.pop(name, None)
            model.loaded = loaded
            if loaded:
                self._loaded_at[name] = time.time()
                self._last_task[name] = time.monotonic()
            else:
                model.sleeping = False
            self._sync_instances(model)
            self._emit("model_status", name, {"status": "loaded" if loaded else "unloaded"})
            self._changed.notify_all()

    # ------------------------------------------------------------------ shared state changes

    def _next_id(self) -> int:
        return next(self._ids)

    def _spawn(self, target: Callable[[], None], name: str) -> None:
        worker = threading.Thread(target=target, name=f"fake-{self.kind.value}-{name}", daemon=True)
        with self.lock:
            self._workers.append(worker)
        worker.start()

    def _emit(self, event: str, model: str, data: Any = None) -> None:
        """Record a llama.cpp router SSE event (``GET /models/sse`` streams them as they come)."""
        if self.kind is not Kind.LLAMACPP_ROUTER:
            return
        with self.lock:
            entry: dict[str, Any] = {"model": model, "event": event}
            if data is not None:
                entry["data"] = data
            self._events.append(entry)
            self._changed.notify_all()

    def _touch(self, ex: _Exchange, model: FakeModel) -> None:
        """``ex`` used ``model``: it loads or wakes it, and restarts its idle timer (see :class:`Touch`)."""
        with self.lock:
            self.touches.append(Touch(model.name, f"{ex.command} {ex.path}"))
            self._last_task[model.name] = time.monotonic()
            if model.sleeping:
                model.sleeping = False
                self._emit("model_status", model.name, {"status": "loaded"})
            self._changed.notify_all()

    def _doze(self) -> None:
        """--sleep-idle-seconds: a loaded model idle that long is asleep (checked as requests arrive)."""
        if self.sleep_idle_seconds is None:
            return
        now = time.monotonic()
        with self.lock:
            for model in self.models.values():
                idle_since = self._last_task.get(model.name, now)
                awake = model.loaded and not model.sleeping and model.name not in self._loading
                if awake and now - idle_since >= self.sleep_idle_seconds:
                    model.sleeping = True
                    self._emit("model_status", model.name, {"status": "sleeping"})

    def _mark_loaded(self, model: FakeModel, loaded: bool) -> None:
        with self.lock:
            model.loaded = loaded
            if loaded:
                self._loaded_at[model.name] = time.time()
                self._last_task[model.name] = time.monotonic()
            else:
                model.sleeping = False
                self._keep_alive.pop(model.name, None)
            self._sync_instances(model)
            self._changed.notify_all()

    def _sync_instances(self, model: FakeModel) -> list[tuple[str, int]]:
        """LM Studio instances follow ``loaded`` (which tests may flip directly): one when loaded."""
        with self.lock:
            instances = self._instances.setdefault(model.name, [])
            if not model.loaded:
                instances.clear()
            elif not instances:
                instances.append((model.name, _loaded_context(model)))
            return instances

    def _sync_load(self, ex: _Exchange, model: FakeModel) -> bool:
        """A load that blocks its request (Ollama, LM Studio, DMR, LocalAI, JIT loads): True if loaded.

        Every request that comes here uses the model, so it is a :class:`Touch` even when loaded."""
        self._touch(ex, model)
        with self.lock:
            if model.loaded:
                return True
            waiting = model.name in self._loading
            token = self._next_id()
            if not waiting:
                self._loading[model.name] = token
                self._changed.notify_all()
        if waiting:  # someone else's load of the same model: share its outcome
            ex.wait_until(lambda: model.name not in self._loading)
            return model.loaded
        try:
            ex.pause(None if self.load_never_finishes else self.load_seconds)
        except _ClientGone:
            with self.lock:
                if self._loading.get(model.name) == token:
                    del self._loading[model.name]
                    self._changed.notify_all()
            raise
        with self.lock:
            if self._loading.get(model.name) != token:
                return model.loaded
            del self._loading[model.name]
            if model.load_fails:
                self._changed.notify_all()
                return False
            self._mark_loaded(model, loaded=True)
        return True

    def _add_pulled(self, name: str, total: int) -> None:
        with self.lock:
            if name not in self.models:
                self.models[name] = FakeModel(name, size_bytes=total)
            self._changed.notify_all()

    def _note_cancelled(self) -> None:
        with self.lock:
            self.pulls_cancelled += 1

    def _step_fails(self, step: int) -> bool:
        """Progress steps 1..k-1 are reported; step k (``pull_fail_at_step``) is the error instead."""
        return self.pull_fail_at_step is not None and step >= self.pull_fail_at_step

    def _run_job(self, job: _Job, on_done: Callable[[_Job], None] | None = None) -> None:
        """Advance a polled download job one step per ``pull_step_seconds`` (worker thread)."""
        for step in range(1, self.pull_steps + 1):
            if self.stopping.wait(self.pull_step_seconds):
                return
            with self.lock:
                if self._step_fails(step):
                    job.status = "failed"
                    job.error = "connection reset by peer"
                    job.finished = time.time()
                    self._changed.notify_all()
                    return
                job.done = job.total * step // self.pull_steps
        with self.lock:
            job.status = "completed"
            job.finished = time.time()
            self._add_pulled(job.model, job.total)
        if on_done is not None:
            on_done(job)

    # ------------------------------------------------------------------ chat

    def _answer_chat(
        self, ex: _Exchange, model: str, body: dict[str, Any], extras: dict[str, Any] | None = None
    ) -> None:
        """Every fake's ``POST {base_url}/chat/completions``: "Hello from <kind>.", streamed or not."""
        words = ["Hello", " from", f" {self.kind.value}."]
        completion_id = f"chatcmpl-fake-{self._next_id()}"
        created = int(time.time())
        usage = {"prompt_tokens": 5, "completion_tokens": len(words), "total_tokens": 5 + len(words)}
        if not body.get("stream"):
            answer = {
                "id": completion_id,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": "".join(words)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            }
            answer.update(extras or {})
            ex.send_json(200, answer)
            return

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }

        ex.start_stream(200, "text/event-stream")
        ex.sse(chunk({"role": "assistant", "content": ""}))
        for word in words:
            ex.sse(chunk({"content": word}))
        final = chunk({}, "stop")
        final.update(extras or {})
        ex.sse(final)
        options = body.get("stream_options")
        if isinstance(options, dict) and options.get("include_usage"):
            usage_chunk = chunk({})
            usage_chunk["choices"] = []
            usage_chunk["usage"] = usage
            ex.sse(usage_chunk)
        ex.chunk(b"data: [DONE]\n\n")
        ex.end_stream()


# ---------------------------------------------------------------------------------------------- APIs


class _Api:
    """One server's HTTP surface over the shared state: its routes, its error shapes, its chat rules."""

    extra_headers: dict[str, str]

    def __init__(self, fake: FakeBackend) -> None:
        self.fake = fake
        self.extra_headers = {}
        self._routes: dict[tuple[str, str], Route] = {}
        self._prefixed: list[tuple[str, str, Route]] = []
        self.register()

    # ------------------------------------------------------------------ routing

    def register(self) -> None:
        raise NotImplementedError

    def add(self, method: str, paths: str | Iterable[str], route: Route) -> None:
        for path in [paths] if isinstance(paths, str) else paths:
            self._routes[(method, path)] = route

    def add_prefix(self, method: str, prefix: str, route: Route) -> None:
        """A route with a path parameter: ``prefix`` + the rest (a job id, a model name)."""
        self._prefixed.append((method, prefix, route))

    def find(self, method: str, path: str) -> Route | None:
        route = self._routes.get((method, path))
        if route is not None:
            return route
        for wanted, prefix, handler in self._prefixed:
            if wanted == method and path.startswith(prefix) and len(path) > len(prefix):
                return handler
        return None

    def path_known(self, path: str) -> bool:
        return any(known == path for _, known in self._routes)

    # ------------------------------------------------------------------ error shapes

    def auth_exempt(self, path: str) -> bool:
        return False

    def unauthorised(self, ex: _Exchange, sent: str | None) -> None:
        ex.send_json(
            401,
            {
                "error": {
                    "message": "Incorrect API key provided",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "invalid_api_key",
                }
            },
        )

    def not_found(self, ex: _Exchange) -> None:
        ex.send_json(
            404,
            {
                "error": {
                    "message": f"Unknown request URL: {ex.command} {ex.route_path}",
                    "type": "invalid_request_error",
                    "param": None,
                    "code": "unknown_url",
                }
            },
        )

    def method_not_allowed(self, ex: _Exchange) -> None:
        self.not_found(ex)

    def unknown_model(self, ex: _Exchange, name: str) -> None:
        ex.send_json(
            404,
            {
                "error": {
                    "message": f"The model `{name}` does not exist",
                    "type": "invalid_request_error",
                    "param": "model",
                    "code": "model_not_found",
                }
            },
        )

    def load_failed(self, ex: _Exchange, name: str) -> None:
        ex.send_json(500, {"error": {"message": f"failed to load model {name}", "type": "server_error"}})

    # ------------------------------------------------------------------ models and chat

    def lookup(self, name: str) -> FakeModel | None:
        with self.fake.lock:
            return self.fake.models.get(name)

    def chat(self, ex: _Exchange) -> None:
        body = ex.json_object()
        resolved = self.chat_model(ex, str(body.get("model") or ""))
        if resolved is not None:
            self.fake._answer_chat(ex, resolved, body, self.chat_extras())

    def chat_model(self, ex: _Exchange, name: str) -> str | None:
        """The model that answers, after loading it as this server would; None once an error is sent."""
        model = self.lookup(name)
        if model is None:
            self.unknown_model(ex, name)
            return None
        if not self.fake._sync_load(ex, model):
            self.load_failed(ex, model.name)
            return None
        return model.name

    def chat_extras(self) -> dict[str, Any]:
        return {}


# -------------------------------------------------------------------------------------- Ollama


class _OllamaApi(_Api):
    """Ollama: blocking loads through /api/generate, NDJSON pulls, /api/ps memory, cloud models."""

    version = "0.12.10"

    def __init__(self, fake: FakeBackend) -> None:
        self.contexts: dict[str, int] = {}  # the context each runner was loaded with
        super().__init__(fake)

    def register(self) -> None:
        self.add("GET", "/", lambda ex: ex.send_text(200, "Ollama is running"))
        self.add("GET", "/api/version", lambda ex: ex.send_json(200, {"version": self.version}))
        self.add("GET", "/api/tags", self.tags)
        self.add("GET", "/api/ps", self.ps)
        self.add("POST", "/api/show", self.show)
        self.add("POST", "/api/generate", lambda ex: self.generate(ex, chat=False))
        self.add("POST", "/api/chat", lambda ex: self.generate(ex, chat=True))
        self.add("POST", "/api/pull", self.pull)
        self.add("DELETE", "/api/delete", self.delete)
        self.add("GET", "/v1/models", self.openai_models)
        self.add("POST", "/v1/chat/completions", self.chat)

    # ------------------------------------------------------------------ errors

    def unauthorised(self, ex: _Exchange, sent: str | None) -> None:
        ex.send_json(401, {"error": "unauthorized"})

    def not_found(self, ex: _Exchange) -> None:
        ex.send_text(404, "404 page not found", "text/plain")  # gin's default

    def method_not_allowed(self, ex: _Exchange) -> None:
        ex.send_text(405, "405 method not allowed", "text/plain")

    def native_not_found(self, ex: _Exchange, name: str) -> None:
        ex.send_json(404, {"error": f"model '{name}' not found"})

    def unknown_model(self, ex: _Exchange, name: str) -> None:
        # The OpenAI layer wraps the native error (middleware/openai.go, openai.NewError).
        ex.send_json(
            404,
            {
                "error": {
                    "message": f"model '{name}' not found",
                    "type": "not_found_error",
                    "param": None,
                    "code": None,
                }
            },
        )

    def load_failed(self, ex: _Exchange, name: str) -> None:
        ex.send_json(500, {"error": "llama runner process has terminated: exit status 2"})

    # ------------------------------------------------------------------ models

    @staticmethod
    def normalise(name: str) -> str:
        tail = name.rsplit("/", 1)[-1]
        return name if ":" in tail else f"{name}:latest"

    def lookup(self, name: str) -> FakeModel | None:
        if not name:
            return None
        with self.fake.lock:
            return self.fake.models.get(name) or self.fake.models.get(self.normalise(name))

    @staticmethod
    def details(model: FakeModel) -> dict[str, Any]:
        return {
            "parent_model": "",
            "format": "gguf",
            "family": "llama",
            "families": ["llama"],
            "parameter_size": _params_string(model.size_bytes),
            "quantization_level": "Q4_K_M",
        }

    def tags(self, ex: _Exchange) -> None:
        with self.fake.lock:
            entries = []
            for model in self.fake.models.values():
                entry: dict[str, Any] = {
                    "name": model.name,
                    "model": model.name,
                    "modified_at": _iso(_CREATED),
                    "size": 384 if model.remote else model.size_bytes,
                    "digest": _digest(model.name),
                    "details": self.details(model),
                }
                if model.remote:
                    entry["remote_model"] = model.name.removesuffix(":latest").removesuffix("-cloud")
                    entry["remote_host"] = "https://ollama.com:443"
                entries.append(entry)
        ex.send_json(200, {"models": entries})

    def ps(self, ex: _Exchange) -> None:
        fake = self.fake
        now = time.time()
        with fake.lock:
            entries = []
            for model in fake.models.values():
                if not model.loaded or model.remote:
                    continue
                keep = fake._keep_alive.get(model.name, 300.0)
                used = fake._loaded_at.get(model.name, now)
                expires = datetime.now(timezone.utc) + (_FOREVER if keep is None else timedelta(0))
                expires_at = (
                    _iso(used + keep) if keep is not None else expires.isoformat().replace("+00:00", "Z")
                )
                resident = int(model.size_bytes * 1.25)  # weights + KV cache, all in VRAM here
                entries.append(
                    {
                        "name": model.name,
                        "model": model.name,
                        "size": resident,
                        "digest": _digest(model.name),
                        "details": self.details(model),
                        "expires_at": expires_at,
                        "size_vram": resident,
                        "context_length": self.contexts.get(model.name, _loaded_context(model)),
                    }
                )
        entries.sort(key=lambda entry: str(entry["expires_at"]), reverse=True)
        ex.send_json(200, {"models": entries})

    def show(self, ex: _Exchange) -> None:
        body = ex.json_object()
        name = str(body.get("model") or body.get("name") or "")
        model = self.lookup(name)
        if model is None:
            self.native_not_found(ex, name)
            return
        answer: dict[str, Any] = {
            "license": "",
            "modelfile": f"FROM {model.name}\n",
            "parameters": "stop <|eot_id|>",
            "template": "{{ .Prompt }}",
            "details": self.details(model),
            "model_info": {
                "general.architecture": "llama",
                "general.parameter_count": _params(model.size_bytes),
                "llama.context_length": model.context_trained,
                "llama.embedding_length": 2048,
            },
            "capabilities": ["completion"],
            "modified_at": _iso(_CREATED),
        }
        if model.remote:
            answer["remote_model"] = model.name.removesuffix(":latest")
            answer["remote_host"] = "https://ollama.com:443"
        ex.send_json(200, answer)

    def openai_models(self, ex: _Exchange) -> None:
        with self.fake.lock:
            data = [
                {
                    "id": model.name,
                    "object": "model",
                    "created": _CREATED,
                    "owned_by": self.namespace(model.name),
                }
                for model in self.fake.models.values()
            ]
        ex.send_json(200, {"object": "list", "data": data})

    @staticmethod
    def namespace(name: str) -> str:
        """model.ParseName(name).Namespace: "library" unless the name says otherwise."""
        parts = name.split(":", 1)[0].split("/")
        return parts[-2] if len(parts) >= 2 else "library"

    # ------------------------------------------------------------------ load, unload, answer

    def generate(self, ex: _Exchange, *, chat: bool) -> None:
        body = ex.json_object()
        name = str(body.get("model") or "")
        model = self.lookup(name)
        if model is None:
            self.native_not_found(ex, name)
            return
        empty = not body.get("messages") if chat else not body.get("prompt")
        keep_raw = body.get("keep_alive")
        keep = _keep_alive_seconds(keep_raw)
        if empty and keep_raw is not None and keep == 0:
            self.unload(ex, model, body, chat=chat)
            return
        if not model.remote:
            if not self.fake._sync_load(ex, model):
                self.load_failed(ex, model.name)
                return
            with self.fake.lock:
                self.fake._keep_alive[model.name] = keep
                self.fake._loaded_at[model.name] = time.time()
                options = body.get("options")
                wanted = options.get("num_ctx") if isinstance(options, dict) else None
                if wanted is not None or model.name not in self.contexts:
                    self.contexts[model.name] = _loaded_context(model, wanted)
        if empty:
            done = self.message(model.name, chat, "")
            done.update({"done": True, "done_reason": "load"})
            ex.send_json(200, done)
            return
        self.answer(ex, model.name, body, chat=chat)

    def unload(self, ex: _Exchange, model: FakeModel, body: dict[str, Any], *, chat: bool) -> None:
        if model.name in self.fake.lie_loaded:
            self.native_not_found(ex, str(body.get("model")))
            return
        self.fake._mark_loaded(model, loaded=False)
        done = self.message(model.name, chat, "")
        done.update({"done": True, "done_reason": "unload"})
        ex.send_json(200, done)

    @staticmethod
    def message(name: str, chat: bool, text: str) -> dict[str, Any]:
        base: dict[str, Any] = {"model": name, "created_at": _iso(time.time())}
        if chat:
            base["message"] = {"role": "assistant", "content": text}
        else:
            base["response"] = text
        return base

    def answer(self, ex: _Exchange, name: str, body: dict[str, Any], *, chat: bool) -> None:
        """The native answer; its final object carries the eval counts a tray derives tok/s from."""
        words = ["Hello", " from", f" {self.fake.kind.value}."]
        final = self.message(name, chat, "")
        final.update(
            {
                "done": True,
                "done_reason": "stop",
                "total_duration": 60_000_000,
                "load_duration": 1_000_000,
                "prompt_eval_count": 5,
                "prompt_eval_duration": 10_000_000,
                "eval_count": len(words),
                "eval_duration": 30_000_000,
            }
        )
        if body.get("stream") is False:
            final.update(self.message(name, chat, "".join(words)))
            ex.send_json(200, final)
            return
        ex.start_stream(200, "application/x-ndjson")
        for word in words:
            piece = self.message(name, chat, word)
            piece["done"] = False
            ex.ndjson(piece)
        ex.ndjson(final)
        ex.end_stream()

    def chat_model(self, ex: _Exchange, name: str) -> str | None:
        model = self.lookup(name)
        if model is not None and model.remote:
            return model.name  # cloud models answer remotely: nothing loads here
        return super().chat_model(ex, name)

    def delete(self, ex: _Exchange) -> None:
        body = ex.json_object()
        name = str(body.get("model") or body.get("name") or "")
        model = self.lookup(name)
        if model is None:
            self.native_not_found(ex, name)
            return
        with self.fake.lock:
            del self.fake.models[model.name]
            self.fake._changed.notify_all()
        ex.send_body(200, b"", None)

    # ------------------------------------------------------------------ pull

    def pull(self, ex: _Exchange) -> None:
        fake = self.fake
        body = ex.json_object()
        name = str(body.get("model") or body.get("name") or "")
        target = self.normalise(name) if name else name
        total = fake.pullable.get(name, fake.pullable.get(target))
        if body.get("stream") is False:
            self.pull_quietly(ex, target, total)
            return
        ex.start_stream(200, "application/x-ndjson")
        try:
            error = self.pull_steps(ex, target, total)
        except _ClientGone:
            fake._note_cancelled()  # a cancelled pull stops; nothing is added
            raise
        if error is not None:
            ex.ndjson({"error": error})
        else:
            fake._add_pulled(target, total or 0)
            ex.ndjson({"status": "success"})
        ex.end_stream()

    def pull_steps(self, ex: _Exchange | None, name: str, total: int | None) -> str | None:
        """Write (or, without ``ex``, only pace) the documented status sequence; the error, if any."""
        fake = self.fake

        def write(line: dict[str, Any]) -> None:
            if ex is not None:
                ex.ndjson(line)

        def wait() -> None:
            if ex is not None:
                ex.pause(fake.pull_step_seconds)
            elif fake.stopping.wait(fake.pull_step_seconds):
                raise _ClientGone

        write({"status": "pulling manifest"})
        if total is None:
            return "pull model manifest: file does not exist"
        weights = total * 9 // 10 if total >= 10 else total
        layers = [(f"sha256:{_digest(name, 'weights')}", weights)]
        if total - weights:
            layers.append((f"sha256:{_digest(name, 'params')}", total - weights))
        big, size = layers[0]
        write({"status": f"pulling {big[7:19]}", "digest": big, "total": size, "completed": 0})
        for step in range(1, fake.pull_steps + 1):
            wait()
            if fake._step_fails(step):
                return "max retries exceeded: unexpected EOF"
            completed = size * step // fake.pull_steps
            write({"status": f"pulling {big[7:19]}", "digest": big, "total": size, "completed": completed})
        for digest, layer_size in layers[1:]:
            write({"status": f"pulling {digest[7:19]}", "digest": digest, "total": layer_size})
            write(
                {
                    "status": f"pulling {digest[7:19]}",
                    "digest": digest,
                    "total": layer_size,
                    "completed": layer_size,
                }
            )
        for status in ("verifying sha256 digest", "writing manifest"):
            write({"status": status})
        return None

    def pull_quietly(self, ex: _Exchange, name: str, total: int | None) -> None:
        """``"stream": false``: one answer once the pull is over (waitForStream)."""
        try:
            error = self.pull_steps(None, name, total)
        except _ClientGone:
            self.fake._note_cancelled()
            raise
        if error is not None:
            ex.send_json(500, {"error": error})
            return
        self.fake._add_pulled(name, total or 0)
        ex.send_json(200, {"status": "success"})


# -------------------------------------------------------------------------------------- llama.cpp


def _llama_error(message: str, kind: str = "invalid_request_error") -> tuple[int, dict[str, Any]]:
    """llama.cpp's format_error_response: the status code lives inside the body too."""
    codes = {
        "invalid_request_error": 400,
        "authentication_error": 401,
        "not_found_error": 404,
        "server_error": 500,
        "not_supported_error": 501,
        "unavailable_error": 503,
    }
    code = codes[kind]
    return code, {"error": {"code": code, "message": message, "type": kind}}


class _LlamaCommon(_Api):
    """What single-model and router llama-server share: errors, public endpoints, the child's view."""

    _PUBLIC = frozenset({"/health", "/v1/health", "/models", "/v1/models"})

    def auth_exempt(self, path: str) -> bool:
        return path in self._PUBLIC

    def error(self, ex: _Exchange, message: str, kind: str = "invalid_request_error") -> None:
        status, body = _llama_error(message, kind)
        ex.send_json(status, body)

    def unauthorised(self, ex: _Exchange, sent: str | None) -> None:
        self.error(ex, "Invalid API Key", "authentication_error")

    def not_found(self, ex: _Exchange) -> None:
        self.error(ex, "File Not Found", "not_found_error")

    def health(self, ex: _Exchange) -> None:
        ex.send_json(200, {"status": "ok"})

    def chat_extras(self) -> dict[str, Any]:
        return {
            "timings": {
                "cache_n": 0,
                "prompt_n": 5,
                "prompt_ms": 10.0,
                "prompt_per_second": 500.0,
                "predicted_n": 3,
                "predicted_ms": 30.0,
                "predicted_per_second": 100.0,
            }
        }

    @staticmethod
    def meta(model: FakeModel) -> dict[str, Any]:
        return {
            "vocab_type": 2,
            "n_vocab": 262144,
            "n_ctx": model.context_trained,
            "n_ctx_train": model.context_trained,
            "n_embd": 1152,
            "n_params": _params(model.size_bytes),
            "size": model.size_bytes,
            "ftype": 15,
        }

    @staticmethod
    def model_info(model: FakeModel) -> dict[str, Any]:
        return {
            "id": model.name,
            "aliases": [],
            "tags": [],
            "object": "model",
            "created": int(time.time()),
            "owned_by": "llamacpp",
            "meta": _LlamaCommon.meta(model),
        }

    def props(self, model: FakeModel) -> dict[str, Any]:
        return {
            "default_generation_settings": {
                "id": 0,
                "id_task": -1,
                "n_ctx": model.context_trained,
                "speculative": False,
                "is_processing": False,
                "params": {"n_predict": -1, "temperature": 0.8, "top_k": 40, "top_p": 0.95},
            },
            "total_slots": 4,
            "model_alias": model.name,
            "model_path": f"/models/{model.name}.gguf",
            "modalities": {"vision": False, "video": False, "audio": False},
            "endpoint_slots": True,
            "endpoint_props": False,
            "endpoint_metrics": self.fake.metrics,
            "webui": True,
            "chat_template": "{{ messages }}",
            "bos_token": "<bos>",
            "eos_token": "<eos>",
            "build_info": _BUILD_INFO,
            "is_sleeping": model.sleeping,
        }

    def slots(self, model: FakeModel) -> list[dict[str, Any]]:
        """Four slots (the auto --parallel); with ``busy`` the first one is processing."""
        return [self.slot(index, model, busy=self.fake.busy and index == 0) for index in range(4)]

    @staticmethod
    def slot(index: int, model: FakeModel, *, busy: bool) -> dict[str, Any]:
        return {
            "id": index,
            "id_task": 7 if busy else -1,
            "n_ctx": model.context_trained,
            "speculative": False,
            "is_processing": busy,
            "params": {"n_predict": -1, "temperature": 0.8, "top_k": 40, "top_p": 0.95},
            "next_token": {
                "has_next_token": busy,
                "has_new_line": False,
                "n_remain": -1,
                "n_decoded": 12 if busy else 0,
                "stopping_word": "",
            },
        }

    def metrics_disabled(self, ex: _Exchange) -> None:
        self.error(
            ex,
            "This server does not support metrics endpoint. Start it with `--metrics`",
            "not_supported_error",
        )

    def metrics(self, ex: _Exchange, model: FakeModel) -> None:
        """``GET /metrics`` (with ``--metrics``): exempt from sleep, so no :class:`Touch` — a sleeping
        server answers from its cache, a METRICS task does not restart the idle timer."""
        if not self.fake.metrics:
            self.metrics_disabled(ex)
            return
        processing = int(self.fake.busy and not model.sleeping)
        ex.send_text(
            200,
            "# HELP llamacpp:requests_processing Number of requests processing.\n"
            "# TYPE llamacpp:requests_processing gauge\n"
            f"llamacpp:requests_processing {processing}\n"
            "# HELP llamacpp:requests_deferred Number of requests deferred.\n"
            "# TYPE llamacpp:requests_deferred gauge\n"
            "llamacpp:requests_deferred 0\n",
            "text/plain; version=0.0.4",
        )


class _LlamaSingleApi(_LlamaCommon):
    """llama-server with one model: always loaded (or asleep), no load/unload, the models[] trap."""

    def register(self) -> None:
        self.add("GET", ["/health", "/v1/health"], self.health)
        self.add("GET", "/props", lambda ex: ex.send_json(200, self.props(self.served())))
        self.add("GET", ["/models", "/v1/models"], self.models)
        self.add("GET", "/slots", self.get_slots)
        self.add("GET", "/metrics", lambda ex: self.metrics(ex, self.served()))
        self.add("POST", ["/v1/chat/completions", "/chat/completions"], self.chat)

    def served(self) -> FakeModel:
        with self.fake.lock:
            return next(iter(self.fake.models.values()))

    def models(self, ex: _Exchange) -> None:
        """One handler for /models and /v1/models: both carry the Ollama-shaped ``models[]`` stub."""
        model = self.served()
        ex.send_json(
            200,
            {
                "models": [
                    {
                        "name": model.name,
                        "model": model.name,
                        "modified_at": "",
                        "size": "",
                        "digest": "",
                        "type": "model",
                        "description": "",
                        "tags": [""],
                        "capabilities": ["completion"],
                        "parameters": "",
                        "details": {
                            "parent_model": "",
                            "format": "gguf",
                            "family": "",
                            "families": [""],
                            "parameter_size": "",
                            "quantization_level": "",
                        },
                    }
                ],
                "object": "list",
                "data": [self.model_info(model)],
            },
        )

    def get_slots(self, ex: _Exchange) -> None:
        model = self.served()
        self.fake._touch(ex, model)  # /slots posts a task: it wakes a sleeping model, restarts the timer
        ex.send_json(200, self.slots(model))

    def chat_model(self, ex: _Exchange, name: str) -> str | None:
        model = self.served()  # one model: the request's "model" is not checked
        self.fake._touch(ex, model)
        return name or model.name


class _LlamaRouterApi(_LlamaCommon):
    """llama-server in router mode: async loads with status.value, optional download API and SSE."""

    def register(self) -> None:
        self.add("GET", ["/health", "/v1/health"], self.health)
        self.add("GET", "/props", self.get_props)
        self.add("GET", ["/models", "/v1/models"], self.models)
        self.add("POST", "/models/load", self.load)
        self.add("POST", "/models/unload", self.unload)
        if self.fake.router_sse:
            self.add("POST", "/models", self.download)
            self.add("GET", "/models/sse", self.events)
            self.add("DELETE", "/models", self.remove)
        self.add("GET", "/slots", self.get_slots)
        self.add("GET", "/metrics", self.get_metrics)
        self.add("POST", ["/v1/chat/completions", "/chat/completions"], self.chat)

    # ------------------------------------------------------------------ listing

    def status(self, model: FakeModel) -> dict[str, Any]:
        fake = self.fake
        args = ["llama-server", "--host", "127.0.0.1", "--port", "0", "--alias", model.name]
        if model.name in fake._loading:
            return {"value": "loading", "args": args}
        if model.loaded:
            return {"value": "sleeping" if model.sleeping else "loaded", "args": args}
        status: dict[str, Any] = {"value": "unloaded", "args": args}
        if model.name in fake._failed:
            status.update({"exit_code": fake._failed[model.name], "failed": True})
        return status

    def entry(self, name: str, status: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": name,
            "aliases": [],
            "tags": [],
            "object": "model",
            "owned_by": "llamacpp",
            "created": int(time.time()),
            "status": status,
            "architecture": {"input_modalities": ["text"], "output_modalities": ["text"]},
            "source": "cache",
            "can_remove": True,
        }

    def models(self, ex: _Exchange) -> None:
        fake = self.fake
        with fake.lock:
            data = []
            for model in fake.models.values():
                entry = self.entry(model.name, self.status(model))
                if model.loaded and model.name not in fake._loading:
                    entry["meta"] = self.meta(model)  # the child's /v1/models info, merged while running
                data.append(entry)
            for name, download in fake._downloads.items():
                progress = {download.url: {"done": download.done, "total": download.total}}
                data.append(self.entry(name, {"value": "downloading", "progress": progress}))
        ex.send_json(200, {"data": data, "object": "list"})

    # ------------------------------------------------------------------ load / unload

    def begin_load(self, model: FakeModel) -> None:
        """Spawn the "child": status loading now, loaded (or failed) after ``load_seconds``."""
        fake = self.fake
        with fake.lock:
            token = fake._next_id()
            fake._loading[model.name] = token
            fake._failed.pop(model.name, None)
            fake._emit("model_status", model.name, {"status": "loading"})
        fake._spawn(lambda: self.finish_load(model, token), f"load-{model.name}")

    def finish_load(self, model: FakeModel, token: int) -> None:
        fake = self.fake
        if fake.load_never_finishes:
            fake.stopping.wait()
            return
        if fake.stopping.wait(fake.load_seconds):
            return
        with fake.lock:
            if fake._loading.get(model.name) != token:
                return  # unloaded (killed) while loading
            del fake._loading[model.name]
            if model.load_fails:
                fake._failed[model.name] = 1
                fake._emit("model_status", model.name, {"status": "unloaded", "exit_code": 1})
            else:
                fake._mark_loaded(model, loaded=True)
                fake._emit("model_status", model.name, {"status": "loaded", "info": self.model_info(model)})
            fake._changed.notify_all()

    def load(self, ex: _Exchange) -> None:
        name = str(ex.json_object().get("model") or "")
        model = self.lookup(name)
        if model is None:
            self.error(ex, "model is not found", "not_found_error")
            return
        with self.fake.lock:
            running = model.loaded or model.name in self.fake._loading
            if not running:
                self.begin_load(model)
        if running:
            self.error(ex, "model is already running")
            return
        ex.send_json(200, {"success": True})

    def unload(self, ex: _Exchange) -> None:
        fake = self.fake
        name = str(ex.json_object().get("model") or "")
        with fake.lock:
            download = fake._downloads.pop(name, None)
            if download is not None:  # unloading a download cancels it
                fake.pulls_cancelled += 1
                fake._emit("download_failed", name)
        if download is not None:
            ex.send_json(200, {"success": True})
            return
        model = self.lookup(name)
        if model is None or name in fake.lie_loaded:
            self.error(ex, "model is not found")
            return
        with fake.lock:
            running = model.loaded or model.name in fake._loading
            if running and model.name in fake._loading:  # still loading: force-killed at once
                fake._loading.pop(model.name, None)
                self.child_exited(model)
            elif running and model.name not in fake._stopping_models:
                token = fake._next_id()
                fake._stopping_models[model.name] = token
                if fake.unload_seconds <= 0:
                    self.child_exited(model)
                else:  # server_models::unload only asks the child to exit; the monitor sees it go
                    fake._spawn(lambda: self.exit_later(model, token), f"stop-{model.name}")
        if not running:
            self.error(ex, "model is not running")
            return
        ex.send_json(200, {"success": True})

    def child_exited(self, model: FakeModel) -> None:
        fake = self.fake
        with fake.lock:
            fake._stopping_models.pop(model.name, None)
            fake._mark_loaded(model, loaded=False)
            fake._emit("model_status", model.name, {"status": "unloaded", "exit_code": 0})

    def exit_later(self, model: FakeModel, token: int) -> None:
        """The child asked to exit goes after ``unload_seconds``; until then /models lists it as before."""
        if self.fake.stopping.wait(self.fake.unload_seconds):
            return
        with self.fake.lock:
            if self.fake._stopping_models.get(model.name) == token:
                self.child_exited(model)

    def autoload(self, ex: _Exchange) -> bool:
        """is_autoload: ``?autoload=`` when given (true/1), else the router's --models-autoload."""
        given = ex.query.get("autoload")
        return self.fake.models_autoload if given is None or given == "" else given in ("true", "1")

    def ensure_ready(self, ex: _Exchange, model: FakeModel) -> bool:
        """router_validate_model + ensure_model_ready: True when the request may go to the child.

        With autoload an unloaded model is loaded (a :class:`Touch`) and waited for, and so is one
        whose child is exiting (the next instance serves it: this is how a poll undoes an unload).
        Without it only a running child (loading, loaded, asleep or exiting) is asked. Waking is the
        child's business: only requests that post it a task (:meth:`child_task`) do.
        """
        fake = self.fake
        with fake.lock:
            running = model.loaded or model.name in fake._loading
            stopping = model.name in fake._stopping_models
            loading = model.name in fake._loading
        if not self.autoload(ex):
            if not running:
                self.error(ex, "model is not loaded")
                return False
            if loading:  # proxied to a child that has not finished loading its weights
                self.error(ex, "Loading model", "unavailable_error")
                return False
            return True
        if running and not stopping and not loading:
            return True
        if stopping:
            ex.wait_until(lambda: model.name not in fake._stopping_models)
        with fake.lock:
            if not model.loaded and model.name not in fake._loading:
                fake._touch(ex, model)
                self.begin_load(model)
        ex.wait_until(lambda: model.name not in fake._loading)
        with fake.lock:
            ready = model.loaded
        if not ready:
            self.error(ex, f"model name={model.name} failed to load", "server_error")
        return ready

    def child_task(self, ex: _Exchange, model: FakeModel) -> None:
        """The child gets a task (/slots, a completion): it wakes if asleep, its idle timer restarts."""
        self.fake._touch(ex, model)

    def routed(self, ex: _Exchange, name: str) -> FakeModel | None:
        """router_validate_model: a name, a known model, a ready child; None once an error is sent."""
        if not name:
            self.error(ex, "model name is missing from the request")
            return None
        model = self.lookup(name)
        if model is None:
            self.error(ex, f"model '{name}' not found")
            return None
        return model if self.ensure_ready(ex, model) else None

    def chat_model(self, ex: _Exchange, name: str) -> str | None:
        model = self.routed(ex, name)
        if model is None:
            return None
        self.child_task(ex, model)
        return model.name

    def get_props(self, ex: _Exchange) -> None:
        name = ex.query.get("model", "")
        if not name:
            ex.send_json(
                200,
                {
                    "role": "router",
                    "max_instances": 4,
                    "models_autoload": self.fake.models_autoload,
                    "model_alias": "llama-server",
                    "model_path": "none",
                    "default_generation_settings": {"params": {}, "n_ctx": 0},
                    "ui_settings": {},
                    "build_info": _BUILD_INFO,
                    "cors_proxy_enabled": False,
                },
            )
            return
        model = self.routed(ex, name)
        if model is not None:
            ex.send_json(200, self.props(model))

    def get_slots(self, ex: _Exchange) -> None:
        model = self.routed(ex, ex.query.get("model", ""))
        if model is not None:
            self.child_task(ex, model)
            ex.send_json(200, self.slots(model))

    def get_metrics(self, ex: _Exchange) -> None:
        model = self.routed(ex, ex.query.get("model", ""))
        if model is not None:
            self.metrics(ex, model)  # the child's own /metrics (501 unless started with --metrics)

    # ------------------------------------------------------------------ downloads and events

    def download(self, ex: _Exchange) -> None:
        fake = self.fake
        name = str(ex.json_object().get("model") or "")
        if not name:
            self.error(ex, "model must be a non-empty string")
            return
        total = fake.pullable.get(name)
        if total is None:
            self.error(ex, "model validation failed, unable to download")
            return
        with fake.lock:
            if name in fake.models or name in fake._downloads:
                exists = True
            else:
                exists = False
                repo, _, quant = name.partition(":")
                file = f"{repo.rsplit('/', 1)[-1].removesuffix('-GGUF')}-{quant or 'Q4_K_M'}.gguf"
                url = f"https://huggingface.co/{repo}/resolve/main/{file}"
                download = _Download(url=url, total=total, token=fake._next_id())
                fake._downloads[name] = download
                fake._emit("model_status", name, {"status": "downloading"})
        if exists:
            self.error(ex, f"model '{name}' already exists")
            return
        fake._spawn(lambda: self.run_download(name, download), f"download-{name}")
        ex.send_json(200, {"success": True})

    def run_download(self, name: str, download: _Download) -> None:
        fake = self.fake

        def current() -> bool:
            return fake._downloads.get(name) is download

        with fake.lock:
            fake._emit("download_progress", name, {download.url: {"done": 0, "total": download.total}})
        for step in range(1, fake.pull_steps + 1):
            if fake.stopping.wait(fake.pull_step_seconds):
                return
            with fake.lock:
                if not current():
                    return  # cancelled through /models/unload
                if fake._step_fails(step):
                    del fake._downloads[name]
                    fake._emit("download_failed", name)
                    return
                download.done = download.total * step // fake.pull_steps
                fake._emit(
                    "download_progress",
                    name,
                    {download.url: {"done": download.done, "total": download.total}},
                )
        with fake.lock:
            if not current():
                return
            del fake._downloads[name]
            fake._add_pulled(name, download.total)
            fake._emit("download_finished", name)
            fake._emit("models_reload", "*")

    def events(self, ex: _Exchange) -> None:
        """``GET /models/sse``: every event from now on, as ``data: {model, event, data?}`` lines."""
        fake = self.fake
        with fake.lock:
            seen = len(fake._events)
        ex.start_stream(200, "text/event-stream")
        while True:
            with fake.lock:
                if len(fake._events) == seen and not fake.stopping.is_set():
                    fake._changed.wait(0.05)
                pending = fake._events[seen:]
                seen += len(pending)
            for event in pending:
                ex.sse(event)
            if fake.stopping.is_set() or ex.client_closed(0):
                raise _ClientGone

    def remove(self, ex: _Exchange) -> None:
        fake = self.fake
        name = ex.query.get("model", "")
        if not name:
            self.error(ex, "model must be a non-empty string")
            return
        with fake.lock:
            model = fake.models.pop(name, None)
            if model is not None:
                fake._loading.pop(name, None)
                fake._emit("model_remove", name)
        if model is None:
            self.error(ex, f"model name={name} is not found", "server_error")
            return
        ex.send_json(200, {"success": True})


# -------------------------------------------------------------------------------------- LM Studio


class _LmStudioApi(_Api):
    """LM Studio ≥ 0.4: native v1 (sync loads by key, unloads by instance id, download jobs) and v0."""

    native_v1 = True

    def register(self) -> None:
        self.extra_headers = {"X-Powered-By": "Express"}
        if self.native_v1:
            self.add("GET", "/api/v1/models", self.v1_models)
            self.add("POST", "/api/v1/models/load", self.load)
            self.add("POST", "/api/v1/models/unload", self.unload)
            self.add("POST", "/api/v1/models/download", self.download)
            self.add("GET", "/api/v1/models/download/status", self.all_jobs)
            self.add_prefix("GET", "/api/v1/models/download/status/", self.job)
        self.add("GET", "/api/v0/models", self.v0_models)
        self.add_prefix("GET", "/api/v0/models/", self.v0_model)
        self.add("GET", "/v1/models", self.openai_models)
        self.add("POST", "/v1/chat/completions", self.chat)

    # ------------------------------------------------------------------ errors

    @staticmethod
    def err(message: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
        return {"error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}}

    def unauthorised(self, ex: _Exchange, sent: str | None) -> None:
        ex.send_json(401, self.err("Invalid or missing API token", "invalid_api_key"))

    def not_found(self, ex: _Exchange) -> None:
        ex.send_json(404, {"error": f"Unexpected endpoint or method. ({ex.command} {ex.route_path})"})

    def unknown_model(self, ex: _Exchange, name: str) -> None:
        ex.send_json(
            404,
            self.err(
                f'Invalid model identifier "{name}". Please specify a valid downloaded model.',
                "model_not_found",
                "model",
            ),
        )

    def load_failed(self, ex: _Exchange, name: str) -> None:
        ex.send_json(500, self.err(f'Failed to load model "{name}". Error: failed to load model'))

    # ------------------------------------------------------------------ listing

    def lookup(self, name: str) -> FakeModel | None:
        """By key, or by an instance id ("key:2") as chat requests may name it."""
        with self.fake.lock:
            model = self.fake.models.get(name)
            if model is not None:
                return model
            for candidate in self.fake.models.values():
                if any(instance == name for instance, _ in self.fake._sync_instances(candidate)):
                    return candidate
        return None

    @staticmethod
    def publisher(key: str) -> str:
        return key.split("/", 1)[0] if "/" in key else "lmstudio-community"

    def v1_entry(self, model: FakeModel) -> dict[str, Any]:
        instances = self.fake._sync_instances(model)
        base = model.name.rsplit("/", 1)[-1]
        return {
            "type": "llm",
            "publisher": self.publisher(model.name),
            "key": model.name,
            "display_name": base.replace("-", " ").title(),
            "architecture": "llama",
            "quantization": {"name": "Q4_K_M", "bits_per_weight": 4},
            "size_bytes": model.size_bytes,
            "params_string": _params_string(model.size_bytes),
            "loaded_instances": [
                {
                    "id": instance,
                    "config": {
                        "context_length": context,
                        "eval_batch_size": 512,
                        "flash_attention": False,
                        "num_experts": 0,
                        "offload_kv_cache_to_gpu": True,
                    },
                }
                for instance, context in instances
            ],
            "max_context_length": model.context_trained,
            "format": "gguf",
            "capabilities": {"vision": False, "trained_for_tool_use": False},
            "description": None,
        }

    def v1_models(self, ex: _Exchange) -> None:
        with self.fake.lock:
            models = [self.v1_entry(model) for model in self.fake.models.values()]
        ex.send_json(200, {"models": models})

    def v0_entry(self, model: FakeModel) -> dict[str, Any]:
        return {
            "id": model.name,
            "object": "model",
            "type": "llm",
            "publisher": self.publisher(model.name),
            "arch": "llama",
            "compatibility_type": "gguf",
            "quantization": "Q4_K_M",
            "state": "loaded" if self.fake._sync_instances(model) else "not-loaded",
            "max_context_length": model.context_trained,
        }

    def v0_models(self, ex: _Exchange) -> None:
        with self.fake.lock:
            data = [self.v0_entry(model) for model in self.fake.models.values()]
        ex.send_json(200, {"object": "list", "data": data})

    def v0_model(self, ex: _Exchange) -> None:
        name = ex.route_path.removeprefix("/api/v0/models/")
        model = self.lookup(name)
        if model is None:
            self.unknown_model(ex, name)
            return
        with self.fake.lock:
            ex.send_json(200, self.v0_entry(model))

    def openai_models(self, ex: _Exchange) -> None:
        """JIT loading (the default) lists every downloaded model here, loaded or not."""
        with self.fake.lock:
            data = [
                {"id": model.name, "object": "model", "owned_by": "organization_owner"}
                for model in self.fake.models.values()
            ]
        ex.send_json(200, {"data": data, "object": "list"})

    # ------------------------------------------------------------------ load / unload

    def load(self, ex: _Exchange) -> None:
        fake = self.fake
        body = ex.json_object()
        name = str(body.get("model") or "")
        model = self.lookup(name)
        if model is None or model.name != name:
            self.unknown_model(ex, name)
            return
        config = body.get("config")
        wanted = body.get("context_length")
        if wanted is None and isinstance(config, dict):
            wanted = config.get("context_length")
        started = time.monotonic()
        with fake.lock:
            had = bool(fake._sync_instances(model))
        if not had and not fake._sync_load(ex, model):
            self.load_failed(ex, model.name)
            return
        if had:  # loading a loaded key adds another instance (and takes as long)
            ex.pause(None if fake.load_never_finishes else fake.load_seconds)
        context = _loaded_context(model, wanted)
        with fake.lock:
            instances = fake._sync_instances(model)
            if had or not instances:
                taken = {instance for instance, _ in instances}
                number = len(instances) + 1
                while f"{model.name}:{number}" in taken:
                    number += 1
                instance_id = model.name if not instances else f"{model.name}:{number}"
                instances.append((instance_id, context))
            else:
                instance_id = instances[0][0]
                instances[0] = (instance_id, context)
            fake._changed.notify_all()
        answer: dict[str, Any] = {
            "type": "llm",
            "instance_id": instance_id,
            "load_time_seconds": round(time.monotonic() - started, 3),
            "status": "loaded",
        }
        if body.get("echo_load_config"):
            answer["load_config"] = {"context_length": context, "eval_batch_size": 512}
        ex.send_json(200, answer)

    def unload(self, ex: _Exchange) -> None:
        fake = self.fake
        instance_id = str(ex.json_object().get("instance_id") or "")
        with fake.lock:
            owner: FakeModel | None = None
            if instance_id not in fake.lie_loaded:
                for model in fake.models.values():
                    instances = fake._sync_instances(model)
                    if any(instance == instance_id for instance, _ in instances):
                        owner = model
                        instances[:] = [item for item in instances if item[0] != instance_id]
                        if not instances:
                            fake._mark_loaded(model, loaded=False)
                        break
        if owner is None:
            ex.send_json(
                404, self.err(f'No loaded model instance with id "{instance_id}"', "model_not_found")
            )
            return
        ex.send_json(200, {"instance_id": instance_id})

    # ------------------------------------------------------------------ downloads

    def job_view(self, job: _Job) -> dict[str, Any]:
        view: dict[str, Any] = {
            "job_id": job.job_id,
            "status": job.status,
            "total_size_bytes": job.total,
            "downloaded_bytes": job.done,
            "started_at": _iso(job.started),
        }
        if job.status == "downloading":
            elapsed = max(time.time() - job.started, 1e-3)
            rate = job.done / elapsed
            left = (job.total - job.done) / rate if rate else 3600.0
            view["bytes_per_second"] = rate
            view["estimated_completion"] = _iso(time.time() + left)
        if job.status == "completed" and job.finished is not None:
            view["completed_at"] = _iso(job.finished)
        return view

    def download(self, ex: _Exchange) -> None:
        fake = self.fake
        name = str(ex.json_object().get("model") or "")
        if self.lookup(name) is not None:
            ex.send_json(200, {"status": "already_downloaded"})
            return
        total = fake.pullable.get(name)
        if total is None:
            ex.send_json(
                404, self.err(f'Could not find model "{name}" in the catalog', "model_not_found", "model")
            )
            return
        job = _Job(job_id=f"job_{uuid.uuid4().hex[:10]}", model=name, total=total, started=time.time())
        with fake.lock:
            fake._jobs[job.job_id] = job
            view = self.job_view(job)
        fake._spawn(lambda: fake._run_job(job), job.job_id)
        ex.send_json(200, view)

    def job(self, ex: _Exchange) -> None:
        job_id = ex.route_path.rsplit("/", 1)[-1]
        with self.fake.lock:
            job = self.fake._jobs.get(job_id)
            view = None if job is None else self.job_view(job)
        if view is None:
            ex.send_json(404, self.err(f'No download job with id "{job_id}"', "job_not_found"))
            return
        ex.send_json(200, view)

    def all_jobs(self, ex: _Exchange) -> None:
        groups: dict[str, list[dict[str, Any]]] = {
            "downloading": [],
            "completed": [],
            "failed": [],
            "paused": [],
        }
        with self.fake.lock:
            for job in self.fake._jobs.values():
                groups[job.status].append(self.job_view(job))
        ex.send_json(200, groups)

    # ------------------------------------------------------------------ chat

    def chat_model(self, ex: _Exchange, name: str) -> str | None:
        model = self.lookup(name)
        if model is None:
            self.unknown_model(ex, name)
            return None
        if not self.fake._sync_load(ex, model):  # JIT load on the first request
            self.load_failed(ex, model.name)
            return None
        return name


class _LmStudioV0Api(_LmStudioApi):
    """LM Studio 0.3.x: no /api/v1 at all; /api/v0 reports state; loading is JIT only."""

    native_v1 = False


# -------------------------------------------------------------------------------------- DMR


class _DmrApi(_Api):
    """Docker Model Runner: preload by header, unload runners, JSON-lines pulls, an Ollama-compat layer."""

    def register(self) -> None:
        self.add("GET", "/", lambda ex: ex.send_text(200, "Docker Model Runner is running"))
        self.add("GET", "/version", lambda ex: ex.send_json(200, {"version": "v1.0.6"}))
        self.add("GET", "/api/version", lambda ex: ex.send_json(200, {"version": "0.1.0"}))
        self.add("GET", "/api/tags", self.ollama_tags)
        self.add("GET", "/api/ps", self.ollama_ps)
        self.add("GET", "/models", self.models)
        self.add_prefix("GET", "/models/", self.one_model)
        self.add(
            "GET", ["/engines/v1/models", "/v1/models", "/engines/llama.cpp/v1/models"], self.openai_models
        )
        self.add("GET", "/engines/ps", self.ps)
        self.add("GET", "/engines/status", self.engine_status)
        self.add(
            "POST",
            [
                "/engines/v1/chat/completions",
                "/v1/chat/completions",
                "/engines/llama.cpp/v1/chat/completions",
            ],
            self.chat,
        )
        self.add("POST", "/engines/unload", self.unload)
        self.add("POST", "/models/create", self.create)

    def not_found(self, ex: _Exchange) -> None:
        ex.send_text(404, "404 page not found\n")  # Go's http.NotFound

    def unknown_model(self, ex: _Exchange, name: str) -> None:
        ex.send_text(404, "model not found\n")  # http.Error(w, ErrModelNotFound.Error(), 404)

    def load_failed(self, ex: _Exchange, name: str) -> None:
        ex.send_text(
            500, "unable to load runner: error waiting for runner to be ready: llama.cpp terminated\n"
        )

    # ------------------------------------------------------------------ names

    @staticmethod
    def normalise(name: str) -> str:
        """``smollm2`` → ``ai/smollm2:latest`` (reference.DefaultOrg = "ai"; the tag kept as given)."""
        if not name or name.startswith("sha256:"):
            return name
        repo, colon, tag = name.rpartition(":")
        if not colon or "/" in tag:
            repo, tag = name, "latest"
        if "/" not in repo:
            repo = f"ai/{repo}"
        return f"{repo.lower()}:{tag}"

    def lookup(self, name: str) -> FakeModel | None:
        wanted = self.normalise(name)
        with self.fake.lock:
            for model in self.fake.models.values():
                if self.normalise(model.name) == wanted or f"sha256:{_digest(model.name)}" == name:
                    return model
        return None

    @staticmethod
    def config(model: FakeModel) -> dict[str, Any]:
        return {
            "format": "gguf",
            "quantization": "Q4_K_M",
            "parameters": _params_string(model.size_bytes).replace("M", " M").replace("B", " B"),
            "architecture": "llama",
            "size": _human_size(model.size_bytes),
            "context_size": model.context_trained,
        }

    # ------------------------------------------------------------------ listings

    def model_view(self, model: FakeModel) -> dict[str, Any]:
        return {
            "id": f"sha256:{_digest(model.name)}",
            "tags": [self.normalise(model.name)],
            "created": _CREATED,
            "config": self.config(model),
        }

    def models(self, ex: _Exchange) -> None:
        with self.fake.lock:
            data = [self.model_view(model) for model in self.fake.models.values()]
        ex.send_json(200, data)

    def one_model(self, ex: _Exchange) -> None:
        model = self.lookup(ex.route_path.removeprefix("/models/"))
        if model is None:
            self.unknown_model(ex, ex.route_path)
            return
        with self.fake.lock:
            ex.send_json(200, self.model_view(model))

    def openai_models(self, ex: _Exchange) -> None:
        with self.fake.lock:
            data = []
            for model in self.fake.models.values():
                config = self.config(model)
                data.append(
                    {
                        "id": self.normalise(model.name),
                        "object": "model",
                        "created": _CREATED,
                        "owned_by": "docker",
                        "dmr": {
                            "context_window": model.context_trained,
                            "architecture": config["architecture"],
                            "parameters": config["parameters"],
                            "quantization": config["quantization"],
                            "size": config["size"],
                        },
                    }
                )
        ex.send_json(200, {"object": "list", "data": data})

    def ollama_tags(self, ex: _Exchange) -> None:
        """The compat layer: size is always 0 (the TODO in pkg/ollama/http_handler.go)."""
        with self.fake.lock:
            entries = [
                {
                    "name": self.normalise(model.name),
                    "model": self.normalise(model.name),
                    "modified_at": _iso(_CREATED),
                    "size": 0,
                    "digest": f"sha256:{_digest(model.name)}",
                    "details": {
                        "format": "gguf",
                        "family": "llama",
                        "families": ["llama"],
                        "parameter_size": self.config(model)["parameters"],
                        "quantization_level": "Q4_K_M",
                    },
                }
                for model in self.fake.models.values()
            ]
        ex.send_json(200, {"models": entries})

    def ollama_ps(self, ex: _Exchange) -> None:
        with self.fake.lock:
            entries = []
            for model in self.fake.models.values():
                if not model.loaded:
                    continue
                used = self.fake._loaded_at.get(model.name, time.time())
                entries.append(
                    {
                        "name": self.normalise(model.name),
                        "model": self.normalise(model.name),
                        "size": 0,
                        "digest": f"sha256:{_digest(model.name)}",
                        "expires_at": "0001-01-01T00:00:00Z" if self.fake.busy else _iso(used + 300),
                    }
                )
        ex.send_json(200, {"models": entries})

    def ps(self, ex: _Exchange) -> None:
        fake = self.fake
        with fake.lock:
            runners: list[dict[str, Any]] = []
            for model in fake.models.values():
                loading = model.name in fake._loading
                if not (model.loaded or loading):
                    continue
                runner: dict[str, Any] = {
                    "backend_name": "llama.cpp",
                    "model_name": self.normalise(model.name),
                    "mode": "completion",
                    "last_used": _iso(fake._loaded_at[model.name])
                    if model.name in fake._loaded_at and not loading
                    else "0001-01-01T00:00:00Z",
                }
                if fake.busy and not loading:
                    runner["in_use"] = True
                if loading:
                    runner["loading"] = True
                runners.append(runner)
        ex.send_json(200, runners)

    def engine_status(self, ex: _Exchange) -> None:
        ex.send_json(200, {"llama.cpp": "running llama.cpp version: b6100", "vllm": "not installed"})

    # ------------------------------------------------------------------ load / unload

    def chat_model(self, ex: _Exchange, name: str) -> str | None:
        if not name:
            ex.send_text(400, "model is required\n")
            return None
        resolved = super().chat_model(ex, name)
        if resolved is not None and ex.header("X-Preload-Only") == "true":
            ex.send_body(200, b"", None)  # loaded; no inference
            return None
        return None if resolved is None else self.normalise(name)

    def unload(self, ex: _Exchange) -> None:
        """Counts the runners stopped; a busy runner (handling a request) is not stopped."""
        fake = self.fake
        body = ex.json_object()
        wanted = {self.normalise(str(name)) for name in body.get("models") or []}
        count = 0
        with fake.lock:
            for model in fake.models.values():
                if not model.loaded or model.name in fake.lie_loaded or fake.busy:
                    continue
                if body.get("all") or self.normalise(model.name) in wanted:
                    fake._mark_loaded(model, loaded=False)
                    count += 1
        ex.send_json(200, {"unloaded_runners": count})

    # ------------------------------------------------------------------ pull

    def create(self, ex: _Exchange) -> None:
        fake = self.fake
        name = str(ex.json_object().get("from") or "")
        as_json = ex.header("Accept") == "application/json"
        existing = self.lookup(name)
        total = fake.pullable.get(name, fake.pullable.get(self.normalise(name)))
        if existing is None and total is None:
            ex.send_text(404, "Model not found\n")
            return
        ex.start_stream(200, "application/json" if as_json else "text/plain")

        def line(kind: str, message: str, total_size: int = 0, layer: dict[str, Any] | None = None) -> None:
            data = {
                "type": kind,
                "message": message,
                "total": total_size,
                "layer": layer or {"size": 0, "current": 0},
                "mode": "pull",
            }
            text = json.dumps(data, separators=(",", ":")) + "\n"
            ex.chunk((text if as_json else _go_html_escape(text)).encode())

        if existing is not None:
            line("success", f"Using cached model: {_human_size(existing.size_bytes)}")
            ex.end_stream()
            return
        size = total or 0
        layer_id = f"sha256:{_digest(name, 'gguf')}"
        try:
            for step in range(1, fake.pull_steps + 1):
                ex.pause(fake.pull_step_seconds)
                if fake._step_fails(step):
                    line("error", "Error: writing image to store: unexpected EOF")
                    # The handler then calls http.Error on a stream already under way: plain text follows.
                    ex.chunk(b"writing image to store: unexpected EOF\n")
                    ex.end_stream()
                    return
                current = size * step // fake.pull_steps
                line(
                    "progress",
                    f"Downloaded: {current / 1024 / 1024:.2f} MB",
                    size,
                    {"id": layer_id, "size": size, "current": current},
                )
        except _ClientGone:
            fake._note_cancelled()
            raise
        fake._add_pulled(self.normalise(name), size)
        line("success", "Model pulled successfully")
        ex.end_stream()


# -------------------------------------------------------------------------------------- LocalAI


_LOCALAI_HTML = (
    "<!DOCTYPE html><html lang='en'><head><title>LocalAI</title></head>"
    "<body><h1>LocalAI</h1><p>Welcome to your LocalAI instance.</p></body></html>"
)


class _LocalAiApi(_Api):
    """LocalAI: /system loaded models, /backend/load and /backend/shutdown, gallery jobs to poll."""

    version = "v3.7.0"

    def register(self) -> None:
        self.add("GET", "/", lambda ex: ex.send_text(200, _LOCALAI_HTML, "text/html; charset=UTF-8"))
        self.add("GET", "/.well-known/localai.json", self.well_known)
        self.add("GET", "/version", lambda ex: ex.send_json(200, {"version": self.version}))
        self.add("GET", ["/readyz", "/healthz"], lambda ex: ex.send_body(200, b"", None))
        self.add("GET", ["/v1/models", "/models"], self.openai_models)
        self.add("GET", "/system", self.system)
        self.add("GET", "/backend/monitor", self.monitor)
        self.add("POST", "/backend/load", self.load)
        self.add("POST", "/backend/shutdown", self.shutdown)
        self.add("POST", "/models/apply", self.apply)
        self.add("GET", "/models/jobs", self.all_jobs)
        self.add_prefix("GET", "/models/jobs/", self.job)
        self.add("POST", ["/v1/chat/completions", "/chat/completions"], self.chat)

    @staticmethod
    def err(code: int, message: str, kind: str = "") -> dict[str, Any]:
        return {"error": {"code": code, "message": message, "type": kind}}

    def unauthorised(self, ex: _Exchange, sent: str | None) -> None:
        ex.send_json(401, self.err(401, "Authentication required", "authentication_error"))

    def not_found(self, ex: _Exchange) -> None:
        """Every 404 goes through notFoundHandler: "Resource not found" (HTML for a browser)."""
        accept, content = ex.header("Accept"), ex.header("Content-Type")
        if "text/html" in accept and "application/json" not in content:
            ex.send_text(
                404, "<!DOCTYPE html><html><body>404 - Not Found</body></html>", "text/html; charset=UTF-8"
            )
            return
        ex.send_json(404, self.err(404, "Resource not found"))

    def unknown_model(self, ex: _Exchange, name: str) -> None:
        self.not_found(ex)

    def load_failed(self, ex: _Exchange, name: str) -> None:
        ex.send_json(500, self.err(500, f"could not load model: rpc error: code = Unknown desc = {name}"))

    def well_known(self, ex: _Exchange) -> None:
        monitoring = {
            "metrics": "/metrics",
            "backend_monitor": "/backend/monitor",
            "backend_shutdown": "/backend/shutdown",
            "backend_load": "/backend/load",
            "system": "/system",
            "version": "/version",
        }
        ex.send_json(
            200,
            {
                "version": self.version,
                "endpoints": {
                    "models": "/v1/models",
                    "chat_completions": "/v1/chat/completions",
                    "completions": "/v1/completions",
                    "embeddings": "/v1/embeddings",
                },
                "endpoint_groups": {
                    "openai_compatible": {"models": "/v1/models", "chat_completions": "/v1/chat/completions"},
                    "model_management": {
                        "list_gallery": "/models/available",
                        "install": "/models/apply",
                        "delete": "/models/delete/:name",
                    },
                    "monitoring": monitoring,
                },
            },
        )

    def openai_models(self, ex: _Exchange) -> None:
        with self.fake.lock:
            data = [{"id": model.name, "object": "model"} for model in self.fake.models.values()]
        ex.send_json(200, {"object": "list", "data": data})

    def system(self, ex: _Exchange) -> None:
        with self.fake.lock:
            loaded = [{"id": m.name, "backend": "llama-cpp"} for m in self.fake.models.values() if m.loaded]
        ex.send_json(200, {"backends": ["llama-cpp"], "loaded_models": loaded})

    def monitor(self, ex: _Exchange) -> None:
        name = ex.query.get("model") or str(ex.json_object().get("model") or "")
        if not name:
            ex.send_json(400, self.err(400, "model query parameter is required"))
            return
        model = self.lookup(name)
        if model is None or not model.loaded:
            ex.send_json(500, self.err(500, f"backend {name} is not currently loaded"))
            return
        resident = int(model.size_bytes * 1.25)
        state = 1 if self.fake.busy else 2  # proto StatusResponse: BUSY = 1, READY = 2
        ex.send_json(200, {"state": state, "memory": {"total": resident, "breakdown": {"RAM": resident}}})

    def load(self, ex: _Exchange) -> None:
        name = str(ex.json_object().get("model") or "")
        if not name:
            ex.send_json(400, {"loaded": None, "message": "model is required"})
            return
        model = self.lookup(name)
        if model is None:
            ex.send_json(
                500, {"loaded": None, "message": f"failed to load model: model config not found for {name}"}
            )
            return
        if not self.fake._sync_load(ex, model):
            ex.send_json(500, {"loaded": None, "message": "failed to load model: backend failed to start"})
            return
        ex.send_json(200, {"loaded": [model.name], "message": "model loaded"})

    def shutdown(self, ex: _Exchange) -> None:
        name = str(ex.json_object().get("model") or "")
        if not name:
            ex.send_json(400, self.err(400, "model is required"))
            return
        model = self.lookup(name)
        if model is None or not model.loaded or name in self.fake.lie_loaded:
            self.not_found(ex)  # "is not loaded" arrives as a 404, whose body notFoundHandler replaces
            return
        self.fake._mark_loaded(model, loaded=False)
        ex.send_json(200, {"message": "model stopped"})

    # ------------------------------------------------------------------ gallery jobs

    def job_view(self, job: _Job) -> dict[str, Any]:
        processed = job.status != "downloading"
        if job.status == "failed":
            message = f"error: {job.error}"
        else:
            message = "completed" if processed else "processing"
        return {
            "deletion": False,
            "file_name": f"/models/{job.model}.gguf",
            "error": job.error,
            "processed": processed,
            "message": message,
            "progress": 100.0 if job.status == "completed" else 100.0 * job.done / max(job.total, 1),
            "current_bytes": job.done,
            "total_bytes": job.total,
            "file_size": _human_size(job.total),
            "downloaded_size": _human_size(job.done),
            "gallery_element_name": job.model,
            "cancelled": False,
            "cancellable": not processed,
        }

    def apply(self, ex: _Exchange) -> None:
        fake = self.fake
        body = ex.json_object()
        ident = str(body.get("id") or body.get("url") or "")
        name = str(body.get("name") or ident.rsplit("@", 1)[-1])
        total = fake.pullable.get(ident, fake.pullable.get(name))
        job = _Job(job_id=str(uuid.uuid1()), model=name, total=total or 0, started=time.time())
        with fake.lock:
            fake._jobs[job.job_id] = job
        if total is None:  # the gallery has no such element: the job fails at once
            with fake.lock:
                job.status, job.error, job.finished = (
                    "failed",
                    f'no model found with name "{name}"',
                    time.time(),
                )
        else:
            fake._spawn(lambda: fake._run_job(job), job.job_id)
        ex.send_json(200, {"uuid": job.job_id, "status": f"{fake.root_url}/models/jobs/{job.job_id}"})

    def job(self, ex: _Exchange) -> None:
        job_id = ex.route_path.rsplit("/", 1)[-1]
        with self.fake.lock:
            job = self.fake._jobs.get(job_id)
            view = None if job is None else self.job_view(job)
        if view is None:
            ex.send_json(500, self.err(500, "could not find any status for ID"))
            return
        ex.send_json(200, view)

    def all_jobs(self, ex: _Exchange) -> None:
        with self.fake.lock:
            views = {job_id: self.job_view(job) for job_id, job in self.fake._jobs.items()}
        ex.send_json(200, views)


# -------------------------------------------------------------------------------------- vLLM


class _VllmApi(_Api):
    """vLLM: one always-loaded model, max_model_len, Prometheus busy gauges; the key guards only /v1."""

    def register(self) -> None:
        self.extra_headers = {"server": "uvicorn"}
        self.add("GET", "/version", lambda ex: ex.send_json(200, {"version": "0.11.0"}))
        self.add("GET", "/health", lambda ex: ex.send_body(200, b"", None))
        self.add("GET", "/v1/models", self.openai_models)
        self.add("GET", "/metrics", self.metrics)
        self.add("POST", "/v1/chat/completions", self.chat)

    def auth_exempt(self, path: str) -> bool:
        return not path.startswith("/v1")

    def unauthorised(self, ex: _Exchange, sent: str | None) -> None:
        ex.send_json(401, {"error": "Unauthorized"})

    def not_found(self, ex: _Exchange) -> None:
        ex.send_json(404, {"detail": "Not Found"})

    def method_not_allowed(self, ex: _Exchange) -> None:
        ex.send_json(405, {"detail": "Method Not Allowed"})

    def unknown_model(self, ex: _Exchange, name: str) -> None:
        ex.send_json(
            404,
            {
                "error": {
                    "message": f"The model `{name}` does not exist.",
                    "type": "NotFoundError",
                    "param": "model",
                    "code": 404,
                }
            },
        )

    def openai_models(self, ex: _Exchange) -> None:
        with self.fake.lock:
            data = [
                {
                    "id": model.name,
                    "object": "model",
                    "created": int(time.time()),
                    "owned_by": "vllm",
                    "root": model.name,
                    "parent": None,
                    "max_model_len": model.context_trained,
                    "permission": [
                        {
                            "id": f"modelperm-{_digest(model.name)[:32]}",
                            "object": "model_permission",
                            "created": int(time.time()),
                            "allow_create_engine": False,
                            "allow_sampling": True,
                            "allow_logprobs": True,
                            "allow_search_indices": False,
                            "allow_view": True,
                            "allow_fine_tuning": False,
                            "organization": "*",
                            "group": None,
                            "is_blocking": False,
                        }
                    ],
                }
                for model in self.fake.models.values()
            ]
        ex.send_json(200, {"object": "list", "data": data})

    def metrics(self, ex: _Exchange) -> None:
        with self.fake.lock:
            names = list(self.fake.models)
        running = 1.0 if self.fake.busy else 0.0
        lines = []
        gauges = [
            ("vllm:num_requests_running", "Number of requests in model execution batches.", "gauge", running),
            ("vllm:num_requests_waiting", "Number of requests waiting to be processed.", "gauge", 0.0),
            (
                "vllm:kv_cache_usage_perc",
                "KV-cache usage. 1 means 100 percent usage.",
                "gauge",
                0.05 * running,
            ),
            ("vllm:prompt_tokens_total", "Number of prefill tokens processed.", "counter", 120.0),
            ("vllm:generation_tokens_total", "Number of generation tokens processed.", "counter", 480.0),
        ]
        for metric, help_text, kind, value in gauges:
            lines.append(f"# HELP {metric} {help_text}")
            lines.append(f"# TYPE {metric} {kind}")
            lines.extend(f'{metric}{{engine="0",model_name="{name}"}} {value}' for name in names)
        ex.send_text(200, "\n".join(lines) + "\n", "text/plain; version=0.0.4; charset=utf-8")

    def chat_model(self, ex: _Exchange, name: str) -> str | None:
        if self.lookup(name) is None:
            self.unknown_model(ex, name)
            return None
        return name


# -------------------------------------------------------------------------------------- Jan


_JAN_DOCS = (
    '<!DOCTYPE html>\n<html lang="en">\n<head>\n  <meta charset="UTF-8">\n  <title>API Docs</title>\n'
    '</head>\n<body>\n  <div id="swagger-ui"></div>\n</body>\n</html>\n'
)
_JAN_OPENAPI = {"openapi": "3.0.0", "info": {"title": "Jan API", "version": "0.6.0"}, "paths": {}}


class _JanApi(_Api):
    """Jan's Rust proxy: lists running sessions only, plain-text errors, whitelisted docs paths."""

    _WHITELIST = frozenset(
        {
            "/",
            "/openapi.json",
            "/favicon.ico",
            "/docs/swagger-ui.css",
            "/docs/swagger-ui-bundle.js",
            "/docs/swagger-ui-standalone-preset.js",
        }
    )

    def register(self) -> None:
        self.add("GET", "/", lambda ex: ex.send_text(200, _JAN_DOCS, "text/html"))
        self.add("GET", "/openapi.json", lambda ex: ex.send_json(200, _JAN_OPENAPI))
        self.add("GET", "/models", self.openai_models)
        self.add("POST", ["/chat/completions", "/completions"], self.chat)

    @staticmethod
    def strip(path: str) -> str:
        """The proxy's remove_prefix: routes are matched without the "/v1" prefix."""
        return path.removeprefix("/v1") if path.startswith("/v1/") else path

    def find(self, method: str, path: str) -> Route | None:
        return super().find(method, self.strip(path))

    def path_known(self, path: str) -> bool:
        return False  # the proxy answers "Not Found" for any unhandled method/path

    def auth_exempt(self, path: str) -> bool:
        return self.strip(path) in self._WHITELIST

    def unauthorised(self, ex: _Exchange, sent: str | None) -> None:
        body = "Missing authorization header" if sent is None else "Invalid or missing authorization token"
        ex.send_body(401, body.encode(), None)

    def not_found(self, ex: _Exchange) -> None:
        ex.send_body(404, b"Not Found", None)

    def openai_models(self, ex: _Exchange) -> None:
        with self.fake.lock:
            data = [
                {"id": m.name, "object": "model", "created": 1, "owned_by": "user"}
                for m in self.fake.models.values()
                if m.loaded
            ]
        ex.send_json(200, {"object": "list", "data": data})

    def chat_model(self, ex: _Exchange, name: str) -> str | None:
        if not name:
            ex.send_body(400, b"Request body must contain a 'model' field", None)
            return None
        with self.fake.lock:
            running = [m.name for m in self.fake.models.values() if m.loaded]
        if not running:
            ex.send_body(503, b"No models are available", None)
            return None
        if name not in running:
            ex.send_body(404, f"No running session found for model '{name}'".encode(), None)
            return None
        return name


# -------------------------------------------------------------------------------------- generic


class _GenericApi(_Api):
    """Any OpenAI-compatible server: /v1/models and chat, nothing else."""

    def register(self) -> None:
        self.add("GET", "/v1/models", self.openai_models)
        self.add("POST", "/v1/chat/completions", self.chat)

    def openai_models(self, ex: _Exchange) -> None:
        with self.fake.lock:
            data = [
                {"id": m.name, "object": "model", "created": _CREATED, "owned_by": "system"}
                for m in self.fake.models.values()
            ]
        ex.send_json(200, {"object": "list", "data": data})

    def chat_model(self, ex: _Exchange, name: str) -> str | None:
        if self.lookup(name) is None:
            self.unknown_model(ex, name)
            return None
        return name


_API_BY_KIND: dict[Kind, Callable[[FakeBackend], _Api]] = {
    Kind.OLLAMA: _OllamaApi,
    Kind.LLAMACPP_ROUTER: _LlamaRouterApi,
    Kind.LLAMACPP_SINGLE: _LlamaSingleApi,
    Kind.LMSTUDIO: _LmStudioApi,
    Kind.LMSTUDIO_V0: _LmStudioV0Api,
    Kind.DMR: _DmrApi,
    Kind.LOCALAI: _LocalAiApi,
    Kind.VLLM: _VllmApi,
    Kind.JAN: _JanApi,
    Kind.GENERIC: _GenericApi,
}
