"""The on-demand server as one thing to start and stop: the built-in server's settings and models
folder made into a pool and its loopback front (``trayai serve --on-demand``, which the tray runs when
``builtin_server.on_demand`` is on). Each model's child starts with its own settings (context, threads,
GPU layers, chat template: core/library/model_settings.py), and the front adds the model's default
sampling to the requests that do not set it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from trayai.core.embedded import EmbeddedServer, local_extra_missing
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.library.engines import EmbeddedLauncher
from trayai.core.library.front import FrontLimits, OnDemandFront
from trayai.core.library.load_plans import ModelPlanner
from trayai.core.library.model_settings import Machine, probe_machine, sampling_defaults
from trayai.core.library.pool import DEFAULT_KEEP_ALIVE, DEFAULT_MARGIN, EnginePool, PoolConfig, PoolEvent
from trayai.core.settings.config import BuiltinServerSettings, ModelSettings


@dataclass(frozen=True)
class OnDemandOptions:
    """What a user chooses about on-demand loading (seconds; bytes; None = free RAM minus margin).

    ``context_size``/``threads`` (``serve --ctx-size/--threads`` for one run) take the place of "auto"
    for every model without its own value; None: auto, chosen per model for this machine.
    """

    keep_alive: float = DEFAULT_KEEP_ALIVE
    keep_alive_for: Mapping[str, float] = field(default_factory=dict)
    memory_budget: int | None = None
    memory_margin: int = DEFAULT_MARGIN
    context_size: int | None = None
    threads: int | None = None


def all_auto(name: str) -> ModelSettings:
    """No model has settings of its own (a front built without the settings file)."""
    return ModelSettings(name)


def build_front(
    settings: BuiltinServerSettings,
    log_dir: Path,
    *,
    models_dir: Path | None = None,
    options: OnDemandOptions | None = None,
    on_event: Callable[[PoolEvent], None] | None = None,
    limits: FrontLimits | None = None,
    model_settings: Callable[[str], ModelSettings] = all_auto,
    machine: Callable[[], Machine] = probe_machine,
) -> OnDemandFront:
    """A front on ``settings.port`` serving every model :meth:`EmbeddedServer.available_models`
    lists, each child with ``settings``' slots and the model's own settings (``model_settings``:
    each model's record now, e.g. :class:`~trayai.core.library.load_plans.LiveModelSettings`).
    ``await front.start()`` binds; ``await front.stop()`` stops it and every child.
    BUILTIN_UNAVAILABLE without the engine."""
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
        context_size=chosen.context_size or settings.context_size,
    )

    def entry(name: str) -> ModelSettings:
        own = model_settings(name)
        return dataclasses.replace(
            own,
            context_size=own.context_size or chosen.context_size,
            threads=own.threads or chosen.threads,
        )

    planner = ModelPlanner(entry, machine)
    pool = EnginePool(
        library.available_models,
        EmbeddedLauncher(settings, log_dir),
        config,
        plan=planner.plan,
        on_event=on_event,
    )
    return OnDemandFront(
        pool, settings.port, limits, sampling=lambda name: sampling_defaults(model_settings(name))
    )
