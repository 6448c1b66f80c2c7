"""Chat window benchmark: UI fluidity while streaming, Stop, render cost vs length, end lag, long chats.

Everything runs in one process on an offscreen QApplication driven by qasync, against the scripted
server on loopback, so the figures include real HTTP, SSE parsing, the controller, history writes and
QTextDocument layout. Ratios are against baselines measured in the same run (machines are noisy).
Prints JSON; these are figures, not pass/fail (tests/perf/test_bench_runs.py checks they are sane).

``hostile_answers``: a 1 MB line without a newline and a 5 MB fenced code block at full speed (on main
before the fix: ~63 s frozen, and stalls up to 29 s with 3.4 GB). The worst stall is given with and
without the time spent saving the answer (HistoryStore's FTS5 re-index, on the UI thread).

Usage: ``python tests/perf/bench_chat.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import psutil
import qasync
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication

from tests.support.appconfig import configure_for
from tests.support.history_writes import record_history_writes
from tests.support.hostile import huge_code_block, long_line
from tests.support.hostile import tokens_of as big_tokens_of
from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import StoredMessage
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.paths import AppPaths
from trayai.core.settings.config import GenerationParams
from trayai.ui.chat.controller import ChatController, ChatTarget, ReplyOutcome
from trayai.ui.chat.transcript import TranscriptView
from trayai.ui.chat.warmup import warm_up_chat
from trayai.ui.chat.window import ChatWindow
from trayai.ui.loop import adopt_loop

PROSE = (
    "The quick brown fox jumps over the lazy dog while the model explains **why** this matters, "
    "with `inline code`, a [link](https://example.org) and some more words to make a sentence. "
)
CODE = "\n".join(f"    result_{i} = compute(value_{i}, factor={i}) + offset  # step {i}" for i in range(12))


def markdown_reply(chars: int) -> str:
    """A realistic answer: paragraphs, lists and fenced Python blocks, about ``chars`` long."""
    parts: list[str] = []
    total = 0
    i = 0
    while total < chars:
        block = [
            PROSE * 2,
            f"- item {i} with `code`\n- another point\n",
            f"```python\ndef f_{i}():\n{CODE}\n```",
        ][i % 3]
        parts.append(block)
        total += len(block) + 2
        i += 1
    return "\n\n".join(parts)


def tokens_of(text: str) -> list[str]:
    return [text[i : i + 4] for i in range(0, len(text), 4)]


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


class Bench:
    def __init__(self, server: ScriptedServer, tmp: Path) -> None:
        self.server = server
        self.history = HistoryStore(tmp / "history.sqlite3")
        self.client = ModelClient(Endpoint.create(server.base_url, "dummy-key"))
        self.controller = ChatController(
            self.history,
            lambda: ChatTarget(
                client=self.client,
                model="ai/smollm2",
                profile="bench",
                generation=GenerationParams(max_tokens=None),
            ),
        )
        self.window = ChatWindow(self.controller, self.history)
        self.window.resize(1000, 720)
        self.window.show()
        self.outcomes: list[ReplyOutcome] = []
        self.last_delta = 0.0
        self.painted_at = 0.0
        self.controller.delta.connect(self._on_delta)
        self.controller.finished.connect(self._on_outcome)  # after the window's own slot
        self.controller.failed.connect(self._on_outcome)

    def _on_delta(self, _text: str) -> None:
        self.last_delta = time.perf_counter()

    def _on_outcome(self, outcome: ReplyOutcome) -> None:
        self.window.transcript.viewport().repaint()  # the final text is on screen after this
        self.painted_at = time.perf_counter()
        self.outcomes.append(outcome)

    async def ask(self, prompt: str, *, stop_after: float | None = None) -> tuple[ReplyOutcome, float | None]:
        wanted = len(self.outcomes) + 1
        self.controller.new_conversation()
        assert self.controller.send(prompt)
        stop_latency = None
        if stop_after is not None:
            await asyncio.sleep(stop_after)
            started = time.perf_counter()
            self.controller.stop()
            while len(self.outcomes) < wanted:
                await asyncio.sleep(0.001)
            stop_latency = time.perf_counter() - started
        while len(self.outcomes) < wanted:
            await asyncio.sleep(0.005)
        return self.outcomes[-1], stop_latency

    async def heartbeat(self, chars: int, rate: float, thinking_chars: int = 0) -> dict[str, Any]:
        """1 ms timer gaps on the Qt loop while ``rate`` tok/s stream into a ``chars``-long reply
        (after ``thinking_chars`` of a reasoning model's thinking, shown live, at the same rate)."""
        text = markdown_reply(chars)
        tokens = tokens_of(text)
        thinking = " ".join(f"step{i} considers the question" for i in range(thinking_chars // 32 + 1))
        self.server.script(Reply(tokens=tokens, rate=rate, reasoning=thinking if thinking_chars else None))
        beats: list[float] = []
        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(1)
        timer.timeout.connect(lambda: beats.append(time.perf_counter()))
        timer.start()
        flushes_before = self.window.transcript.flush_count
        started = time.perf_counter()
        outcome, _ = await self.ask("write a long answer with code")
        elapsed = time.perf_counter() - started
        timer.stop()
        gaps = [(b - a) * 1000 for a, b in itertools.pairwise(beats)]
        flushes = self.window.transcript.flush_count - flushes_before
        return {
            "reply_chars": len(outcome.message.content),
            "tokens": len(tokens),
            "rate_tok_s": rate,
            "stream_s": round(elapsed, 2),
            "flushes": flushes,
            "flushes_per_s": round(flushes / elapsed, 1),
            "gap_ms_p50": round(pct(gaps, 0.5), 2),
            "gap_ms_p99": round(pct(gaps, 0.99), 2),
            "gap_ms_max": round(max(gaps), 2),
            "gaps_over_50ms": sum(1 for g in gaps if g > 50),
            "target": "p99 < 16 ms, none > 50 ms",
        }

    async def stop_latency(self, runs: int) -> dict[str, Any]:
        latencies = []
        for _ in range(runs):
            self.server.script(Reply(n_tokens=100_000, rate=1000))
            outcome, latency = await self.ask("never ending", stop_after=0.5)
            assert outcome.status == "stopped" and latency is not None, (
                outcome.status,
                len(outcome.message.content),
                len(self.outcomes),
            )
            latencies.append(latency * 1000)
        return {
            "runs": runs,
            "ms_p50": round(statistics.median(latencies), 2),
            "ms_max": round(max(latencies), 2),
            "target_ms": 100,
        }

    async def end_lag(self, runs: int, n_tokens: int, rate: float) -> dict[str, Any]:
        """From the last delta ([DONE] follows it at once) to the final text painted."""
        text = markdown_reply(n_tokens * 4)
        tokens = tokens_of(text)[:n_tokens]
        lags = []
        for _ in range(runs):
            self.server.script(Reply(tokens=tokens, rate=rate))
            await self.ask("fast answer")
            lags.append((self.painted_at - self.last_delta) * 1000)
        return {
            "runs": runs,
            "tokens": n_tokens,
            "rate_tok_s": rate,
            "ms_p50": round(statistics.median(lags), 1),
            "ms_p95": round(pct(lags, 0.95), 1),
            "target_ms_p95": 100,
        }

    async def hostile(self, text: str) -> dict[str, Any]:
        """UI stalls and RSS while a hostile answer streams at full speed, until it is all painted."""
        self.server.script(Reply(tokens=big_tokens_of(text)))
        process = psutil.Process()
        gc.collect()
        baseline = peak = process.memory_info().rss
        writes = record_history_writes(self.history)
        beats: list[float] = []

        def beat() -> None:
            nonlocal peak
            beats.append(time.perf_counter())
            if len(beats) % 20 == 0:
                peak = max(peak, process.memory_info().rss)

        timer = QTimer()
        timer.setTimerType(Qt.TimerType.PreciseTimer)
        timer.setInterval(5)
        timer.timeout.connect(beat)
        beats.append(time.perf_counter())
        timer.start()
        started = time.perf_counter()
        wanted = len(self.outcomes) + 1
        self.controller.new_conversation()
        assert self.controller.send("answer something hostile")
        while len(self.outcomes) < wanted or self.window.transcript.streaming:
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - started
        timer.stop()
        beats.append(time.perf_counter())
        peak = max(peak, process.memory_info().rss)
        del self.history.update_message  # the instance wrapper goes; the method is back
        gaps, view_gaps = [], []
        for a, b in itertools.pairwise(beats):
            inside = sum(max(0.0, min(b, end) - max(a, start)) for start, end in writes)
            gaps.append((b - a) * 1000)
            view_gaps.append((b - a - inside) * 1000)
        outcome = self.outcomes[-1]
        return {
            "reply_chars": len(outcome.message.content),
            "intact": outcome.message.content == text,
            "stream_and_paint_s": round(elapsed, 2),
            "worst_stall_ms": round(max(gaps), 1),
            "stalls_over_100ms": sum(1 for g in gaps if g > 100),
            "worst_stall_ms_without_history_writes": round(max(view_gaps), 1),
            "history_writes": len(writes),
            "history_write_ms_max": round(max((e - s) * 1000 for s, e in writes), 1),
            "rss_baseline_mb": round(baseline / 1e6, 1),
            "rss_peak_mb": round(peak / 1e6, 1),
            "rss_growth_mb": round((peak - baseline) / 1e6, 1),
            "target": "no stall > 100 ms, RSS growth <= 200 MB",
        }

    def seed_long(self, messages: int, chars_each: int) -> int:
        conv = self.history.create_conversation(title="Long conversation")
        body = markdown_reply(chars_each)[:chars_each]
        for i in range(messages // 2):
            self.history.add_message(conv.id, "user", f"Question {i}: " + PROSE[: chars_each // 4])
            self.history.add_message(conv.id, "assistant", body, meta={"model": "ai/smollm2"})
        return conv.id

    def open_long(self, conversation_id: int, runs: int) -> dict[str, Any]:
        empty = self.history.create_conversation(title="empty").id
        total = sum(len(m.content) for m in self.history.messages(conversation_id))
        lazy = []
        for _ in range(runs):
            self.window.open_conversation(empty)
            started = time.perf_counter()
            self.window.open_conversation(conversation_id)
            self.window.repaint()
            lazy.append((time.perf_counter() - started) * 1000)
        # Baseline in the same run: render every message at once, as an eager window would.
        everything = self.history.messages(conversation_id)
        started = time.perf_counter()
        self.window.transcript.set_messages(everything, has_earlier=False)
        self.window.repaint()
        eager = (time.perf_counter() - started) * 1000
        return {
            "messages": len(everything),
            "conversation_chars": total,
            "first_paint_ms_p50": round(statistics.median(lazy), 1),
            "first_paint_ms_max": round(max(lazy), 1),
            "eager_render_all_ms": round(eager, 1),
            "ratio_eager_to_lazy": round(eager / statistics.median(lazy), 1),
            "target_ms": 300,
        }


def flush_cost(samples: int) -> dict[str, Any]:
    """Time per flush of a same-size delta when the answer is 2K vs 50K characters long."""
    view = TranscriptView()
    view.resize(900, 700)
    view.show()

    def measure(prefix_chars: int) -> float:
        view.clear_messages()
        view.begin_stream(StoredMessage(1, 1, 1, "assistant", "", "streaming", {"model": "m"}))
        view.add_delta(markdown_reply(prefix_chars)[:prefix_chars] + "\n\n")
        view.flush()
        words = (PROSE * 3).split(" ")
        times = []
        for i in range(samples):
            delta = " ".join(words[(i * 6) % 40 : (i * 6) % 40 + 6]) + " "
            if i % 25 == 24:
                delta += "\n\n"  # paragraphs end now and then, as in real answers
            view.add_delta(delta)
            started = time.perf_counter()
            view.flush()
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    small = measure(2_000)
    large = measure(50_000)
    view.close()
    return {
        "flush_ms_at_2k": round(small, 3),
        "flush_ms_at_50k": round(large, 3),
        "ratio": round(large / small, 2),
        "target_ratio": 2,
    }


def memory(server: ScriptedServer, tmp: Path) -> dict[str, Any]:
    """RSS of the real app (offscreen) before and after opening the chat window and one answer."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOCAL_")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        TRAYAI_CONFIG_DIR=str(tmp / "mem-config"),
        TRAYAI_DATA_DIR=str(tmp / "mem-data"),
    )
    paths = AppPaths.from_env(env)
    configure_for(paths, server)
    log = paths.log_dir / "trayai.log"

    def wait_log(text: str) -> None:
        deadline = time.monotonic() + 60
        while not (log.exists() and text in log.read_text()):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the app never logged {text!r}")
            time.sleep(0.05)

    proc = subprocess.Popen(
        [sys.executable, "-m", "trayai.cli"],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_log("startup: tray shown")
        time.sleep(2.0)  # first poll done
        ps = psutil.Process(proc.pid)
        before = ps.memory_info().rss
        subprocess.run([sys.executable, "-m", "trayai.cli", "chat"], env=env, timeout=30, check=True)
        wait_log("chat warm-up done")
        time.sleep(1.0)
        after = ps.memory_info().rss
    finally:
        subprocess.run([sys.executable, "-m", "trayai.cli", "quit"], env=env, timeout=30, check=False)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    return {
        "rss_before_chat_mb": round(before / 1e6, 1),
        "rss_after_chat_mb": round(after / 1e6, 1),
        "target_after_chat_mb": 150,
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="shorter replies and fewer runs")
    args = parser.parse_args(argv)
    quick = args.quick
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    adopt_loop(loop)
    figures: dict[str, Any] = {"benchmark": "chat"}
    with tempfile.TemporaryDirectory() as tmp, ScriptedServer() as server:
        bench = Bench(server, Path(tmp))
        started = time.perf_counter()
        loop.run_until_complete(warm_up_chat(bench.client))  # what the app does when the window opens
        figures["warm_up_s"] = round(time.perf_counter() - started, 2)
        figures["ui_heartbeat_while_streaming"] = loop.run_until_complete(
            bench.heartbeat(10_000 if quick else 30_000, 1000.0)
        )
        thinking = loop.run_until_complete(
            bench.heartbeat(10_000 if quick else 30_000, 1000.0, thinking_chars=10_000 if quick else 30_000)
        )
        plain_p99 = figures["ui_heartbeat_while_streaming"]["gap_ms_p99"]
        thinking["ratio_p99_vs_answer_only"] = (
            round(thinking["gap_ms_p99"] / plain_p99, 2) if plain_p99 else None
        )
        figures["ui_heartbeat_while_thinking_and_answering"] = thinking
        figures["stop_latency"] = loop.run_until_complete(bench.stop_latency(3 if quick else 8))
        figures["hostile_answers"] = {
            "line_1mb_no_newline": loop.run_until_complete(bench.hostile(long_line(1_000_000))),
            "code_block_5mb": loop.run_until_complete(bench.hostile(huge_code_block(5_000_000))),
        }
        figures["render_cost_vs_length"] = flush_cost(60 if quick else 200)
        figures["end_of_stream_lag"] = loop.run_until_complete(
            bench.end_lag(3 if quick else 6, 2000 if quick else 8000, 3000.0)
        )
        long_id = bench.seed_long(400, 5_000)
        figures["open_400_messages"] = bench.open_long(long_id, 3 if quick else 6)
        figures["memory"] = memory(server, Path(tmp))
        loop.run_until_complete(bench.client.aclose())
        bench.window.close()
        bench.history.close()
    loop.close()
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
