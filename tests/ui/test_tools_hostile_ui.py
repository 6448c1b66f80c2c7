"""Hostile MCP servers (tests/support/hostile_mcp.py) talked to through the app's keeper while a 5 ms
heartbeat runs on the Qt loop: every case — hang, flood, crash, bad JSON-RPC, junk on stdout — ends its
call with a typed error in bounded time, memory stays bounded, and the window stays responsive (the
gaps between beats: p99 < 16 ms). Each case has a server of its own, so restarts do not interleave."""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import psutil
import pytest
from PySide6.QtCore import Qt, QTimer

from tests.support.hostile_mcp import ARGV
from tests.support.tool_servers import ServerCount
from tests.support.waiting import until
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.tools.hub import ToolServerState
from trayai.ui.tools_keeper import ToolsKeeper

Run = Callable[[Coroutine[Any, Any, Any]], Any]
CALL_TIMEOUT = 1.0  # seconds: the hang case's per-call timeout
CASES = {  # tool → the error its call ends with, the seconds it may take, and whether it is restarted
    "hang": (ErrorCode.TOOL_TIMEOUT, CALL_TIMEOUT + 2.0, True),  # the ping after the timeout goes unanswered
    "flood": (ErrorCode.TOOL_FLOOD, 10.0, True),
    "crash": (ErrorCode.TOOL_SERVER_EXITED, 5.0, True),
    "bad": (ErrorCode.TOOL_PROTOCOL, 5.0, False),  # one answer MCP does not allow: the connection is fine
    "junk": (ErrorCode.TOOL_PROTOCOL, 5.0, True),
}
P99_MS = 16.0
RSS_GROWTH_MB = 150  # the flood sends 64 MB; trayai stops reading at 16 MB


class Heartbeat:
    """Beats every 5 ms on the Qt loop (the window's own loop); a long gap is a stall."""

    def __init__(self) -> None:
        self.beats: list[float] = []
        self.peak_rss = 0
        self._process = psutil.Process()
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        self.beats.append(time.perf_counter())
        if len(self.beats) % 20 == 0:
            self.peak_rss = max(self.peak_rss, self._process.memory_info().rss)

    def __enter__(self) -> Heartbeat:
        self._beat()
        self.timer.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.timer.stop()
        self._beat()

    def p99_ms(self) -> float:
        gaps = sorted((b - a) * 1000 for a, b in zip(self.beats, self.beats[1:], strict=False))
        return gaps[min(len(gaps) - 1, int(len(gaps) * 0.99))]


@pytest.fixture
def keeper(paths: AppPaths, qloop: Any) -> Iterator[ToolsKeeper]:
    paths.ensure()
    server = {"command": ARGV[0], "args": ARGV[1:], "timeout": CALL_TIMEOUT}
    (paths.config_dir / "mcp.json").write_text(json.dumps({"mcpServers": dict.fromkeys(CASES, server)}))
    own = ServerCount("hostile_mcp")
    keeper = ToolsKeeper.at(paths, Redactor())
    yield keeper
    qloop.run_until_complete(keeper.close())
    # close() stops every server (test_tools_keeper proves it); one a failed assertion left half-way
    # must still not outlive the test run.
    for process in own():
        process.kill()


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_server_bounded_and_window_responsive(keeper: ToolsKeeper, run: Run, case: str) -> None:
    keeper.start()  # the hub's task starts with the loop running, as in the app
    run(until(lambda: all(s.state is ToolServerState.CONNECTED for s in keeper.statuses()), 20))
    hub = keeper.current_hub()
    assert hub is not None
    code, bound, restarted = CASES[case]
    baseline = psutil.Process().memory_info().rss

    async def call() -> TrayaiError:
        try:
            await hub.call(f"{case}__{case}", {"text": "x"})
        except TrayaiError as error:
            return error
        raise AssertionError(f"{case}: the call did not fail")

    with Heartbeat() as beat:
        started = time.monotonic()
        error = run(call())
        seconds = time.monotonic() - started
        # the window keeps beating through the restart: the other servers untouched, this one back
        index = list(CASES).index(case)

        def back() -> bool:
            status = keeper.statuses()[index]
            return status.state is ToolServerState.CONNECTED and status.restarts >= int(restarted)

        run(until(back, 15, "the server connected again"))
    assert error.code is code, error.message
    assert seconds < bound, f"{case}: {seconds:.1f} s"
    assert (beat.peak_rss - baseline) / 2**20 < RSS_GROWTH_MB
    p99 = beat.p99_ms()
    print(f"{case}: {error.code} in {seconds:.2f} s; heartbeat p99 {p99:.1f} ms over {len(beat.beats)} beats")
    print(
        f"  median gap {statistics.median(b - a for a, b in zip(beat.beats, beat.beats[1:], strict=False)) * 1000:.1f} ms"
    )
    assert p99 < P99_MS, f"{case}: heartbeat p99 {p99:.1f} ms"
    assert all(s.state is ToolServerState.CONNECTED for s in keeper.statuses())
