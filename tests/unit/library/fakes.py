"""A fake engine launcher for the pool's and the front's unit tests: children that start at once
(or when a test opens their gate), fail on demand, and optionally serve a scripted HTTP server."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.scripted_server import ScriptedServer
from trayai.core.embedded import LocalModel
from trayai.core.errors import TrayaiError
from trayai.core.library.engines import EngineChild
from trayai.core.library.model_settings import LoadPlan

MB = 1_000_000


def library(tmp_path: Path, *names: str, size: int = 100 * MB) -> list[LocalModel]:
    """``names`` as library models: small real files, each announced as ``size`` bytes."""
    models = []
    for name in names:
        path = tmp_path / f"{name}.gguf"
        path.write_bytes(b"GGUF")
        models.append(LocalModel(name, path, size))
    return models


@dataclass
class FakeChild:
    """A child that is ready when its gate opens; ``scripted`` answers HTTP on its port."""

    model: str
    port: int
    gate: asyncio.Event
    failure: TrayaiError | None = None
    scripted: ScriptedServer | None = None
    running: bool = True
    stops: int = 0

    @property
    def pid(self) -> int | None:
        return 4242 if self.running else None

    async def wait_ready(self, progress: object) -> float:
        await self.gate.wait()
        if self.failure is not None:
            self.running = False
            raise self.failure
        return 0.0

    def is_running(self) -> bool:
        return self.running

    async def stop(self) -> None:
        self.stops += 1
        self.running = False
        if self.scripted is not None:
            await asyncio.to_thread(self.scripted.stop)


@dataclass
class FakeLauncher:
    """Records every launch; ``hold`` keeps new children loading until ``release``."""

    hold: bool = False
    failures: dict[str, TrayaiError] = field(default_factory=dict)
    refusals: dict[str, TrayaiError] = field(default_factory=dict)  # raised by launch() itself
    serve_http: bool = False
    children: list[FakeChild] = field(default_factory=list)
    gates: list[asyncio.Event] = field(default_factory=list)
    plans: list[LoadPlan | None] = field(default_factory=list)  # each launch's plan, in order

    def launch(self, model: LocalModel, port: int, plan: LoadPlan | None = None) -> EngineChild:
        self.plans.append(plan)
        if model.name in self.refusals:
            raise self.refusals[model.name]
        gate = asyncio.Event()
        if not self.hold:
            gate.set()
        self.gates.append(gate)
        scripted = ScriptedServer(models=[model.name], port=port).start() if self.serve_http else None
        child = FakeChild(model.name, port, gate, self.failures.get(model.name), scripted)
        self.children.append(child)
        return child

    def release(self) -> None:
        for gate in self.gates:
            gate.set()

    def launched(self) -> list[str]:
        return [c.model for c in self.children]

    def running(self) -> list[str]:
        return sorted(c.model for c in self.children if c.running)
