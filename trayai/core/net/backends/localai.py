"""LocalAI: ``/system`` says what is loaded, ``/backend/load`` and ``/backend/shutdown`` load and
unload, ``/models/apply`` starts a gallery install whose job is polled; ``/backend/monitor`` gives
a loaded model's real memory. Sources: docs/model-apis.md §5.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from dataclasses import replace
from typing import Any
from urllib.parse import quote

from trayai.core.net.backends.base import Backend, as_int, openai_ids, pull_error, server_words
from trayai.core.net.backends.records import Capabilities, ModelRecord, ModelState, PullProgress, ServerKind

LOAD_CALL_TIMEOUT = 600.0
JOB_POLL_SECONDS = 0.5


def _rss(data: Any) -> int | None:
    """Resident memory from the monitor's answer (gopsutil ``MemoryInfo.rss`` or a gRPC breakdown)."""
    if not isinstance(data, dict):
        return None
    for key in ("MemoryInfo", "memory_info", "memory"):
        info = data.get(key)
        if isinstance(info, dict):
            for field in ("rss", "RSS", "total"):
                if as_int(info.get(field)):
                    return as_int(info.get(field))
    state = data.get("state")
    return _rss(state) if isinstance(state, dict) else None


class LocalAiBackend(Backend):
    kind = ServerKind.LOCALAI
    caps = Capabilities(loaded_state=True, load=True, unload=True, pull=True)

    async def _loaded_ids(self) -> set[str] | None:
        data = self.optional(await self.http.get("/system"), "loaded_state")
        rows = data.get("loaded_models") if isinstance(data, dict) else None
        if not isinstance(rows, list):
            return None
        return {str(r.get("id")) for r in rows if isinstance(r, dict) and r.get("id") is not None}

    async def models(self, listed: list[str] | None = None) -> list[ModelRecord]:
        data = self.checked(await self.http.get(f"{self.http.base}/models"), "/models")
        loaded = await self._loaded_ids()
        records = []
        for model_id in openai_ids(data):
            if loaded is None:
                records.append(ModelRecord(model_id, ModelState.UNKNOWN))
            elif model_id in loaded:
                records.append(replace(await self._with_memory(model_id), state=ModelState.LOADED))
            else:
                records.append(ModelRecord(model_id, ModelState.AVAILABLE))
        return records

    async def _with_memory(self, model_id: str) -> ModelRecord:
        record = ModelRecord(model_id, ModelState.LOADED)
        if not self.caps.loaded_state:
            return record
        reply = await self.http.get(f"/backend/monitor?model={quote(model_id)}")
        if not reply.ok or reply.json() is None:
            return record  # the monitor is optional detail; the loaded state stands
        return replace(record, memory_bytes=_rss(reply.json()))

    async def loaded_names(self) -> list[str] | None:
        loaded = await self._loaded_ids()
        return None if loaded is None else sorted(loaded)

    async def load(self, record: ModelRecord, keep_alive: float | None) -> None:
        reply = await self.http.post("/backend/load", {"model": record.id}, timeout=LOAD_CALL_TIMEOUT)
        if not reply.ok:
            raise self.refused(reply, "load", record.id)

    async def unload(self, record: ModelRecord) -> None:
        reply = await self.http.post("/backend/shutdown", {"model": record.id})
        if not reply.ok:
            raise self.refused(reply, "unload", record.id)

    async def pull(self, name: str) -> AsyncGenerator[PullProgress, None]:
        reply = await self.http.post("/models/apply", {"id": name})
        if not reply.ok:
            raise pull_error(self.http.where, name, server_words(reply) or f"HTTP {reply.status}")
        started = reply.json() if isinstance(reply.json(), dict) else {}
        uuid = started.get("uuid")
        if not uuid:
            raise pull_error(self.http.where, name, "LocalAI started no install job")
        yield PullProgress("starting")
        while True:
            await asyncio.sleep(JOB_POLL_SECONDS)
            job = self.checked(await self.http.get(f"/models/jobs/{uuid}"), "/models/jobs")
            if not isinstance(job, dict):
                continue
            if job.get("error"):
                raise pull_error(self.http.where, name, str(job["error"]))
            current, total = as_int(job.get("current_bytes")), as_int(job.get("total_bytes"))
            if total is None and isinstance(job.get("progress"), (int, float)):
                current, total = int(job["progress"]), 100  # a percentage only
            if job.get("processed"):
                yield PullProgress("success", total, total, done=True)
                return
            yield PullProgress(str(job.get("message") or "downloading"), current, total)
