"""Looking at a server never loads, wakes or keeps awake a model: the tray's poll, the fleet's look,
``trayai models`` and ``trayai status --quick``, on every backend's fake over loopback HTTP.

Why (issue 23 item 4): a look that uses a model undoes the user. On a llama.cpp router the poll's
``/slots?model=…`` (routed without ``autoload=false``) loaded again what "Unload all" had just
unloaded, and every ``/slots`` is a task that restarts the idle timer, so ``--sleep-idle-seconds``
never fired while the tray watched. The fakes record each request that loads, wakes or restarts a
model's idle clock as a :class:`Touch`, as the real servers' sources say they do.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from tests.support.cli import cli
from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from tests.support.managed import KEY, fast_polls
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.backends.records import ModelState, ServerSnapshot
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.status import probe

pytestmark = pytest.mark.anyio

GEMMA, QWEN = "ggml-org/gemma-3-1b-it-GGUF:Q4_K_M", "unsloth/Qwen3-4B-GGUF:Q4_K_M"
LLAMA_KINDS = (Kind.LLAMACPP_ROUTER, Kind.LLAMACPP_SINGLE)

# Per server: a model in memory (the configured one), one on disk only, and for llama.cpp one asleep.
MODELS: dict[Kind, Callable[[], list[FakeModel]]] = {
    Kind.OLLAMA: lambda: [FakeModel("llama3.2:latest", loaded=True), FakeModel("qwen3:4b")],
    Kind.LLAMACPP_ROUTER: lambda: [
        FakeModel(GEMMA, loaded=True),
        FakeModel(QWEN),
        FakeModel("sleepy", loaded=True, sleeping=True),
    ],
    Kind.LLAMACPP_SINGLE: lambda: [FakeModel("gemma-3-1b-it", loaded=True)],
    Kind.LMSTUDIO: lambda: [FakeModel("qwen/qwen3-4b", loaded=True), FakeModel("google/gemma-3-1b")],
    Kind.LMSTUDIO_V0: lambda: [FakeModel("qwen/qwen3-4b", loaded=True), FakeModel("google/gemma-3-1b")],
    Kind.DMR: lambda: [FakeModel("ai/smollm2:latest", loaded=True), FakeModel("ai/qwen3:latest")],
    Kind.LOCALAI: lambda: [FakeModel("phi-2", loaded=True), FakeModel("qwen3-4b")],
    Kind.VLLM: lambda: [FakeModel("Qwen/Qwen2.5-0.5B-Instruct")],
    Kind.JAN: lambda: [FakeModel("llama3.2-1b-instruct", loaded=True)],
    Kind.GENERIC: lambda: [FakeModel("local-model", loaded=True)],
}


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_polls(monkeypatch)


def states(fake: FakeBackend) -> dict[str, tuple[bool, bool]]:
    with fake.lock:
        return {m.name: (m.loaded, m.sleeping) for m in fake.models.values()}


async def tray_polls(client: ModelClient, manager: ModelManager, model: str, polls: int) -> None:
    """What ``ui/monitor.py`` does on each tick: the status probe, then the model API's look."""
    for _ in range(polls):
        report = await probe(client, model, busy=False)
        if report.reachable:
            report.with_snapshot(await manager.snapshot(report.listing))


def routed_without_autoload_off(fake: FakeBackend) -> list[str]:
    """Router requests naming a model without ``autoload=false``: each may load it (proxy_get)."""
    if fake.kind is not Kind.LLAMACPP_ROUTER:
        return []
    return [r.path for r in fake.requests if "model=" in r.path and "autoload=false" not in r.path]


@pytest.mark.parametrize(
    ("kind", "sleeping"),
    [(kind, False) for kind in Kind] + [(Kind.LLAMACPP_SINGLE, True)],
    ids=[kind.value for kind in Kind] + ["llamacpp-single-asleep"],
)
def test_no_look_loads_wakes_or_keeps_a_model_awake(kind: Kind, sleeping: bool) -> None:
    models = MODELS[kind]()
    if sleeping:
        models[0].sleeping = True
    metrics = kind in LLAMA_KINDS  # with --metrics, so the busy probe really runs
    configured = models[0].name

    async def look(fake: FakeBackend) -> None:
        async with ModelClient(Endpoint(fake.base_url, KEY)) as client:
            manager = ModelManager(client)
            await tray_polls(client, manager, configured, polls=3)
            await manager.loaded_names()  # the fleet's look at another profile's server
            await probe(client, configured)  # the probe's own busy signal

    with FakeBackend(kind, models, busy=True, metrics=metrics) as fake:
        before = states(fake)
        asyncio.run(look(fake))
        code, _, err = cli("models", "--endpoint", fake.base_url, "--model", configured)
        assert code == 0, err
        cli("status", "--quick", "--endpoint", fake.base_url, "--model", configured)
        assert fake.touches == []
        assert states(fake) == before
        assert [r.path for r in fake.requests if r.method != "GET"] == []  # a look only reads
        assert routed_without_autoload_off(fake) == []


async def test_the_tray_does_not_undo_unload_all_on_a_router() -> None:
    """The router's children exit some time after ``/models/unload`` and are listed as before until
    then; a poll in that window that routes ``/slots?model=`` with autoload loads them again."""
    models = [FakeModel(GEMMA, loaded=True), FakeModel(QWEN, loaded=True)]
    with FakeBackend(Kind.LLAMACPP_ROUTER, models, busy=True, unload_seconds=0.3) as fake:
        async with ModelClient(Endpoint(fake.base_url, KEY)) as client:
            manager = ModelManager(client)
            assert sorted(await manager.unload_all()) == sorted([GEMMA, QWEN])
            await tray_polls(client, manager, GEMMA, polls=3)
            snapshot = await manager.snapshot()
        assert [m.state for m in snapshot.models] == [ModelState.AVAILABLE, ModelState.AVAILABLE]
        assert states(fake) == {GEMMA: (False, False), QWEN: (False, False)}
        assert fake.touches == []


async def watch(manager: ModelManager, done: Callable[[ServerSnapshot], bool], timeout: float) -> bool:
    """Poll like the tray (every 50 ms) until ``done`` holds for a look, or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done(await manager.snapshot()):
            return True
        await asyncio.sleep(0.05)  # the poll interval: the model's idle clock must run regardless
    return False


@pytest.mark.parametrize("kind", LLAMA_KINDS)
async def test_a_watched_model_still_falls_asleep(kind: Kind) -> None:
    """--sleep-idle-seconds fires while the tray watches: its polls are not tasks."""
    name = MODELS[kind]()[0].name
    with FakeBackend(kind, [FakeModel(name, loaded=True)], busy=True, sleep_idle_seconds=0.3) as fake:
        async with ModelClient(Endpoint(fake.base_url, KEY)) as client:
            manager = ModelManager(client)

            def asleep(snapshot: ServerSnapshot) -> bool:
                record = snapshot.find(name)
                return record is not None and record.state is ModelState.SLEEPING

            assert await watch(manager, asleep, timeout=5.0), f"{name} never fell asleep while watched"
        assert fake.touches == []


async def test_the_probes_busy_signal_is_the_model_apis_not_slots() -> None:
    """``probe()`` (busy by default) used to read ``/slots`` itself; now it takes the model API's
    look, whose llama.cpp busy signal is ``/metrics``."""
    with FakeBackend(Kind.LLAMACPP_SINGLE, [FakeModel("gemma")], busy=True, metrics=True) as fake:
        async with ModelClient(Endpoint(fake.base_url, KEY)) as client:
            report = await probe(client, "gemma")
        assert report.busy_slots == 1
        assert report.snapshot is not None and report.snapshot.busy is True
        assert fake.touches == [] and not any(r.path.startswith("/slots") for r in fake.requests)
