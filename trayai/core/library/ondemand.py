"""The on-demand server as one thing to start and stop: the built-in server's settings and models
folder made into a pool and its loopback front (``trayai serve --on-demand`` today, the tray next).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from trayai.core.embedded import EmbeddedServer, local_extra_missing
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.library.engines import EmbeddedLauncher
from trayai.core.library.front import FrontLimits, OnDemandFront
from trayai.core.library.pool import DEFAULT_KEEP_ALIVE, DEFAULT_MARGIN, EnginePool, PoolConfig, PoolEvent
from trayai.core.settings.config import BuiltinServerSettings


@dataclass(frozen=True)
class OnDemandOptions:
    """What a user chooses about on-demand loading (seconds; bytes; None = free RAM minus margin)."""

    keep_alive: float = DEFAULT_KEEP_ALIVE
    keep_alive_for: Mapping[str, float] = field(default_factory=dict)
    memory_budget: int | None = None
    memory_margin: int = DEFAULT_MARGIN


def build_front(
    settings: BuiltinServerSettings,
    log_dir: Path,
    *,
    models_dir: Path | None = None,
    options: OnDemandOptions | None = None,
    on_event: Callable[[PoolEvent], None] | None = None,
    limits: FrontLimits | None = None,
) -> OnDemandFront:
    """A front on ``settings.port`` serving every model :meth:`EmbeddedServer.available_models`
    lists, each child with ``settings``' context, slots and threads. ``await front.start()`` binds;
    ``await front.stop()`` stops it and every child. BUILTIN_UNAVAILABLE without the engine."""
    missing = local_extra_missing()
    if missing:
        raise make_error(ErrorCode.BUILTIN_UNAVAILABLE, f"The built-in server is not installed: {missing}")
    chosen = options or OnDemandOptions()
    library = EmbeddedServer(settings, log_dir / "builtin-server.log", models_dir=models_dir)
    config = PoolConfig(
        keep_alive=math.inf if chosen.keep_alive < 0 else chosen.keep_alive,
        keep_alive_for=chosen.keep_alive_for,
        memory_budget=chosen.memory_budget,
        memory_margin=chosen.memory_margin,
        context_size=settings.context_size,
    )
    pool = EnginePool(
        library.available_models, EmbeddedLauncher(settings, log_dir), config, on_event=on_event
    )
    return OnDemandFront(pool, settings.port, limits)
