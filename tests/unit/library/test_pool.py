"""EnginePool's logic with fake children: one load per model however many ask, idle unloads, the
memory budget with least-recently-used eviction, cancel during a load, failed loads."""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

import pytest

from tests.support.waiting import until
from tests.unit.library.fakes import MB, FakeLauncher, library
from trayai.core.embedded import LocalModel
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.library.pool import EnginePool, ModelStatus, PoolConfig, PoolEvent

pytestmark = pytest.mark.anyio

NEED = 200 * MB


def _pool(
    models: list[LocalModel], launcher: FakeLauncher, events: list[PoolEvent] | None = None, **config: object
) -> EnginePool:
    settings = PoolConfig(**{"keep_alive": math.inf, "memory_budget": 10 * NEED, **config})  # type: ignore[arg-type]
    return EnginePool(
        lambda: models,
        launcher,
        settings,
        need=lambda model: NEED,
        on_event=None if events is None else events.append,
    )


async def test_a_model_loads_on_first_use_and_stays(tmp_path: Path) -> None:
    launcher = FakeLauncher()
    events: list[PoolEvent] = []
    pool = _pool(library(tmp_path, "a", "b"), launcher, events)
    assert [v.status for v in pool.models()] == [ModelStatus.AVAILABLE] * 2
    async with pool.use("a") as child:
        assert pool.view("a").status is ModelStatus.LOADED
        assert pool.view("a").in_use == 1
        assert child.port == launcher.children[0].port
    async with pool.use("a"):
        pass
    assert launcher.launched() == ["a"]
    assert [v.status for v in pool.models()] == [ModelStatus.LOADED, ModelStatus.AVAILABLE]
    assert [e.text for e in events][:2] == ["loading a…", events[1].text]
    assert events[1].text.startswith("loaded a in ")
    await pool.close()
    assert launcher.running() == []


async def test_requests_during_a_load_wait_for_the_same_child(tmp_path: Path) -> None:
    launcher = FakeLauncher(hold=True)
    pool = _pool(library(tmp_path, "a"), launcher)
    ports: list[int] = []

    async def ask() -> None:
        async with pool.use("a") as child:
            ports.append(child.port)

    tasks = [asyncio.create_task(ask()) for _ in range(3)]
    await until(lambda: launcher.children, what="the launch")
    assert pool.view("a").status is ModelStatus.LOADING
    launcher.release()
    await asyncio.gather(*tasks)
    assert launcher.launched() == ["a"]
    assert len(set(ports)) == 1
    await pool.close()


async def test_an_idle_model_unloads_after_its_keep_alive(tmp_path: Path) -> None:
    launcher = FakeLauncher()
    events: list[PoolEvent] = []
    pool = _pool(
        library(tmp_path, "a", "b"), launcher, events, keep_alive=0.05, keep_alive_for={"b": math.inf}
    )
    for name in ("a", "b"):
        async with pool.use(name):
            assert pool.view(name).unloads_in is None  # never while a request holds it
    assert pool.view("a").unloads_in is not None
    await until(lambda: pool.view("a").status is ModelStatus.AVAILABLE, what="a's idle unload")
    await until(lambda: launcher.running() == ["b"], what="a's child stopped")
    assert pool.view("b").status is ModelStatus.LOADED  # its own keep-alive: never
    assert "unloaded a (idle 0.05 s)" in [e.text for e in events]
    await pool.close()


async def test_a_model_in_use_is_not_unloaded_when_its_keep_alive_passes(tmp_path: Path) -> None:
    launcher = FakeLauncher()
    pool = _pool(library(tmp_path, "a"), launcher, keep_alive=0.0)
    async with pool.use("a"):
        await asyncio.sleep(0)  # a loop turn for any timer due now
        assert pool.view("a").status is ModelStatus.LOADED
    await until(lambda: pool.view("a").status is ModelStatus.AVAILABLE, what="the unload after use")
    await pool.close()


async def test_the_least_recently_used_idle_model_makes_room(tmp_path: Path) -> None:
    launcher = FakeLauncher()
    events: list[PoolEvent] = []
    pool = _pool(library(tmp_path, "a", "b", "c"), launcher, events, memory_budget=2 * NEED + NEED // 2)
    for name in ("a", "b", "a", "c"):  # b is now the least recently used
        async with pool.use(name):
            pass
    assert sorted(pool.loaded()) == ["a", "c"]
    await until(lambda: launcher.running() == ["a", "c"], what="b's child stopped")
    assert "unloaded b to make room for c" in [e.text for e in events]
    await pool.close()


async def test_a_busy_model_is_never_evicted_and_the_pool_shrinks_once_one_is_free(tmp_path: Path) -> None:
    launcher = FakeLauncher()
    pool = _pool(library(tmp_path, "a", "b", "c"), launcher, memory_budget=NEED + NEED // 2)
    async with pool.use("a"):
        async with pool.use("b"):  # a is busy: both run for a while, over the budget
            assert sorted(pool.loaded()) == ["a", "b"]
        assert pool.loaded() == ["a"]  # b was let go first: the only idle one goes
        async with pool.use("c"):
            assert sorted(pool.loaded()) == ["a", "c"]
        assert pool.loaded() == ["a"]
    assert pool.loaded() == ["a"]  # within the budget again: a stays for its keep-alive
    assert launcher.launched() == ["a", "b", "c"]
    await pool.close()


async def test_the_default_budget_is_free_memory_plus_what_the_pool_holds_minus_a_margin(
    tmp_path: Path,
) -> None:
    launcher = FakeLauncher()
    machine = {"free": 3 * NEED}

    def free() -> int:  # a machine whose free memory drops by what each running child takes
        return machine["free"] - NEED * len(launcher.running())

    pool = EnginePool(
        lambda: library(tmp_path, "a", "b", "c"),
        launcher,
        PoolConfig(keep_alive=math.inf, memory_margin=NEED // 2),
        free_memory=free,
        need=lambda model: NEED,
    )
    assert pool.budget() == 3 * NEED - NEED // 2
    for name in ("a", "b", "c"):
        async with pool.use(name):
            pass
    assert sorted(pool.loaded()) == ["b", "c"]  # two fit in 2.5 needs, a was the oldest
    await pool.close()


async def test_the_last_waiter_going_away_cancels_the_load_and_stops_the_child(tmp_path: Path) -> None:
    launcher = FakeLauncher(hold=True)
    events: list[PoolEvent] = []
    pool = _pool(library(tmp_path, "a"), launcher, events)

    async def ask() -> None:
        async with pool.use("a"):
            pass

    first, second = asyncio.create_task(ask()), asyncio.create_task(ask())
    await until(lambda: launcher.children, what="the launch")
    first.cancel()
    await asyncio.gather(first, return_exceptions=True)
    assert pool.view("a").status is ModelStatus.LOADING  # someone still waits
    second.cancel()
    await asyncio.gather(second, return_exceptions=True)
    await until(lambda: pool.view("a").status is ModelStatus.AVAILABLE, what="the cancelled load")
    await until(lambda: launcher.running() == [], what="the child stopped")
    assert "cancelled loading a" in [e.text for e in events]
    launcher.hold = False
    async with pool.use("a"):  # a later request loads it anew
        pass
    assert launcher.launched() == ["a", "a"]
    await pool.close()


async def test_unloading_a_loading_model_answers_its_waiters_with_a_typed_error(tmp_path: Path) -> None:
    launcher = FakeLauncher(hold=True)
    pool = _pool(library(tmp_path, "a"), launcher)

    async def ask() -> None:
        async with pool.use("a"):
            pass

    waiter = asyncio.create_task(ask())
    await until(lambda: launcher.children, what="the launch")
    assert await pool.unload("a") is True
    with pytest.raises(TrayaiError) as caught:
        await waiter
    assert caught.value.code is ErrorCode.LOAD_CANCELLED
    assert launcher.running() == []
    assert await pool.unload("a") is False
    await pool.close()


@pytest.mark.expect_log("trayai.core.library.pool", "could not load")
async def test_a_failed_load_reaches_every_waiter_and_the_next_request_tries_again(tmp_path: Path) -> None:
    broken = make_error(ErrorCode.BUILTIN_FAILED, "The built-in server exited during start-up (exit code 3)")
    launcher = FakeLauncher(hold=True, failures={"a": broken})
    events: list[PoolEvent] = []
    pool = _pool(library(tmp_path, "a"), launcher, events)

    async def ask() -> None:
        async with pool.use("a"):
            pass

    tasks = [asyncio.create_task(ask()) for _ in range(2)]
    await until(lambda: launcher.children, what="the launch")
    launcher.release()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert results == [broken, broken]
    assert pool.view("a").status is ModelStatus.AVAILABLE
    assert events[-1].error is broken
    launcher.hold = False
    with pytest.raises(TrayaiError):
        async with pool.use("a"):
            pass
    assert launcher.launched() == ["a", "a"]
    await pool.close()


@pytest.mark.expect_log("trayai.core.library.pool", "could not load")
async def test_a_file_the_launcher_refuses_is_a_typed_error(tmp_path: Path) -> None:
    refused = make_error(ErrorCode.BUILTIN_MODEL_FILE, "x.gguf is not a GGUF model")
    pool = _pool(library(tmp_path, "x"), FakeLauncher(refusals={"x": refused}))
    with pytest.raises(TrayaiError) as caught:
        async with pool.use("x"):
            pass
    assert caught.value is refused
    assert pool.view("x").status is ModelStatus.AVAILABLE
    await pool.close()


async def test_an_unknown_name_is_model_missing_with_close_names(tmp_path: Path) -> None:
    pool = _pool(library(tmp_path, "qwen3-4b", "gemma3-1b"), FakeLauncher())
    with pytest.raises(TrayaiError) as caught:
        async with pool.use("qwen3-4"):
            pass
    assert caught.value.code is ErrorCode.MODEL_MISSING
    assert "did you mean 'qwen3-4b'" in caught.value.message
    with pytest.raises(TrayaiError):
        await pool.unload("nope")


async def test_a_child_that_exited_is_started_again_on_the_next_request(tmp_path: Path) -> None:
    launcher = FakeLauncher()
    pool = _pool(library(tmp_path, "a"), launcher)
    async with pool.use("a"):
        pass
    launcher.children[0].running = False  # crashed
    async with pool.use("a"):
        pass
    assert launcher.launched() == ["a", "a"]
    await pool.close()


async def test_close_stops_every_child_and_cancels_loads(tmp_path: Path) -> None:
    launcher = FakeLauncher()
    pool = _pool(library(tmp_path, "a", "b"), launcher)
    async with pool.use("a"):
        pass
    launcher.hold = True
    loading = asyncio.create_task(pool.load("b"))
    await until(lambda: len(launcher.children) == 2, what="b's launch")
    await pool.close()
    assert launcher.running() == []
    with pytest.raises(TrayaiError):
        await loading
    assert [v.status for v in pool.models()] == [ModelStatus.AVAILABLE] * 2
