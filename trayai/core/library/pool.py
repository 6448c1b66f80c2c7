"""Which library models are loaded: one engine child each, started on demand, stopped when idle or
when another model needs the memory (least recently used first).

Everything runs on one event loop, so each decision (start, evict, time out) is one synchronous step:
a second request for a model that is loading waits for the same load, never starts another child.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field

from trayai.core.embedded import LocalModel
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.library.engines import EngineChild, Launcher, free_loopback_port
from trayai.core.library.model_settings import LoadPlan
from trayai.core.library.need import memory_need
from trayai.core.strenum import StrEnum
from trayai.core.suggest import did_you_mean

log = logging.getLogger(__name__)

DEFAULT_KEEP_ALIVE = 600.0  # seconds a model stays after its last request (the 10 min)
DEFAULT_MARGIN = 1 << 30  # bytes of free RAM the pool leaves to the desktop


class ModelStatus(StrEnum):
    """A library model's state in the pool (``/v1/models`` shows it as ``state``)."""

    AVAILABLE = "available"
    LOADING = "loading"
    LOADED = "loaded"


class Why(StrEnum):
    """Why a model was unloaded (said in the event and the log)."""

    IDLE = "idle"
    EVICTED = "evicted"
    ASKED = "asked"
    CLOSING = "closing"
    EXITED = "exited"


@dataclass(frozen=True)
class PoolConfig:
    """How long models stay and how many fit.

    ``keep_alive`` is seconds after the last request (``math.inf``: never, 0: at once);
    ``keep_alive_for`` overrides it per model name. ``memory_budget`` (bytes) caps what the loaded
    models may need together; None = free RAM (plus what the pool holds) minus ``memory_margin``.
    ``context_size`` sizes the KV estimate of each model's need when the pool has no planner (with one,
    each model's own context from its plan does).
    """

    keep_alive: float = DEFAULT_KEEP_ALIVE
    keep_alive_for: Mapping[str, float] = field(default_factory=dict)
    memory_budget: int | None = None
    memory_margin: int = DEFAULT_MARGIN
    context_size: int = 4096

    def keep_alive_of(self, name: str) -> float:
        return self.keep_alive_for.get(name, self.keep_alive)


@dataclass(frozen=True)
class PoolEvent:
    """One change the tray can say ("loading qwen3-4b…"): which model, its new status, the words."""

    model: str
    status: ModelStatus
    text: str
    error: TrayaiError | None = None


@dataclass(frozen=True)
class ModelView:
    """A library model as the front lists it and the tray shows it."""

    name: str
    size: int
    status: ModelStatus
    port: int | None = None
    pid: int | None = None
    need: int | None = None
    in_use: int = 0
    unloads_in: float | None = None  # seconds until the idle unload, when one is due


def default_free_memory() -> int:
    """Bytes of RAM the system could give now (``MemAvailable``: free plus reclaimable cache)."""
    # lazy: psutil is loaded only when used: start-up time and memory
    import psutil

    return int(psutil.virtual_memory().available)


@dataclass(eq=False)
class _Slot:
    """One model's life in the pool (created on first use, kept while the library lists it)."""

    model: LocalModel
    need: int
    plan: LoadPlan | None = None  # what its child starts with (made afresh before each load)
    status: ModelStatus = ModelStatus.AVAILABLE
    child: EngineChild | None = None
    ready: asyncio.Future[EngineChild] | None = None  # set while loading; every waiter awaits it
    loader: asyncio.Task[None] | None = None
    waiters: int = 0
    in_use: int = 0
    last_used: float = 0.0
    idle_timer: asyncio.TimerHandle | None = None
    idle_due: float | None = None

    @property
    def evictable(self) -> bool:
        return self.status is ModelStatus.LOADED and self.in_use == 0 and self.waiters == 0


class EnginePool:
    """Library models loaded on demand, one engine child each, on free loopback ports.

    ``library`` lists the models (``EmbeddedServer.available_models``); ``launcher`` starts a child;
    ``plan`` (blocking, run in a thread) makes each load's plan from the model's own settings — its
    context sizes the memory need; ``free_memory`` and ``clock`` are injectable for tests;
    ``on_event`` hears every change.
    Use :meth:`use` around each request (the model stays while a request holds it), :meth:`close`
    at the end (every child stopped).
    """

    def __init__(
        self,
        library: Callable[[], list[LocalModel]],
        launcher: Launcher,
        config: PoolConfig | None = None,
        *,
        free_memory: Callable[[], int] = default_free_memory,
        need: Callable[[LocalModel], int] | None = None,
        plan: Callable[[LocalModel], LoadPlan] | None = None,
        on_event: Callable[[PoolEvent], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.library = library
        self.launcher = launcher
        self.config = config or PoolConfig()
        self.free_memory = free_memory
        self._need = need or (lambda model: memory_need(model.path, self.config.context_size))
        self._plan = plan
        self.on_event = on_event
        self.clock = clock
        self.launches = 0  # children started so far (tests and the benchmark read it)
        self._slots: dict[str, _Slot] = {}
        self._stopping: set[asyncio.Task[None]] = set()
        self._closed = False

    # ------------------------------------------------------------------ what is there

    def models(self) -> list[ModelView]:
        """Every library model with its state (loaded and loading ones first known to the pool)."""
        views = []
        now = self.clock()
        for model in self.library():
            slot = self._slots.get(model.name)
            if slot is None or slot.model.path != model.path:
                views.append(ModelView(model.name, model.size, ModelStatus.AVAILABLE))
                continue
            views.append(self._view(slot, now))
        return views

    def view(self, name: str) -> ModelView:
        """One model's state; raises MODEL_MISSING for a name the library does not have."""
        slot = self._slots.get(name)
        if slot is not None:
            return self._view(slot, self.clock())
        model = self.find(name)
        return ModelView(model.name, model.size, ModelStatus.AVAILABLE)

    def find(self, name: str) -> LocalModel:
        """The library model called ``name``; MODEL_MISSING (with close names) when there is none."""
        models = self.library()
        for model in models:
            if model.name == name:
                return model
        names = [m.name for m in models]
        raise make_error(
            ErrorCode.MODEL_MISSING,
            f"The library has no model {name!r}{did_you_mean(name, names)}",
            f"Models here: {', '.join(names) or 'none'}.",
            suggestions=names,
        )

    def loaded(self) -> list[str]:
        return [s.model.name for s in self._slots.values() if s.status is ModelStatus.LOADED]

    def held(self) -> int:
        """Bytes the loaded and loading models need together (by estimate)."""
        return sum(s.need for s in self._slots.values() if s.status is not ModelStatus.AVAILABLE)

    def budget(self) -> int:
        """Bytes the pool may hold: the configured budget, or free RAM + what it holds − the margin."""
        if self.config.memory_budget is not None:
            return self.config.memory_budget
        return self.free_memory() + self.held() - self.config.memory_margin

    # ------------------------------------------------------------------ requests

    @contextlib.asynccontextmanager
    async def use(self, name: str) -> AsyncIterator[EngineChild]:
        """The running child of ``name`` for one request, loaded first if needed (cancellable).

        While held, the model is neither unloaded for idleness nor evicted.
        """
        slot = await self._acquire(name)
        try:
            assert slot.child is not None
            yield slot.child
        finally:
            self._release(slot)

    async def load(self, name: str) -> ModelView:
        """Load ``name`` now (``/models/load``, the tray's Load); its idle timer starts at once."""
        async with self.use(name):
            pass
        return self.view(name)

    async def unload(self, name: str) -> bool:
        """Stop ``name``'s child (a load in progress is cancelled); False when it was not loaded."""
        slot = self._slots.get(name)
        if slot is None or slot.status is ModelStatus.AVAILABLE:
            self.find(name)  # an unknown name is an error, a known idle one a no-op
            return False
        if slot.status is ModelStatus.LOADING:
            assert slot.loader is not None
            slot.loader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(slot.loader)
            return True
        await self._unload(slot, Why.ASKED)
        return True

    async def close(self) -> None:
        """Stop every child and cancel every load (the pool can be used again afterwards)."""
        self._closed = True
        for slot in list(self._slots.values()):
            if slot.loader is not None:
                slot.loader.cancel()
        loaders = [s.loader for s in self._slots.values() if s.loader is not None]
        await asyncio.gather(*loaders, return_exceptions=True)
        for slot in list(self._slots.values()):
            if slot.status is ModelStatus.LOADED:
                self._evict(slot, Why.CLOSING)
        await asyncio.gather(*self._stopping, return_exceptions=True)
        self._closed = False

    # ------------------------------------------------------------------ acquire and release

    async def _acquire(self, name: str) -> _Slot:
        if self._closed:
            raise make_error(ErrorCode.LOAD_CANCELLED, f"Not loading {name}: the server is stopping")
        slot = await self._slot(name)
        if slot.status is ModelStatus.LOADED and not self._alive(slot):
            self._evict(slot, Why.EXITED)
        if slot.status is ModelStatus.LOADED:
            self._take(slot)
            return slot
        if slot.status is ModelStatus.AVAILABLE:
            self._start_load(slot)
        assert slot.ready is not None
        ready = slot.ready
        slot.waiters += 1
        try:
            await asyncio.shield(ready)
        except asyncio.CancelledError:
            slot.waiters -= 1
            if slot.waiters == 0 and slot.loader is not None and not ready.done():
                slot.loader.cancel()  # the last one waiting went away: nobody needs this load
            raise
        except TrayaiError:
            slot.waiters -= 1
            raise
        slot.waiters -= 1
        if not self._alive(slot):  # unloaded between its load and this turn
            raise make_error(ErrorCode.LOAD_CANCELLED, f"{name} was unloaded as it finished loading")
        self._take(slot)
        return slot

    async def _slot(self, name: str) -> _Slot:
        """``name``'s slot, made on first use (its need read from the file in a thread: a big
        vocabulary takes a while to skip, and other answers are streaming meanwhile)."""
        slot = self._slots.get(name)
        if slot is not None and slot.status is not ModelStatus.AVAILABLE:
            return slot
        model = self.find(name)
        same_file = slot is not None and slot.model.path == model.path and slot.model.size == model.size
        if same_file and self._plan is None:
            assert slot is not None
            return slot
        plan, need = await asyncio.to_thread(self._plan_and_need, model)
        current = self._slots.get(name)  # another request may have made it meanwhile
        if current is not None and current is not slot:
            return current
        if slot is not None and same_file:  # the same model again: its plan afresh, its history kept
            slot.plan, slot.need = plan, need
            return slot
        fresh = _Slot(model, need, plan)
        self._slots[name] = fresh
        return fresh

    def _plan_and_need(self, model: LocalModel) -> tuple[LoadPlan | None, int]:
        """Blocking: the next load's plan (the model's settings as saved now) and its memory need."""
        if self._plan is None:
            return None, self._need(model)
        plan = self._plan(model)
        return plan, plan.need

    def _alive(self, slot: _Slot) -> bool:
        """Loaded, and its child still runs (status is read afresh: an await may have changed it)."""
        return slot.status is ModelStatus.LOADED and slot.child is not None and slot.child.is_running()

    def _take(self, slot: _Slot) -> None:
        slot.in_use += 1
        slot.last_used = self.clock()
        self._cancel_idle(slot)

    def _release(self, slot: _Slot) -> None:
        slot.in_use -= 1
        slot.last_used = self.clock()
        if slot.status is not ModelStatus.LOADED:
            return
        if slot.in_use == 0 and slot.waiters == 0:
            self._arm_idle(slot)
        self._fit_budget()

    # ------------------------------------------------------------------ loading

    def _start_load(self, slot: _Slot) -> None:
        victims = self._make_room(slot)
        slot.status = ModelStatus.LOADING
        slot.ready = asyncio.get_running_loop().create_future()
        slot.loader = asyncio.create_task(self._load(slot, victims), name=f"load {slot.model.name}")
        self._emit(slot, f"loading {slot.model.name}…")

    async def _load(self, slot: _Slot, victims: list[asyncio.Task[None]]) -> None:
        assert slot.ready is not None
        ready = slot.ready
        child: EngineChild | None = None
        started = time.monotonic()
        try:
            await asyncio.gather(*victims)  # their memory is free before this one takes it
            child = await asyncio.to_thread(self.launcher.launch, slot.model, free_loopback_port(), slot.plan)
            self.launches += 1
            slot.child = child
            await child.wait_ready(None)
        except asyncio.CancelledError:
            cancelled = make_error(ErrorCode.LOAD_CANCELLED, f"The load of {slot.model.name} was cancelled")
            self._abandon(slot, ready, cancelled, f"cancelled loading {slot.model.name}")
            await asyncio.shield(_stop(child))  # a second cancel must not leave the child running
            raise
        except TrayaiError as exc:
            log.warning("could not load %s: %s", slot.model.name, exc.message)
            self._abandon(slot, ready, exc, f"could not load {slot.model.name}: {exc.message}")
            await _stop(child)
            return
        slot.status = ModelStatus.LOADED
        slot.loader = None
        slot.last_used = self.clock()
        ready.set_result(child)
        self._emit(slot, f"loaded {slot.model.name} in {time.monotonic() - started:.1f} s")
        if slot.waiters == 0:
            self._arm_idle(slot)

    def _abandon(
        self, slot: _Slot, ready: asyncio.Future[EngineChild], error: TrayaiError, words: str
    ) -> None:
        """A load that ended without a child: available again, its waiters told ``error``."""
        slot.status, slot.child, slot.loader = ModelStatus.AVAILABLE, None, None
        ready.set_exception(error)
        ready.exception()  # retrieved: every waiter may have gone already
        self._emit(slot, words, None if error.code is ErrorCode.LOAD_CANCELLED else error)

    # ------------------------------------------------------------------ memory

    def _make_room(self, incoming: _Slot) -> list[asyncio.Task[None]]:
        """Evict idle models, least recently used first, until ``incoming`` fits (or none is idle).

        A model too large for the budget alone still loads once nothing else can go: the engine
        (and the kernel's page cache behind its mmap) is the judge of a single model.
        """
        budget = self.budget()
        stops = []
        while self.held() + incoming.need > budget:
            victim = self._least_recent(exclude=incoming)
            if victim is None:
                break
            stops.append(self._evict(victim, Why.EVICTED, f"to make room for {incoming.model.name}"))
        return stops

    def _fit_budget(self) -> None:
        """After busy models were let go: evict idle ones while the pool holds more than its budget."""
        while self.held() > self.budget():
            victim = self._least_recent(exclude=None)
            if victim is None or len(self.loaded()) <= 1:
                return
            self._evict(victim, Why.EVICTED, "over the memory budget")

    def _least_recent(self, exclude: _Slot | None) -> _Slot | None:
        idle = [s for s in self._slots.values() if s.evictable and s is not exclude]
        return min(idle, key=lambda s: s.last_used, default=None)

    # ------------------------------------------------------------------ unloading

    def _arm_idle(self, slot: _Slot) -> None:
        self._cancel_idle(slot)
        delay = self.config.keep_alive_of(slot.model.name)
        if math.isinf(delay):
            return
        slot.idle_due = self.clock() + max(0.0, delay)
        slot.idle_timer = asyncio.get_running_loop().call_later(max(0.0, delay), self._idle_over, slot)

    def _cancel_idle(self, slot: _Slot) -> None:
        if slot.idle_timer is not None:
            slot.idle_timer.cancel()
        slot.idle_timer, slot.idle_due = None, None

    def _idle_over(self, slot: _Slot) -> None:
        slot.idle_timer, slot.idle_due = None, None
        if slot.evictable:
            self._evict(slot, Why.IDLE)

    async def _unload(self, slot: _Slot, why: Why) -> None:
        if slot.status is ModelStatus.LOADED:
            await self._evict(slot, why)

    def _evict(self, slot: _Slot, why: Why, detail: str = "") -> asyncio.Task[None]:
        """Mark ``slot`` available at once and stop its child in the background (awaitable)."""
        self._cancel_idle(slot)
        child, slot.child = slot.child, None
        slot.status = ModelStatus.AVAILABLE
        name = slot.model.name
        words = {
            Why.IDLE: f"unloaded {slot.model.name} (idle {_duration(self.config.keep_alive_of(name))})",
            Why.EVICTED: f"unloaded {slot.model.name} {detail}".rstrip(),
            Why.ASKED: f"unloaded {slot.model.name}",
            Why.CLOSING: f"unloaded {slot.model.name} (stopping)",
            Why.EXITED: f"{slot.model.name}'s engine had exited",
        }[why]
        log.info("%s", words)
        self._emit(slot, words)
        stop = asyncio.create_task(_stop(child), name=f"stop {name}")
        self._stopping.add(stop)
        stop.add_done_callback(self._stopping.discard)
        return stop

    # ------------------------------------------------------------------ views and events

    def _view(self, slot: _Slot, now: float) -> ModelView:
        child = slot.child if slot.status is ModelStatus.LOADED else None
        return ModelView(
            slot.model.name,
            slot.model.size,
            slot.status,
            port=child.port if child is not None else None,
            pid=child.pid if child is not None else None,
            need=slot.need,
            in_use=slot.in_use,
            unloads_in=max(0.0, slot.idle_due - now) if slot.idle_due is not None else None,
        )

    def _emit(self, slot: _Slot, text: str, error: TrayaiError | None = None) -> None:
        if self.on_event is not None:
            self.on_event(PoolEvent(slot.model.name, slot.status, text, error))


async def _stop(child: EngineChild | None) -> None:
    if child is not None:
        await child.stop()


def _duration(seconds: float) -> str:
    if seconds >= 60:
        return f"{seconds / 60:g} min"
    return f"{seconds:g} s"
