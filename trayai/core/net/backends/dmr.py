"""Docker Model Runner: ``/models`` lists what is pulled, ``/engines/ps`` what is running (with a
busy flag), a chat call with ``X-Preload-Only`` loads, ``/engines/unload`` unloads (all at once too),
``/models/create`` pulls with JSON-lines progress. Sources: docs/model-apis.md §4.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncGenerator
from typing import Any

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.backends.base import Backend, as_dict, as_int, pull_error
from trayai.core.net.backends.records import Capabilities, ModelRecord, ModelState, PullProgress, ServerKind
from trayai.core.net.wire import JSONObject

LOAD_CALL_TIMEOUT = 600.0
_SIZE = re.compile(r"^\s*([\d.]+)\s*([KMGT]?i?B)\s*$", re.I)
_UNITS = {"b": 1, "kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12, "kib": 1 << 10, "mib": 1 << 20}
_UNITS.update({"gib": 1 << 30, "tib": 1 << 40})


def parse_size(text: Any) -> int | None:
    """Bytes from DMR's human size ("256.35 MiB"), or a number as given."""
    if isinstance(text, (int, float)):
        return as_int(text)
    match = _SIZE.match(str(text or ""))
    if match is None:
        return None
    return int(float(match.group(1)) * _UNITS[match.group(2).lower()])


def same_model(a: str, b: str) -> bool:
    """``ai/smollm2`` and ``ai/smollm2:latest`` name the same model."""

    def bare(name: str) -> str:
        return name[: -len(":latest")] if name.endswith(":latest") else name

    return bare(a.lower()) == bare(b.lower())


class DmrBackend(Backend):
    kind = ServerKind.DMR
    caps = Capabilities(loaded_state=True, load=True, unload=True, pull=True, busy=True)

    async def _running(self) -> list[JSONObject]:
        data = self.checked(await self.http.get("/engines/ps"), "/engines/ps")
        return [r for r in data if isinstance(r, dict)] if isinstance(data, list) else []

    async def models(self, listed: list[str] | None = None) -> list[ModelRecord]:
        data = self.checked(await self.http.get("/models"), "/models")
        running = await self._running()
        records = []
        for row in data if isinstance(data, list) else []:
            if not isinstance(row, dict):
                continue
            tags = [str(t) for t in row.get("tags") or []]
            name = tags[0] if tags else str(row.get("id") or "")
            if not name:
                continue
            config = as_dict(row.get("config"))
            runner = next(
                (r for r in running if any(same_model(str(r.get("model_name")), t) for t in tags or [name])),
                None,
            )
            state = ModelState.AVAILABLE
            if runner is not None:
                state = ModelState.LOADING if runner.get("loading") else ModelState.LOADED
            records.append(
                ModelRecord(
                    name,
                    state,
                    size_bytes=parse_size(config.get("size")),
                    context_trained=as_int(config.get("context_size")),
                )
            )
        return records

    async def loaded_names(self) -> list[str] | None:
        return [str(r.get("model_name")) for r in await self._running()]

    async def busy(self) -> bool | None:
        return any(bool(r.get("in_use")) for r in await self._running())

    async def load(self, record: ModelRecord, keep_alive: float | None) -> None:
        reply = await self.http.post(
            "/engines/v1/chat/completions",
            {"model": record.id},
            headers={"X-Preload-Only": "true"},
            timeout=LOAD_CALL_TIMEOUT,
        )
        if not reply.ok:
            raise self.refused(reply, "load", record.id)

    async def unload(self, record: ModelRecord) -> None:
        reply = await self.http.post("/engines/unload", {"all": False, "models": [record.id]})
        if not reply.ok:
            raise self.refused(reply, "unload", record.id)
        data = reply.json()
        if isinstance(data, dict) and data.get("unloaded_runners") == 0:
            raise make_error(
                ErrorCode.SERVER_ERROR,
                f"{self.http.where} unloaded nothing for {record.id!r}",
                "Docker Model Runner unloads only idle runners: wait until its answer ends, then try again.",
            )

    async def unload_all(self, loaded: list[ModelRecord]) -> int:
        reply = await self.http.post("/engines/unload", {"all": True})
        if not reply.ok:
            raise self.refused(reply, "unload", "all models")
        data = reply.json()
        count = as_int(data.get("unloaded_runners")) if isinstance(data, dict) else None
        return count if count is not None else len(loaded)

    async def pull(self, name: str) -> AsyncGenerator[PullProgress, None]:
        layers: dict[str, tuple[int, int]] = {}
        lines = self.http.lines("POST", "/models/create", body={"from": name})
        try:
            async for line in lines:
                try:
                    event = json.loads(line) if line.strip() else None
                except ValueError:
                    continue
                if not isinstance(event, dict):
                    continue
                kind = event.get("type")
                if kind == "error":
                    raise pull_error(self.http.where, name, str(event.get("message") or "the pull failed"))
                if kind == "success":
                    total = sum(t for _, t in layers.values()) or None
                    yield PullProgress("success", total, total, done=True)
                    return
                layer = event.get("layer") if isinstance(event.get("layer"), dict) else None
                if layer is not None and layer.get("id"):
                    layers[str(layer["id"])] = (
                        as_int(layer.get("current")) or 0,
                        as_int(layer.get("size")) or 0,
                    )
                if kind == "progress":
                    yield PullProgress(
                        "downloading",
                        sum(c for c, _ in layers.values()) if layers else None,
                        sum(t for _, t in layers.values()) if layers else as_int(event.get("total")),
                    )
        except TrayaiError as exc:
            if exc.status in (400, 404):  # DMR's "Model not found": no such name in the registry
                raise pull_error(self.http.where, name, exc.detail or exc.message) from exc
            raise
        raise pull_error(self.http.where, name, "the server ended the pull without saying it succeeded")
