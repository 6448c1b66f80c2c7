"""The servers that cannot load, unload or pull over HTTP: vLLM (one model per process, always
loaded, a busy count in ``/metrics``) and Jan (a desktop app that manages models in its window).
Sources: docs/model-apis.md §5.
"""

from __future__ import annotations

import re

from trayai.core.net.backends.base import Backend, as_int
from trayai.core.net.backends.records import Capabilities, ModelRecord, ModelState, ServerKind

_RUNNING = re.compile(r"^vllm:num_requests_running(?:\{[^}]*\})?\s+([0-9.eE+-]+)\s*$", re.M)


class VllmBackend(Backend):
    kind = ServerKind.VLLM
    caps = Capabilities(loaded_state=True, busy=True)

    async def models(self, listed: list[str] | None = None) -> list[ModelRecord]:
        data = self.checked(await self.http.get(f"{self.http.base}/models"), "/models")
        rows = data.get("data") if isinstance(data, dict) else None
        return [
            ModelRecord(str(r["id"]), ModelState.LOADED, context_loaded=as_int(r.get("max_model_len")))
            for r in (rows if isinstance(rows, list) else [])
            if isinstance(r, dict) and r.get("id") is not None and not r.get("parent")  # LoRAs have a parent
        ]

    async def loaded_names(self) -> list[str] | None:
        return [m.id for m in await self.models()]

    async def busy(self) -> bool | None:
        if not self.caps.busy:
            return None
        reply = await self.http.get("/metrics")
        if reply.absent or not reply.ok:
            self.caps = self.caps.without(busy=False)
            return None
        running = [float(v) for v in _RUNNING.findall(reply.text)]
        if not running:
            self.caps = self.caps.without(busy=False)
            return None
        return sum(running) > 0

    def no_load_hint(self) -> str:
        return "vLLM serves the one model it was started with: restart `vllm serve MODEL` to change it."


class JanBackend(Backend):
    kind = ServerKind.JAN

    def no_load_hint(self) -> str:
        return "Jan loads and unloads models in its own window (Settings ▸ Model Providers ▸ llama.cpp)."

    def no_pull_hint(self) -> str:
        return "Download models in Jan's Hub, then pick them in trayai."
