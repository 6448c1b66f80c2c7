"""Benchmark the built-in engine (xllamacpp + SmolLM2): figures as JSON, ratios within one run.

    .venv/bin/python tests/perf/bench_engine.py

Ready time, time to first token, aggregate speed with 1/2/4 concurrent streams (ratio against one
stream), the engine's RSS idle and after a long answer, and decode speed at the default threads
(physical cores but one) vs every physical core — idle, and with one busy-looping process competing,
which is what a desktop looks like. Figures, not pass/fail: the machine is shared and noisy.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.ports import free_port
from trayai.core.embedded import EmbeddedServer
from trayai.core.net.client import Endpoint, GenerationOptions, ModelClient, StreamResult
from trayai.core.settings.config import BuiltinServerSettings

PROMPT = [{"role": "user", "content": "Write a long story about a lighthouse keeper and the sea."}]


async def one(client: ModelClient, max_tokens: int) -> StreamResult:
    stream = client.stream_chat(
        PROMPT,
        model="ai/smollm2",
        options=GenerationOptions(
            max_tokens=max_tokens, temperature=0.0, extra={"extra_body": {"ignore_eos": True}}
        ),
    )
    async with stream:
        async for _ in stream:
            pass
    assert stream.result is not None
    if stream.result.error is not None:
        raise stream.result.error
    return stream.result


async def measure(server: EmbeddedServer, *, sweep: bool) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    async with ModelClient(Endpoint.create(server.base_url, "none")) as client:
        await one(client, 8)  # warm-up
        singles = [await one(client, 128) for _ in range(3)]
        figures["ttft_ms_p50"] = round(statistics.median(r.ttft or 0 for r in singles) * 1000, 1)
        figures["decode_tok_s_p50"] = round(statistics.median(r.tokens_per_second or 0 for r in singles), 1)
        if not sweep:
            return figures
        aggregate: dict[str, float] = {}
        for streams in (1, 2, 4):
            started = time.perf_counter()
            results = await asyncio.gather(*(one(client, 96) for _ in range(streams)))
            wall = time.perf_counter() - started
            tokens = sum(r.usage.completion_tokens for r in results)
            aggregate[str(streams)] = round(tokens / wall, 1)
        figures["aggregate_tok_s"] = aggregate
        figures["aggregate_4_vs_1"] = round(aggregate["4"] / aggregate["1"], 2)
        await one(client, 512)
    return figures


def run_server(threads: int, *, sweep: bool, folder: Path) -> dict[str, Any]:
    settings = BuiltinServerSettings(port=free_port(), threads=threads, parallel=4, context_size=4096)
    server = EmbeddedServer(settings, folder / f"engine-{threads}.log")
    started = time.perf_counter()
    server.start()
    server.wait_ready()
    ready = time.perf_counter() - started
    assert server.pid is not None
    process = psutil.Process(server.pid)
    try:
        idle = process.memory_info().rss / 1e6
        figures = asyncio.run(measure(server, sweep=sweep))
        figures["threads"] = server.threads
        figures["ready_s"] = round(ready, 2)
        figures["rss_idle_mb"] = round(idle, 1)
        if sweep:
            figures["rss_after_long_answer_mb"] = round(process.memory_info().rss / 1e6, 1)
        return figures
    finally:
        server.stop()


def decode_only(threads: int, folder: Path) -> float:
    return float(run_server(threads, sweep=False, folder=folder)["decode_tok_s_p50"])


def main() -> None:
    import subprocess

    import psutil as ps

    all_cores = ps.cpu_count(logical=False) or ps.cpu_count() or 1
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        default = run_server(0, sweep=True, folder=folder)
        every_core = decode_only(all_cores, folder)
        hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
        try:
            loaded_default = decode_only(0, folder)
            loaded_every_core = decode_only(all_cores, folder)
        finally:
            hog.kill()
            hog.wait()
    report = {
        "engine": "xllamacpp (llama.cpp server), SmolLM2-135M Q4_1, 4 slots, unified KV 4096",
        "cpu": {"logical": ps.cpu_count(), "physical": all_cores},
        "default_threads": default,
        "decode_tok_s": {
            f"idle_{default['threads']}_threads": default["decode_tok_s_p50"],
            f"idle_{all_cores}_threads": every_core,
            f"one_busy_process_{default['threads']}_threads": loaded_default,
            f"one_busy_process_{all_cores}_threads": loaded_every_core,
        },
        "default_vs_every_core_idle": round(default["decode_tok_s_p50"] / every_core, 2)
        if every_core
        else None,
        "default_vs_every_core_loaded": round(loaded_default / loaded_every_core, 2)
        if loaded_every_core
        else None,
    }
    print(json.dumps({"bench_engine": report}, indent=2))


if __name__ == "__main__":
    main()
