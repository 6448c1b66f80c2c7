"""The built-in server as a backend: the GGUF files of its models folder are its models; Load
switches the engine to one (it holds one model at a time), Unload stops it to free the memory.

The engine is owned by the tray process, so the control is passed in (``ui/local_server.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from trayai.core.embedded import RunState
from trayai.core.net.backends.base import Backend
from trayai.core.net.backends.http import ServerHttp
from trayai.core.net.backends.records import Capabilities, ModelRecord, ModelState, ServerKind


@dataclass(frozen=True)
class BuiltinControl:
    """What the adapter needs from whoever runs the engine."""

    available: Callable[[], list[tuple[str, int | None]]]  # (name, file size) for each GGUF it can serve
    served: Callable[[], str]  # the one it serves, or would on Start
    state: Callable[[], RunState]
    context: Callable[[], int]
    switch: Callable[[str], Awaitable[None]]  # serve this one (starts the engine if stopped)
    stop: Callable[[], Awaitable[None]]


_STATES = {
    RunState.RUNNING: ModelState.LOADED,
    RunState.STARTING: ModelState.LOADING,
    RunState.FAILED: ModelState.FAILED,
}


class BuiltinBackend(Backend):
    kind = ServerKind.BUILTIN
    caps = Capabilities(loaded_state=True, load=True, unload=True, busy=True)

    def __init__(self, http: ServerHttp, control: BuiltinControl) -> None:
        super().__init__(http)
        self.control = control

    async def models(self, listed: list[str] | None = None) -> list[ModelRecord]:
        served, state = self.control.served(), self.control.state()
        records = []
        for name, size in self.control.available():
            mine = name == served
            records.append(
                ModelRecord(
                    name,
                    _STATES.get(state, ModelState.AVAILABLE) if mine else ModelState.AVAILABLE,
                    size_bytes=size,
                    context_loaded=self.control.context() if mine and state is RunState.RUNNING else None,
                )
            )
        return records

    async def busy(self) -> bool | None:
        if self.control.state() is not RunState.RUNNING:
            return None
        slots = self.optional(await self.http.get("/slots"), "busy")
        if not isinstance(slots, list):
            return None
        return any(isinstance(s, dict) and s.get("is_processing") for s in slots)

    async def load(self, record: ModelRecord, keep_alive: float | None) -> None:
        await self.control.switch(record.id)

    async def unload(self, record: ModelRecord) -> None:
        if record.id == self.control.served():
            await self.control.stop()

    def no_pull_hint(self) -> str:
        return "Put a .gguf file into the models folder (`trayai serve --list` shows where); it appears here."
