"""llama.cpp's ``llama-server``: single-model (one model, always loaded or sleeping) and router mode
(``/models`` with ``status.value``, async ``/models/load``, ``/models/unload``, downloads reported on
``/models/sse``). ``/slots`` wakes a sleeping model, so it is read only for an awake one.
Sources: docs/model-apis.md §2.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Any

from trayai.core.backends.base import Backend, Unsupported, as_dict, as_int, pull_error, server_words
from trayai.core.backends.records import Capabilities, ModelRecord, ModelState, PullProgress, ServerKind
from trayai.core.errors import TrayaiError

_ROUTER_STATES = {
    "loaded": ModelState.LOADED,
    "loading": ModelState.LOADING,
    "sleeping": ModelState.SLEEPING,
    "unloaded": ModelState.AVAILABLE,
    "downloading": ModelState.DOWNLOADING,
}


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

    async def _props(self) -> dict[str, Any]:
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
        if not self.caps.busy or (await self._props()).get("is_sleeping"):
            return None  # /slots would wake it
        slots = self.optional(await self.http.get("/slots"), "busy")
        if not isinstance(slots, list):
            return None
        return any(isinstance(s, dict) and s.get("is_processing") for s in slots)

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

    async def busy(self) -> bool | None:
        if not self.caps.busy:
            return None
        awake = [m for m in await self.models() if m.state is ModelState.LOADED]
        for record in awake:
            slots = self.optional(await self.http.get(f"/slots?model={record.id}"), "busy")
            if slots is None:
                return None
            if any(isinstance(s, dict) and s.get("is_processing") for s in slots):
                return True
        return False

    async def load(self, record: ModelRecord, keep_alive: float | None) -> None:
        reply = await self.http.post("/models/load", {"model": record.id})
        if not reply.ok and "already" not in server_words(reply).lower():
            raise self.refused(reply, "load", record.id)

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


def _sse_event(line: str) -> dict[str, Any] | None:
    if not line.startswith("data:"):
        return None
    try:
        event = json.loads(line[5:].strip())
    except ValueError:
        return None
    return event if isinstance(event, dict) else None
