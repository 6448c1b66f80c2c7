"""Benchmark: what trayai's client path costs on top of a raw HTTP baseline (prints JSON).

Not a timed test: figures are ratios against a baseline measured in the same run on the same loop,
so a noisy machine shifts both. Measured against the scripted SSE server on loopback:

* ingest  — client-thread CPU per SSE event, trayai ``ModelClient.stream_chat`` vs the HTTP library
  under ``openai`` (httpx2) with ``aiter_lines`` + ``json.loads`` (target ratio ≤ 2);
* ttft    — time to first delta with a reused connection, trayai minus baseline (target < 10 ms);
* sustain — a stream paced at 3,000 events/s: achieved rate, client CPU share and end lag.

The server runs in threads of this process; ``time.thread_time`` counts only the client's thread.
Usage: ``python tests/perf/bench_client.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import httpx2

from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.net.client import Endpoint, ModelClient

MESSAGES = [{"role": "user", "content": "benchmark"}]


async def baseline_stream(http: httpx2.AsyncClient, url: str) -> tuple[int, float | None]:
    """The raw path: POST, iterate lines, parse each event's JSON, pick the delta text."""
    started = time.perf_counter()
    ttft = None
    count = 0
    body = {"model": "ai/smollm2", "messages": MESSAGES, "stream": True}
    async with http.stream(
        "POST", f"{url}/chat/completions", json=body, headers={"Authorization": "Bearer dummy-key"}
    ) as response:
        async for line in response.aiter_lines():
            if not line.startswith("data:"):
                continue
            payload = line[5:].strip()
            if payload == "[DONE]":
                break
            data = json.loads(payload)
            choices = data.get("choices") or []
            if choices and (choices[0].get("delta") or {}).get("content"):
                if ttft is None:
                    ttft = time.perf_counter() - started
                count += 1
    return count, ttft


async def trayai_stream(client: ModelClient) -> tuple[int, float | None]:
    count = 0
    async with client.stream_chat(MESSAGES, model="ai/smollm2") as stream:
        async for _ in stream:
            count += 1
    assert stream.result is not None
    return count, stream.result.ttft


async def measure_ingest(server: ScriptedServer, events: int, rounds: int) -> dict[str, Any]:
    server.set_default(Reply(n_tokens=events, include_usage=False))
    base: list[float] = []
    ours: list[float] = []
    async with (
        httpx2.AsyncClient(trust_env=False, timeout=60) as http,
        ModelClient(Endpoint.create(server.base_url, "dummy-key")) as client,
    ):
        await baseline_stream(http, server.base_url)  # warm both connections
        await trayai_stream(client)
        for _ in range(rounds):  # interleaved so drift hits both alike
            t0 = time.thread_time()
            n, _ = await baseline_stream(http, server.base_url)
            base.append((time.thread_time() - t0) / n * 1e6)
            t0 = time.thread_time()
            n, _ = await trayai_stream(client)
            ours.append((time.thread_time() - t0) / n * 1e6)
    b, o = statistics.median(base), statistics.median(ours)
    return {
        "events_per_stream": events,
        "rounds": rounds,
        "baseline_us_per_event": round(b, 2),
        "trayai_us_per_event": round(o, 2),
        "ratio": round(o / b, 2),
        "target_ratio": 2.0,
    }


async def measure_ttft(server: ScriptedServer, samples: int) -> dict[str, Any]:
    server.set_default(Reply(n_tokens=2, include_usage=False))
    base: list[float] = []
    ours: list[float] = []
    async with (
        httpx2.AsyncClient(trust_env=False, timeout=60) as http,
        ModelClient(Endpoint.create(server.base_url, "dummy-key")) as client,
    ):
        await baseline_stream(http, server.base_url)
        await trayai_stream(client)
        for _ in range(samples):
            _, t = await baseline_stream(http, server.base_url)
            base.append(t or 0.0)
            _, t = await trayai_stream(client)
            ours.append(t or 0.0)
    bp50, op50 = statistics.median(base) * 1000, statistics.median(ours) * 1000
    return {
        "samples": samples,
        "baseline_ms_p50": round(bp50, 3),
        "trayai_ms_p50": round(op50, 3),
        "added_ms_p50": round(op50 - bp50, 3),
        "trayai_ms_p95": round(sorted(ours)[int(0.95 * (len(ours) - 1))] * 1000, 3),
        "target_added_ms": 10.0,
    }


async def measure_sustained(server: ScriptedServer, rate: int, seconds: float) -> dict[str, Any]:
    events = int(rate * seconds)
    server.set_default(Reply(n_tokens=events, rate=rate, include_usage=False))
    async with ModelClient(Endpoint.create(server.base_url, "dummy-key")) as client:
        await client.list_models()
        cpu0, wall0 = time.thread_time(), time.perf_counter()
        count, _ = await trayai_stream(client)
        cpu, wall = time.thread_time() - cpu0, time.perf_counter() - wall0
    return {
        "target_events_per_s": rate,
        "events": count,
        "seconds": round(wall, 2),
        "achieved_events_per_s": round(count / wall, 1),
        "client_cpu_share": round(cpu / wall, 3),
        "end_lag_ms": round((wall - events / rate) * 1000, 1),
    }


async def main_async(quick: bool) -> dict[str, Any]:
    with ScriptedServer() as server:
        return {
            "benchmark": "client",
            "quick": quick,
            "ingest": await measure_ingest(server, 2000 if quick else 20000, 3 if quick else 5),
            "ttft": await measure_ttft(server, 15 if quick else 60),
            "sustained": await measure_sustained(server, 3000, 2.0 if quick else 20.0),
        }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="small sizes (for the test suite)")
    args = parser.parse_args(argv)
    figures = asyncio.run(main_async(args.quick))
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
