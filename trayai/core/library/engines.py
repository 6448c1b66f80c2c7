"""One engine child for one library model on its own loopback port, as the pool starts and stops it.

The real launcher drives :class:`~trayai.core.embedded.EmbeddedServer` (the same child program, log,
readiness and no-orphan rules as the built-in server); tests pass a fake :class:`Launcher`.
"""

from __future__ import annotations

import asyncio
import re
import socket
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from trayai.core.embedded import EmbeddedServer, LocalModel, Progress
from trayai.core.loopback import HOST
from trayai.core.settings.config import BuiltinServerSettings


class EngineChild(Protocol):
    """A started engine: where it listens, how to wait until it answers, how to end it."""

    @property
    def port(self) -> int: ...

    @property
    def pid(self) -> int | None: ...

    async def wait_ready(self, progress: Progress | None) -> float: ...

    def is_running(self) -> bool: ...

    async def stop(self) -> None: ...


class Launcher(Protocol):
    """Starts a child for ``model`` on ``port``; raises a ``TrayaiError`` when it cannot."""

    def launch(self, model: LocalModel, port: int) -> EngineChild: ...


def free_loopback_port() -> int:
    """A port nothing listens on now (the child binds it a moment later; a clash fails its start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class EmbeddedChild:
    """An :class:`EmbeddedServer` serving one model file on one port."""

    def __init__(self, server: EmbeddedServer) -> None:
        self.server = server

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def pid(self) -> int | None:
        return self.server.pid

    async def wait_ready(self, progress: Progress | None) -> float:
        return await self.server.wait_ready_async(progress)

    def is_running(self) -> bool:
        return self.server.is_running()

    async def stop(self) -> None:
        await asyncio.to_thread(self.server.stop)


READY_POLL = 0.025  # seconds between /health probes while a request waits for its model's load


class EmbeddedLauncher:
    """Engine children with the built-in server's settings (context, slots, threads), a port each.

    Each model logs to its own file in ``log_dir`` (``engine-NAME.log``), so a failed load quotes
    that model's words, not another's. Readiness is probed every :data:`READY_POLL` s (the tray's
    own start polls at 0.1 s): here a client waits on it, and a 0.6 s load would gain up to a sixth.
    """

    def __init__(self, settings: BuiltinServerSettings, log_dir: Path, *, python: str | None = None) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.python = python
        # One server object per model, reused across loads: each registers one atexit stop.
        self._servers: dict[str, EmbeddedServer] = {}

    def launch(self, model: LocalModel, port: int) -> EngineChild:
        settings = replace(self.settings, port=port, model_file=str(model.path))
        server = self._servers.get(model.name)
        if server is None or server.is_running():
            log = self.log_dir / f"engine-{_file_safe(model.name)}.log"
            server = EmbeddedServer(settings, log, alias=model.name, python=self.python)
            server.poll_interval = READY_POLL
            self._servers[model.name] = server
        server.settings = settings
        server.start()
        return EmbeddedChild(server)


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"
