"""The Qt status monitor against the scripted server: every state, transitions, back-off, no overlap."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from tests.support.ports import free_port
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.conftest import client_for
from trayai.core.monitor import MonitorLogic, MonitorPolicy
from trayai.core.status import ServerState
from trayai.ui.monitor import StatusMonitor

FAST = MonitorPolicy(interval=0.05, max_backoff=0.4, notify_min_gap=0)


def make(url: str, model: str = "ai/smollm2", key: str = "dummy-key") -> StatusMonitor:
    return StatusMonitor(MonitorLogic(FAST), client_for(url, key), model)


async def next_state(monitor: StatusMonitor, wanted: ServerState, timeout: float = 5.0) -> list[Any]:
    """Collect shown states until ``wanted`` appears."""
    seen: list[Any] = []
    done = asyncio.get_running_loop().create_future()

    def on_state(state: object) -> None:
        seen.append(state)
        if state is wanted and not done.done():
            done.set_result(None)

    monitor.state_changed.connect(on_state)
    try:
        if monitor.state is not wanted:
            await asyncio.wait_for(done, timeout)
    finally:
        monitor.state_changed.disconnect(on_state)
    return seen


def shown(monitor: StatusMonitor) -> ServerState | None:
    """The state read afresh (mypy would keep an earlier assert's narrowing of ``monitor.state``)."""
    return monitor.state


def test_every_polled_state(server: ScriptedServer, run: Callable[..., Any]) -> None:
    async def go() -> None:
        monitor = make(server.base_url)
        monitor.start()
        await next_state(monitor, ServerState.READY)
        server.models = []
        await next_state(monitor, ServerState.NO_MODELS)
        server.models = ["ai/qwen3"]
        await next_state(monitor, ServerState.MODEL_MISSING)
        assert monitor.report is not None and monitor.report.models == ["ai/qwen3"]
        server.models = ["ai/smollm2"]
        server.api_key = "secret"
        await next_state(monitor, ServerState.AUTH_ERROR)
        server.api_key = None
        server.models_reply = Reply(status=500, repeat=True)
        await next_state(monitor, ServerState.ERROR)
        server.models_reply = None
        await next_state(monitor, ServerState.READY)
        await monitor.stop()

    run(go())


def test_unreachable_backs_off_and_recovers_with_a_notification(run: Callable[..., Any]) -> None:
    port = free_port()

    async def go() -> None:
        monitor = make(f"http://127.0.0.1:{port}/v1")
        notes: list[tuple[str, str]] = []
        monitor.notify.connect(lambda title, text: notes.append((title, text)))
        monitor.start()
        await next_state(monitor, ServerState.UNREACHABLE)
        await until(lambda: monitor.polls >= 4, what="4 polls")
        assert monitor.logic.next_delay() > FAST.interval  # backing off
        with ScriptedServer(port=port):
            await next_state(monitor, ServerState.READY, timeout=5)
        assert notes and notes[-1][0] == "Model ready"
        await monitor.stop()

    run(go())


def test_polls_never_overlap(server: ScriptedServer, run: Callable[..., Any]) -> None:
    server.models_reply = Reply(headers_delay=0.3, repeat=True)

    def model_requests() -> int:
        return len([r for r in server.requests if r.path == "/v1/models"])

    async def go() -> None:
        monitor = make(server.base_url)
        try:
            monitor.start()
            for _ in range(10):  # a user opening the menu repeatedly while a slow poll runs
                monitor.poll_now()
                await asyncio.sleep(0.01)  # a person's pace between clicks, not a wait on anything
            await asyncio.sleep(0.05)  # still inside the 0.3 s poll: what must not have started yet
            assert model_requests() == 1  # 0.15 s into a 0.3 s poll: no second one started
            await next_state(monitor, ServerState.READY)
        finally:
            await monitor.stop()

    run(go())
    # the burst of requests collapsed into at most one follow-up poll
    # (the first poll also fingerprints the server: /api/v1/models and the like are not polls)
    assert model_requests() <= 3


def test_switching_endpoint_repolls_at_once(server: ScriptedServer, run: Callable[..., Any]) -> None:
    async def go() -> None:
        monitor = make(f"http://127.0.0.1:{free_port()}/v1")
        monitor.start()
        await next_state(monitor, ServerState.UNREACHABLE)
        await monitor.set_endpoint(client_for(server.base_url, "k"), "ai/smollm2")
        await next_state(monitor, ServerState.READY, timeout=2)
        monitor.set_model("ai/missing")
        await next_state(monitor, ServerState.MODEL_MISSING, timeout=2)
        await monitor.stop()

    run(go())


def test_generating_and_starting_are_shown(server: ScriptedServer, run: Callable[..., Any]) -> None:
    async def go() -> None:
        monitor = make(server.base_url)
        monitor.start()
        await next_state(monitor, ServerState.READY)
        monitor.request_started()
        assert monitor.state is ServerState.GENERATING
        monitor.request_finished()
        assert shown(monitor) is ServerState.READY
        await monitor.stop()

    run(go())
