"""LM Studio: REST v1 (``/api/v1/models`` with ``loaded_instances``, synchronous load, unload per
instance, downloads as jobs to poll) and the older v0 API (``state`` only; loads just in time).
Sources: docs/model-apis.md §3.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Any

from trayai.core.net.backends.base import Backend, as_int, pull_error, server_words
from trayai.core.net.backends.records import Capabilities, ModelRecord, ModelState, PullProgress, ServerKind

LOAD_CALL_TIMEOUT = 600.0
JOB_POLL_SECONDS = 0.5


class LmStudioBackend(Backend):
    kind = ServerKind.LMSTUDIO
    caps = Capabilities(loaded_state=True, load=True, unload=True, pull=True)

    async def models(self, listed: list[str] | None = None) -> list[ModelRecord]:
        data = self.checked(await self.http.get("/api/v1/models"), "/api/v1/models")
        rows = data.get("models") if isinstance(data, dict) else None
        records = []
        for row in rows if isinstance(rows, list) else []:
            if not isinstance(row, dict) or row.get("key") is None:
                continue
            instances = [i for i in row.get("loaded_instances") or [] if isinstance(i, dict)]
            config = instances[0].get("config") if instances else None
            records.append(
                ModelRecord(
                    str(row["key"]),
                    ModelState.LOADED if instances else ModelState.AVAILABLE,
                    size_bytes=as_int(row.get("size_bytes")),
                    context_loaded=as_int(config.get("context_length")) if isinstance(config, dict) else None,
                    context_trained=as_int(row.get("max_context_length")),
                    instances=tuple(str(i.get("id")) for i in instances if i.get("id") is not None),
                )
            )
        return records

    async def load(self, record: ModelRecord, keep_alive: float | None) -> None:
        if record.loaded:
            return  # loading a loaded key would add a second instance, doubling the memory
        reply = await self.http.post("/api/v1/models/load", {"model": record.id}, timeout=LOAD_CALL_TIMEOUT)
        if not reply.ok:
            raise self.refused(reply, "load", record.id)

    async def unload(self, record: ModelRecord) -> None:
        for instance in record.instances or (record.id,):
            reply = await self.http.post("/api/v1/models/unload", {"instance_id": instance})
            if not reply.ok:
                raise self.refused(reply, "unload", record.id)

    async def pull(self, name: str) -> AsyncGenerator[PullProgress, None]:
        reply = await self.http.post("/api/v1/models/download", {"model": name})
        if not reply.ok:
            raise pull_error(self.http.where, name, server_words(reply) or f"HTTP {reply.status}")
        job = reply.json() if isinstance(reply.json(), dict) else {}
        while True:
            status = str(job.get("status") or "")
            done_bytes, total = as_int(job.get("downloaded_bytes")), as_int(job.get("total_size_bytes"))
            if status in ("completed", "already_downloaded"):
                yield PullProgress("success", total, total, done=True)
                return
            if status == "failed":
                raise pull_error(
                    self.http.where, name, str(job.get("error") or "LM Studio reports it failed")
                )
            yield PullProgress(status or "downloading", done_bytes, total)
            if not job.get("job_id"):
                raise pull_error(self.http.where, name, "LM Studio started no download job")
            await asyncio.sleep(JOB_POLL_SECONDS)
            polled = await self.http.get(f"/api/v1/models/download/status/{job['job_id']}")
            data = self.checked(polled, "/api/v1/models/download/status")
            job = {**job, **data} if isinstance(data, dict) else job


class LmStudioV0Backend(Backend):
    """LM Studio before 0.4 (or with the v1 API unreachable): loaded state only."""

    kind = ServerKind.LMSTUDIO_V0
    caps = Capabilities(loaded_state=True)

    async def models(self, listed: list[str] | None = None) -> list[ModelRecord]:
        data: Any = self.optional(await self.http.get("/api/v0/models"), "loaded_state")
        if data is None:
            return await super().models()
        rows = data.get("data") if isinstance(data, dict) else None
        return [
            ModelRecord(
                str(r["id"]),
                ModelState.LOADED if r.get("state") == "loaded" else ModelState.AVAILABLE,
                context_trained=as_int(r.get("max_context_length")),
            )
            for r in (rows if isinstance(rows, list) else [])
            if isinstance(r, dict) and r.get("id") is not None
        ]

    def no_load_hint(self) -> str:
        return (
            "LM Studio's v0 API loads a model on its first request; update LM Studio to 0.4 or later "
            "(REST API v1) to load and unload from trayai, or use `lms load` / `lms unload`."
        )

    def no_pull_hint(self) -> str:
        return "Update LM Studio to 0.4 or later to download from trayai, or use `lms get MODEL`."
