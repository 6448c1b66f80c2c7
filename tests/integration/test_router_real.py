"""Integration: trayai against a real llama.cpp router (``llama-server --models-dir``), issue 23.

The router serves two names for the bundled SmolLM2 (smol-a, smol-b) with ``--models-max 2``. Each
test drives the real ``trayai`` CLI in a child process, or the Qt-free poll the tray's status monitor
runs, and checks the result against what the router itself lists in ``GET /models`` (which neither
loads nor wakes a model, nor resets its idle timer). Every wait has a deadline and every failure shows
the router's log tail (tests/support/llama_router.py). The binary comes from
tests/support/llama_router_build.py's cache; tests/integration/conftest.py runs this file last.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.llama_router import CliRun, RealRouter, models_dir, run_cli
from tests.support.ports import free_port
from tests.support.waiting import until
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.store import ConfigStore
from trayai.core.status import StatusReport, probe

pytestmark = [pytest.mark.integration, pytest.mark.slow]

StartRouter = Callable[..., RealRouter]
POLL_EVERY = 0.5  # seconds between the monitor's polls here (the tray's own pace is slower)
CLI_TIMEOUT = 60.0  # a command that hangs into trayai's 300 s load deadline fails here instead


def use_router(paths: AppPaths, router: RealRouter, model: str = "smol-a", name: str = "Router") -> None:
    """trayai's settings: one active profile on the router, no built-in server."""
    settings = Settings()
    settings.profiles = [Profile(name=name, base_url=router.base_url, model=model)]
    settings.active_profile = name
    settings.builtin_server.autostart = False
    ConfigStore(paths).save(settings)


def why(run: CliRun, router: RealRouter) -> str:
    """A failure message: the command, its output, and the router's."""
    return f"{run}\nrouter lists: {router.states()}\n{router.tail()}"


async def monitor_poll(client: ModelClient, manager: ModelManager, model: str) -> StatusReport:
    """One status poll as the tray's StatusMonitor runs it (trayai/ui/monitor.py, ``_poll``), without Qt."""
    report = await probe(client, model, busy=False)
    if report.reachable or manager.fixed:
        report.with_snapshot(await manager.snapshot(report.listing))
    return report


class Poller:
    """The monitor's polls at a steady pace in the background, as the tray runs them while it watches."""

    def __init__(self, router: RealRouter, model: str = "smol-a") -> None:
        self.client = ModelClient(Endpoint.create(router.base_url, ""))
        self.manager = ModelManager(self.client)
        self.model = model
        self.polls = 0
        self.reports: list[StatusReport] = []

    async def once(self) -> StatusReport:
        report = await monitor_poll(self.client, self.manager, self.model)
        self.polls += 1
        self.reports.append(report)
        return report

    async def forever(self) -> None:
        while True:
            await self.once()
            await asyncio.sleep(POLL_EVERY)  # the tray's timer between polls, not a wait on anything

    async def aclose(self) -> None:
        await self.client.aclose()


# ---------------------------------------------------------------- item 1: never substitute a model


def test_ask_for_a_model_the_router_lacks_refuses_naming_its_models(
    start_router: StartRouter, paths: AppPaths
) -> None:
    router = start_router()
    use_router(paths, router)
    run = run_cli("ask", "--model", "gpt-4o", "--max-tokens", "4", "hi", timeout=CLI_TIMEOUT)
    assert run.code == 1, why(run, router)
    assert run.out.strip() == "", (
        f"an answer was printed for a model the router does not have\n{why(run, router)}"
    )
    assert "smol-a" in run.err and "smol-b" in run.err, (
        f"the refusal should name the router's models\n{why(run, router)}"
    )
    # refused before sending: nothing reached a model, so the router loaded none
    assert router.loaded() == [], why(run, router)


# ---------------------------------------------------------------- item 4: polls never load or wake


@pytest.mark.parametrize("unload_by", ["cli", "tray"])
def test_status_polls_after_unload_all_leave_every_model_unloaded(
    start_router: StartRouter, paths: AppPaths, unload_by: str
) -> None:
    """``cli``: `trayai unload --all`, then a tray's polls; ``tray``: Model ▸ Unload all as the tray
    runs it (the watching manager's ``unload_all``, then a poll at once, then on the timer)."""
    router = start_router()
    use_router(paths, router)
    router.load("smol-a")
    router.load("smol-b")
    if unload_by == "cli":
        run = run_cli("unload", "--all", timeout=CLI_TIMEOUT)
        assert run.code == 0, why(run, router)

    async def watch() -> int:
        poller = Poller(router)
        try:
            if unload_by == "tray":
                await poller.once()  # the tray has been watching: its manager knows the router
                unloaded = await poller.manager.unload_all()
                assert sorted(unloaded) == ["smol-a", "smol-b"], unloaded
            for _ in range(8):
                await poller.once()
                await asyncio.sleep(POLL_EVERY)  # the timer's pace, not synchronisation
            return poller.polls
        finally:
            await poller.aclose()

    polls = asyncio.run(watch())
    assert polls >= 8
    # the unloads may still be finishing; what must never happen is a model loaded (again) by a poll
    router.wait(
        lambda: router.loaded() == [],
        30.0,
        f"no model loaded after Unload all ({unload_by}) and {polls} polls",
    )


def test_a_watched_model_still_falls_asleep(start_router: StartRouter, paths: AppPaths) -> None:
    router = start_router(sleep_idle_seconds=3)
    use_router(paths, router)
    router.load("smol-a")

    async def watch() -> int:
        poller = Poller(router)
        polling = asyncio.ensure_future(poller.forever())
        try:
            await until(lambda: poller.polls >= 1, timeout=30, what="a first status poll")
            asleep = await until(
                lambda: router.states().get("smol-a") == "sleeping" or polling.done(),
                timeout=40,
                what="smol-a to fall asleep (3 s idle) while the monitor polls every 0.5 s",
                interval=0.1,
            )
            assert asleep and not polling.done(), polling.exception() if polling.done() else None
            return poller.polls
        except AssertionError as exc:
            raise AssertionError(
                f"{exc}\nrouter lists: {router.states()}; polls: {poller.polls}\n{router.tail()}"
            ) from None
        finally:
            polling.cancel()
            await asyncio.gather(polling, return_exceptions=True)
            await poller.aclose()

    polls = asyncio.run(watch())
    assert polls >= 4, f"only {polls} polls ran while waiting: the check proves nothing"

    # and a poll of the sleeping model leaves it asleep
    async def one_more() -> None:
        poller = Poller(router)
        try:
            await poller.once()
        finally:
            await poller.aclose()

    asyncio.run(one_more())
    assert router.states().get("smol-a") == "sleeping", router.tail()


# ---------------------------------------------------------------- item 5: load/unload tell the truth


def test_unload_all_returns_only_when_the_router_lists_none_loaded(
    start_router: StartRouter, paths: AppPaths
) -> None:
    router = start_router()
    use_router(paths, router)
    router.load("smol-a")
    router.load("smol-b")
    run = run_cli("unload", "--all", timeout=CLI_TIMEOUT)
    listed = router.states()  # at once: the command said it is done
    assert run.code == 0, why(run, router)
    assert "smol-a" in run.out + run.err and "smol-b" in run.out + run.err, why(run, router)
    assert not [m for m, s in listed.items() if s in ("loaded", "loading", "sleeping")], (
        f"`trayai unload --all` returned while the router listed {listed}\n{why(run, router)}"
    )


def test_load_of_a_sleeping_model_succeeds_promptly(start_router: StartRouter, paths: AppPaths) -> None:
    router = start_router(sleep_idle_seconds=2)
    use_router(paths, router)
    router.load("smol-a")
    router.wait_state("smol-a", "sleeping", timeout=40)
    started = time.monotonic()
    run = run_cli("load", "smol-a", timeout=CLI_TIMEOUT)
    took = time.monotonic() - started
    assert run.code == 0, f"`trayai load` of a sleeping model failed after {took:.1f} s\n{why(run, router)}"
    assert "smol-a" in run.out + run.err, why(run, router)
    assert router.states().get("smol-a") in ("loaded", "sleeping"), why(run, router)


def test_without_autoload_ask_hints_load_and_status_is_not_ready(
    start_router: StartRouter, paths: AppPaths
) -> None:
    router = start_router(autoload=False)
    use_router(paths, router, model="smol-b")
    run = run_cli("ask", "--max-tokens", "4", "hi", timeout=CLI_TIMEOUT)
    assert run.code != 0, why(run, router)
    assert "trayai load smol-b" in run.err, f"the hint should say how to load it\n{why(run, router)}"
    assert "reset unusual generation parameters" not in run.err, why(run, router)

    status = run_cli("status", "--json", "--quick", timeout=CLI_TIMEOUT)
    assert status.out.lstrip().startswith("{"), why(status, router)
    report = json.loads(status.out)
    assert report["status"]["state"] != "ready", (
        f"status calls an unloaded model ready\n{why(status, router)}"
    )
    text = run_cli("status", "--quick", timeout=CLI_TIMEOUT)
    state_line = next((line for line in text.out.splitlines() if line.startswith("State:")), "")
    assert state_line and not state_line.startswith("State: ready"), why(text, router)
    assert router.loaded() == [], "asking and checking must not load the model"


# ---------------------------------------------------------------- fallback and batch against the router


def _add_profile(name: str, url: str, *fallbacks: str) -> None:
    argv = ["profile", "add", name, "--base-url", url, "--model", "smol-a"]
    for fallback in fallbacks:
        argv += ["--fallback", fallback]
    run = run_cli(*argv, timeout=CLI_TIMEOUT)
    assert run.code == 0, str(run)


def test_a_dead_profile_falls_back_to_the_router_and_says_so(
    start_router: StartRouter, paths: AppPaths
) -> None:
    router = start_router()
    use_router(paths, router)
    dead = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    _add_profile("Dead", dead, "Router")
    run = run_cli("ask", "--profile", "Dead", "--max-tokens", "4", "Say hi.", timeout=CLI_TIMEOUT)
    assert run.code == 0, why(run, router)
    assert run.out.strip(), why(run, router)
    assert "fallback" in run.err and "Router" in run.err, (
        f"stderr should say the fallback answered\n{why(run, router)}"
    )
    assert router.loaded() == ["smol-a"], why(run, router)  # the router did answer


def test_the_router_answers_first_and_its_dead_fallback_goes_unmentioned(
    start_router: StartRouter, paths: AppPaths
) -> None:
    router = start_router()
    use_router(paths, router)
    _add_profile("Dead", f"http://127.0.0.1:{free_port()}/v1")
    set_run = run_cli("profile", "set", "Router", "--fallback", "Dead", timeout=CLI_TIMEOUT)
    assert set_run.code == 0, str(set_run)
    run = run_cli("ask", "--max-tokens", "4", "Say hi.", timeout=CLI_TIMEOUT)
    assert run.code == 0, why(run, router)
    assert run.out.strip(), why(run, router)
    assert "answered by fallback" not in run.err, why(run, router)


def test_batch_records_name_the_model_and_endpoint_that_answered(
    start_router: StartRouter, paths: AppPaths, tmp_path: Path
) -> None:
    router = start_router()
    use_router(paths, router)
    lines = [
        {"id": "a", "prompt": "Say hi.", "model": "smol-a"},
        {"id": "b", "prompt": "Say hello.", "model": "smol-b"},
        {"id": "c", "prompt": "Say yes."},  # the profile's model, smol-a
    ]
    given = tmp_path / "in.jsonl"
    given.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = run_cli("batch", str(given), "-o", str(out), "--max-tokens", "4", "--concurrency", "2", timeout=120)
    assert run.code == 0, why(run, router)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [r.get("id") for r in records] == ["a", "b", "c"], f"{records}\n{why(run, router)}"
    assert [r.get("model") for r in records] == ["smol-a", "smol-b", "smol-a"], (
        f"{records}\n{why(run, router)}"
    )
    for record in records:
        endpoint = str(record.get("endpoint"))
        assert "Router" in endpoint or f":{router.port}" in endpoint, f"{record}\n{why(run, router)}"
    assert router.loaded() == ["smol-a", "smol-b"], why(run, router)  # both really answered


def test_batch_through_a_fallback_names_the_router_not_the_dead_profile(
    start_router: StartRouter, paths: AppPaths, tmp_path: Path
) -> None:
    router = start_router()
    use_router(paths, router)
    dead_port = free_port()
    _add_profile("Dead", f"http://127.0.0.1:{dead_port}/v1", "Router")
    given = tmp_path / "in.jsonl"
    # four lines answered four at a time: the dead profile's failures meet while the first answers start
    given.write_text("".join(f'{{"id": "{n}", "prompt": "Say {n}."}}\n' for n in range(4)), encoding="utf-8")
    out = tmp_path / "out.jsonl"
    run = run_cli("batch", "--profile", "Dead", str(given), "-o", str(out), "--max-tokens", "4", timeout=120)
    assert run.code == 0, why(run, router)
    records = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [r.get("id") for r in records] == ["0", "1", "2", "3"], f"{records}\n{why(run, router)}"
    for record in records:
        endpoint = str(record.get("endpoint"))
        assert ("Router" in endpoint or f":{router.port}" in endpoint) and "Dead" not in endpoint, record
        assert str(dead_port) not in endpoint, record
        assert record.get("model") == "smol-a", record


# ---------------------------------------------------------------- the fixture's own diagnostics


def test_a_router_that_cannot_start_fails_at_once_with_its_output(
    llama_server_binary: Path, tmp_path: Path
) -> None:
    router = RealRouter(
        llama_server_binary,
        models_dir(tmp_path / "models"),
        tmp_path / "router.log",
        extra=["--no-such-flag"],
    )
    started = time.monotonic()
    with pytest.raises(AssertionError) as failed:
        router.start()
    assert time.monotonic() - started < 30  # the exit ended the wait, not the deadline
    assert "exited" in str(failed.value) and "no-such-flag" in str(failed.value)
    assert router.process is None  # stopped: nothing left behind
