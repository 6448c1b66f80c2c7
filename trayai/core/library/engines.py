"""One engine child for one library model on its own loopback port, as the pool starts and stops it.

The real launcher drives :class:`~trayai.core.embedded.EmbeddedServer` (the same child program, log,
readiness and no-orphan rules as the built-in server) with the model's own :class:`LoadPlan` (context,
threads, GPU layers, chat template); tests pass a fake :class:`Launcher`.
"""

from __future__ import annotations

import asyncio
import re
import socket
from dataclasses import replace
from pathlib import Path
from typing import Protocol

from trayai.core.embedded import EmbeddedServer, LocalModel, Progress
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import ConfigError, make_error
from trayai.core.library.model_settings import LoadPlan, TemplateKind, template_problem
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
    """Starts a child for ``model`` on ``port`` with ``plan`` (None: the launcher's own settings);
    raises a ``TrayaiError`` when it cannot."""

    def launch(self, model: LocalModel, port: int, plan: LoadPlan | None = None) -> EngineChild: ...


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


class PlannedServer(EmbeddedServer):
    """The engine child of one model with its plan's GPU layers and chat template on the command line
    (context and threads go through the settings, as for the built-in server)."""

    plan: LoadPlan | None = None

    def command(self, model_file: Path) -> list[str]:
        argv = super().command(model_file)
        plan = self.plan
        if plan is None:
            return argv
        if plan.gpu_layers is not None:
            argv += ["--gpu-layers", str(plan.gpu_layers)]
        if plan.template_kind is TemplateKind.NAME:
            argv += ["--chat-template", plan.template]
        elif plan.template_kind is TemplateKind.FILE:
            argv += ["--chat-template-file", str(Path(plan.template).expanduser())]
        return argv


class EmbeddedLauncher:
    """Engine children with the built-in server's settings (slots; context and threads unless the
    model's plan says), a port each.

    Each model logs to its own file in ``log_dir`` (``engine-NAME.log``), so a failed load quotes
    that model's words, not another's. Readiness is probed every :data:`READY_POLL` s (the tray's
    own start polls at 0.1 s): here a client waits on it, and a 0.6 s load would gain up to a sixth.
    """

    def __init__(self, settings: BuiltinServerSettings, log_dir: Path, *, python: str | None = None) -> None:
        self.settings = settings
        self.log_dir = log_dir
        self.python = python
        # One server object per model, reused across loads: each registers one atexit stop.
        self._servers: dict[str, PlannedServer] = {}

    def launch(self, model: LocalModel, port: int, plan: LoadPlan | None = None) -> EngineChild:
        # Never on_demand here: each child is an engine, whatever the front was started with.
        settings = replace(self.settings, port=port, model_file=str(model.path), on_demand=False)
        if plan is not None:
            _check_template(model, plan)
            settings = replace(settings, context_size=plan.context, threads=plan.threads)
        server = self._servers.get(model.name)
        if server is None or server.is_running():
            log = self.log_dir / f"engine-{_file_safe(model.name)}.log"
            server = PlannedServer(settings, log, alias=model.name, python=self.python)
            server.poll_interval = READY_POLL
            self._servers[model.name] = server
        server.settings = settings
        server.plan = plan
        server.start()
        return EmbeddedChild(server)


def _check_template(model: LocalModel, plan: LoadPlan) -> None:
    """A template file that went away since it was set fails the load in words, not in the engine's log."""
    problem = template_problem(plan.template) if plan.template_kind is TemplateKind.FILE else None
    if problem:
        raise make_error(
            ErrorCode.BUILTIN_FAILED,
            f"Cannot load {model.name}: {problem}",
            f"Choose another chat template: trayai library set {model.name} --template auto",
        ) from ConfigError(problem)


def _file_safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._") or "model"
