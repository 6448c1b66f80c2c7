"""Hostile answers never freeze the chat window: a 1 MB line, a 5 MB code block, at full speed.

They stream from the scripted server over loopback through the real path (ModelClient → ChatController
→ ChatWindow/TranscriptView), while a 5 ms QTimer heartbeat on the Qt loop measures stalls (the gap
between two beats) and samples the process's RSS. Measured on main before the fix: the 1 MB line froze
the window for ~63 s and the 5 MB block stalled it up to 29 s (3.4 GB). ``tests/perf/bench_chat.py``
prints the same figures.

History saves on the UI thread are part of what is measured: checkpoints no longer re-index the
answer (an answer enters the search index once it stops streaming), so the last save, which indexes
the whole answer once, is the slowest (~70 ms at 5 MB). The view's own share is printed apart.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import psutil
import pytest
from PySide6.QtCore import Qt, QTimer
from pytestqt.qtbot import QtBot

from tests.support.history_writes import record_history_writes
from tests.support.hostile import huge_code_block, long_line, tokens_of
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.conftest import client_for
from trayai.core.chat.history import HistoryStore
from trayai.core.settings.config import GenerationParams
from trayai.ui.chat.controller import ChatController, ChatTarget, ReplyOutcome
from trayai.ui.chat.warmup import warm_up_chat
from trayai.ui.chat.window import ChatWindow
from trayai.ui.prompt.window import QuickPromptWindow

STALL_LIMIT_MS = 100
WALL_STALL_LIMIT_MS = 1000  # a freeze (63 s and 29 s before the fix) fails this on any machine
HISTORY_WRITE_LIMIT_MS = WALL_STALL_LIMIT_MS  # one save of the whole answer, wall clock
RSS_GROWTH_LIMIT_MB = 200
DEADLINE_S = 25  # within the run fixture's 30 s; measured: 1.2 s (1 MB) and 7 s (5 MB) on 2 busy cores


class Heartbeat:
    """Beats every 5 ms on the Qt loop; a long gap is a UI stall. Samples RSS every 20 beats."""

    def __init__(self) -> None:
        self.process = psutil.Process()
        self.beats: list[float] = []
        self.cpu: list[float] = []  # the UI thread's own CPU time at each beat
        self.peak_rss = 0
        self.timer = QTimer()
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(5)
        self.timer.timeout.connect(self._beat)

    def _beat(self) -> None:
        self.beats.append(time.perf_counter())
        self.cpu.append(time.thread_time())
        if len(self.beats) % 20 == 0:
            self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)

    def start(self) -> None:
        self.beats.clear()
        self.cpu.clear()
        self._beat()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()
        self._beat()
        self.peak_rss = max(self.peak_rss, self.process.memory_info().rss)

    def busy_gaps_ms(self) -> list[float]:
        """CPU time the UI thread spent between two beats: its own work, whatever else the machine
        runs (a wall-clock gap also counts time the scheduler gave to other processes)."""
        return [(b - a) * 1000 for a, b in zip(self.cpu, self.cpu[1:], strict=False)]

    def gaps_ms(self, excluding: Sequence[tuple[float, float]] = ()) -> list[float]:
        """Gaps between beats, less the time spent in the ``excluding`` spans within each gap."""
        gaps = []
        for a, b in zip(self.beats, self.beats[1:], strict=False):
            inside = sum(max(0.0, min(b, end) - max(a, start)) for start, end in excluding)
            gaps.append((b - a - inside) * 1000)
        return gaps


class Rig:
    """The chat window, or the quick prompt (the same TranscriptView, in a window that grows with it)."""

    def __init__(self, history: HistoryStore, base_url: str, qtbot: QtBot, surface: str) -> None:
        self.client = client_for(base_url, "dummy-key")
        self.history = history
        self.controller = ChatController(history, self.target)
        self.window: ChatWindow | QuickPromptWindow
        if surface == "chat":
            self.window = ChatWindow(self.controller, history)
            self.window.resize(1000, 720)
            self.window.show()
            self.view = self.window.transcript
        else:
            self.window = QuickPromptWindow(self.controller)
            assert self.window.summon()
            self.view = self.window.answer
        qtbot.addWidget(self.window)
        self.outcomes: list[ReplyOutcome] = []
        self.controller.finished.connect(self.outcomes.append)
        self.controller.failed.connect(self.outcomes.append)

    def target(self) -> ChatTarget:
        # No max_tokens: the server would cut the answer there (a hostile server would not).
        return ChatTarget(
            client=self.client,
            model="ai/smollm2",
            profile="default",
            generation=GenerationParams(max_tokens=None),
        )

    def record_history_writes(self) -> list[tuple[float, float]]:
        """(start, end) of every save of the answer, to tell history's time from the view's."""
        return record_history_writes(self.history)

    async def stream(self, text: str, server: ScriptedServer) -> tuple[ReplyOutcome, Heartbeat, float, int]:
        """Ask; the server answers ``text`` at full speed. Returns outcome, heartbeat, seconds, baseline RSS."""
        await warm_up_chat(self.client)  # as the app does when the window opens
        server.script(Reply(tokens=tokens_of(text)))
        gc.collect()
        probe = Heartbeat()
        baseline = probe.process.memory_info().rss
        probe.start()
        started = time.perf_counter()
        assert self.controller.send("answer something hostile")
        view = self.view
        # Until the answer is all on screen, footer included.
        await until(lambda: self.outcomes and not view.streaming, DEADLINE_S, "the answer painted", 0.02)
        elapsed = time.perf_counter() - started
        probe.stop()
        return self.outcomes[-1], probe, elapsed, baseline


@pytest.fixture(params=["chat", "quick prompt"])
def rig(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, request: pytest.FixtureRequest
) -> Iterator[Rig]:
    rig = Rig(history, server.base_url, qtbot, request.param)
    yield rig
    gc.unfreeze()  # warm_up_chat froze the heap, as in the app; the next tests get a normal collector


def check(
    rig: Rig,
    text: str,
    outcome: ReplyOutcome,
    probe: Heartbeat,
    elapsed: float,
    baseline: int,
    writes: list[tuple[float, float]],
    shown_parts: list[str],
) -> None:
    gaps = probe.gaps_ms(excluding=writes)
    # The limit applies to the UI thread's own work between beats, history writes included; the
    # wall-clock gaps (what a user sees) are printed and bounded loosely, as a shared CI machine may
    # not schedule the process at all for a while.
    stalls = [round(g) for g in probe.busy_gaps_ms() if g > STALL_LIMIT_MS]
    assert max(probe.gaps_ms()) < WALL_STALL_LIMIT_MS
    growth_mb = (probe.peak_rss - baseline) / 1e6
    write_ms = [(end - start) * 1000 for start, end in writes]
    print(
        f"\n{len(text)} chars in {elapsed:.1f} s; worst stall {max(gaps):.0f} ms without history writes, "
        f"{max(probe.gaps_ms()):.0f} ms with, {max(probe.busy_gaps_ms()):.0f} ms of UI-thread CPU; "
        f"{len(writes)} writes, slowest {max(write_ms):.0f} ms; "
        f"RSS growth {growth_mb:.0f} MB"
    )
    assert outcome.status == "done"
    assert stalls == [], f"UI stalls over {STALL_LIMIT_MS} ms: {stalls}"
    assert writes and max(write_ms) < HISTORY_WRITE_LIMIT_MS
    assert growth_mb <= RSS_GROWTH_LIMIT_MB
    # Nothing lost: stored, copyable and shown (the screen adds notes and line breaks, never drops text).
    assert outcome.message.content == text
    assert rig.history.message(outcome.message.id).content == text
    assert rig.view.message_text(outcome.message.id) == text
    shown = "".join(rig.view.toPlainText().split())
    for part in shown_parts:
        assert "".join(part.split()) in shown
    assert "tokens" in rig.view.toPlainText().splitlines()[-1]  # the footer came last


def test_a_1mb_line_without_a_newline_never_freezes_the_window(
    rig: Rig, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    text = long_line(1_000_000)
    writes = rig.record_history_writes()
    outcome, probe, elapsed, baseline = run(rig.stream(text, server))
    check(rig, text, outcome, probe, elapsed, baseline, writes, [text])


def test_a_5mb_code_block_never_freezes_the_window(
    rig: Rig, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    text = huge_code_block(5_000_000)
    code = text.split("```python\n", 1)[1].split("```", 1)[0]
    writes = rig.record_history_writes()
    outcome, probe, elapsed, baseline = run(rig.stream(text, server))
    check(rig, text, outcome, probe, elapsed, baseline, writes, ["Here is the file:", code, "That's all."])
    view = rig.view
    assert "without highlighting" in view.toPlainText()  # the small note says why it looks plain
    assert view.drawn.code_block(outcome.message.id, 0) == code  # Copy code copies all of it
