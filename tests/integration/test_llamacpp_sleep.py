"""trayai watching a real llama.cpp server that sleeps when idle (issue 23 item 4).

Why: a look that posts a task (``/slots``) restarts the server's idle timer, so a tray polling every
few seconds kept ``--sleep-idle-seconds`` from ever firing. The fakes model that from llama.cpp's
source; here the real server (xllamacpp's build of it) decides.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from tests.support.sleepy_llama import sleepy_llama
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.backends.records import ModelState, ServerKind, ServerSnapshot
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.status import probe

IDLE_SECONDS = 2
POLL_SECONDS = 0.5  # the tray polls every 5 s; ten times as often makes the point sooner


async def watch_until_asleep(client: ModelClient, manager: ModelManager, seconds: float) -> ServerSnapshot:
    """Poll as ``ui/monitor.py`` does until the server says its model sleeps (or ``seconds`` pass)."""
    deadline = time.monotonic() + seconds
    while True:
        report = await probe(client, "sleepy", busy=False)
        snapshot = await manager.snapshot(report.listing)
        if snapshot.models and snapshot.models[0].state is ModelState.SLEEPING:
            return snapshot
        assert time.monotonic() < deadline, f"still awake after {seconds:g} s of watching: {snapshot}"
        await asyncio.sleep(POLL_SECONDS)


@pytest.mark.anyio
async def test_a_watched_llama_server_still_falls_asleep(tmp_path: Path) -> None:
    with sleepy_llama(IDLE_SECONDS, tmp_path / "server.log") as base_url:
        async with ModelClient(Endpoint(base_url, "dummy-key")) as client:
            manager = ModelManager(client)
            first = await manager.snapshot()
            assert first.error is None and first.kind is ServerKind.LLAMACPP
            assert first.busy is False  # the busy signal: /metrics, which does not keep it awake
            asleep = await watch_until_asleep(client, manager, 10 * IDLE_SECONDS)
            assert asleep.busy is False and asleep.error is None
            # The other side: /slots is a task — it wakes the model and, polled, keeps it awake.
            started = time.monotonic()
            while time.monotonic() - started < 2 * IDLE_SECONDS:
                assert (await manager.http.get("/slots")).ok
                await asyncio.sleep(POLL_SECONDS)
            awake = await manager.snapshot()
            assert [m.state for m in awake.models] == [ModelState.LOADED]
