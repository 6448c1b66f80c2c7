"""Ollama: ``/api/tags`` lists, ``/api/ps`` says what is loaded (with real memory), ``/api/generate``
without a prompt loads or (``keep_alive: 0``) unloads, ``/api/pull`` streams NDJSON progress.
Sources: docs/model-apis.md §1.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Any

from trayai.core.net.backends.base import Backend, as_dict, as_int, pull_error
from trayai.core.net.backends.records import Capabilities, ModelRecord, ModelState, PullProgress, ServerKind
from trayai.core.net.backends.timefmt import parse_time
from trayai.core.net.wire import JSONObject

LOAD_CALL_TIMEOUT = 600.0  # the manager's own deadline is shorter when the user gives one


class OllamaBackend(Backend):
    kind = ServerKind.OLLAMA
    caps = Capabilities(loaded_state=True, load=True, unload=True, pull=True, keep_alive=True)

    async def _running(self) -> list[JSONObject]:
        data = self.checked(await self.http.get("/api/ps"), "/api/ps")
        rows = data.get("models") if isinstance(data, dict) else None
        return [r for r in rows if isinstance(r, dict)] if isinstance(rows, list) else []

    async def models(self, listed: list[str] | None = None) -> list[ModelRecord]:
        data = self.checked(await self.http.get("/api/tags"), "/api/tags")
        running = {str(r.get("name") or r.get("model")): r for r in await self._running()}
        now = time.time()
        records: dict[str, ModelRecord] = {}
        rows = data.get("models") if isinstance(data, dict) else None
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or not (row.get("name") or row.get("model")):
                continue
            name = str(row.get("name") or row.get("model"))
            details = as_dict(row.get("details"))
            records[name] = ModelRecord(
                name,
                ModelState.AVAILABLE,
                size_bytes=as_int(row.get("size")),
                context_trained=as_int(details.get("context_length")),
                remote=bool(row.get("remote_host") or row.get("remote_model")),
            )
        for name, row in running.items():
            base = records.get(name, ModelRecord(name, ModelState.LOADED))
            records[name] = _running_record(base, row, now)
        return list(records.values())

    async def loaded_names(self) -> list[str] | None:
        return [str(r.get("name") or r.get("model")) for r in await self._running()]

    async def load(self, record: ModelRecord, keep_alive: float | None) -> None:
        body: dict[str, Any] = {"model": record.id}  # a request body: keep_alive is a str or a number
        if keep_alive is not None:
            body["keep_alive"] = -1 if math.isinf(keep_alive) else f"{int(keep_alive)}s"
        reply = await self.http.post("/api/generate", body, timeout=LOAD_CALL_TIMEOUT)
        if not reply.ok:
            raise self.refused(reply, "load", record.id)

    async def unload(self, record: ModelRecord) -> None:
        reply = await self.http.post("/api/generate", {"model": record.id, "keep_alive": 0})
        if not reply.ok:
            raise self.refused(reply, "unload", record.id)

    async def pull(self, name: str) -> AsyncGenerator[PullProgress, None]:
        layers: dict[str, tuple[int, int]] = {}
        lines = self.http.lines("POST", "/api/pull", body={"model": name, "stream": True})
        async for line in lines:
            if not line.strip():
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            if not isinstance(event, dict):
                continue
            if event.get("error"):
                raise pull_error(self.http.where, name, str(event["error"]))
            status = str(event.get("status") or "")
            digest, total = event.get("digest"), as_int(event.get("total"))
            if digest and total:
                layers[str(digest)] = (as_int(event.get("completed")) or 0, total)
            done = status == "success"
            completed = sum(c for c, _ in layers.values()) if layers else None
            yield PullProgress(
                "pulling" if digest else status or "pulling",
                completed,
                sum(t for _, t in layers.values()) if layers else None,
                done=done,
            )
            if done:
                return
        raise pull_error(self.http.where, name, "the server ended the pull without saying it succeeded")


def _running_record(base: ModelRecord, row: JSONObject, now: float) -> ModelRecord:
    expires = parse_time(row.get("expires_at"), now)
    stopping = expires is not None and not math.isinf(expires) and expires < now
    return replace(
        base,
        state=ModelState.LOADED,
        memory_bytes=as_int(row.get("size")),
        vram_bytes=as_int(row.get("size_vram")),
        context_loaded=as_int(row.get("context_length")),
        expires_at=expires,
        detail="stopping" if stopping else None,
    )
