"""Benchmark: what watching many servers costs (prints JSON; figures and ratios, not pass/fail).

* per_look — CPU time (this thread: the client's work, not the fake servers') of one look at a
  reachable server — state, kind, loaded models — against the baseline of a bare ``/v1/models``
  probe in the same run; and of one look at a server that is down. Target: < 2 ms per reachable one.
* tray_idle — CPU of the running tray watching 10 profiles (3 reachable, 7 down) against the same
  tray with one profile, over the same window. Target: < 0.2 % of one core.

Usage: ``python tests/perf/bench_fleet.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psutil

from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from trayai.core.fleet import look, quick_endpoint
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.resolve import ResolvedEndpoint
from trayai.core.settings.store import ConfigStore
from trayai.core.status import probe

DEAD = [f"http://127.0.0.1:{port}/v1" for port in (9, 19, 29, 39, 49, 59, 69)]  # nothing listens there


def fakes() -> list[FakeBackend]:
    return [
        FakeBackend(Kind.OLLAMA, [FakeModel("llama3.2:latest", loaded=True), FakeModel("qwen3:8b")]),
        FakeBackend(Kind.LLAMACPP_ROUTER, [FakeModel("llama3.2:latest", loaded=True), FakeModel("gemma3")]),
        FakeBackend(Kind.LMSTUDIO, [FakeModel("llama3.2:latest", loaded=True), FakeModel("qwen3:8b")]),
    ]


def resolved_for(name: str, url: str) -> ResolvedEndpoint:
    profile = Profile(name=name, base_url=url, model="llama3.2:latest")
    return quick_endpoint(ResolvedEndpoint(profile, Endpoint.create(url, "dummy-key"), profile.model))


async def cpu_per_look(urls: list[str], rounds: int, *, full: bool) -> float:
    """Milliseconds of this thread's CPU per server per look (kept-alive clients, warmed up)."""
    targets = [resolved_for(f"s{i}", url) for i, url in enumerate(urls)]
    clients = [ModelClient(t.endpoint) for t in targets]
    managers = [ModelManager(c) for c in clients]

    async def once() -> None:
        if full:
            await asyncio.gather(*(look(t, c, m) for t, c, m in zip(targets, clients, managers, strict=True)))
        else:
            await asyncio.gather(
                *(probe(c, t.model, busy=False) for t, c in zip(targets, clients, strict=True))
            )

    try:
        await once()  # fingerprints, connections and imports happen once
        await once()
        started = time.thread_time()
        for _ in range(rounds):
            await once()
        return 1000 * (time.thread_time() - started) / rounds / len(urls)
    finally:
        for client in clients:
            await client.aclose()


def tray_cpu(env: dict[str, str], paths: AppPaths, settings: Settings, window: float) -> dict[str, Any]:
    ConfigStore(paths).save(settings)
    log = paths.log_dir / "trayai.log"
    before = log.read_text() if log.exists() else ""
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayai.cli"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while "first poll:" not in (log.read_text()[len(before) :] if log.exists() else ""):
            if time.monotonic() > deadline:
                raise RuntimeError("the tray did not start")
            time.sleep(0.05)
        time.sleep(3.0)  # the first looks at every server (fingerprints) are done
        ps = psutil.Process(proc.pid)
        cpu0, wall0 = sum(ps.cpu_times()[:2]), time.monotonic()
        time.sleep(window)
        cpu, wall = sum(ps.cpu_times()[:2]) - cpu0, time.monotonic() - wall0
        return {"cpu_percent": round(100 * cpu / wall, 3), "window_s": round(wall, 1)}
    finally:
        subprocess.run([sys.executable, "-m", "trayai.cli", "quit"], env=env, timeout=30, check=False)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(15)
        if proc.poll() is None:
            proc.kill()


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer rounds, 10 s idle windows")
    args = parser.parse_args(argv)
    rounds, window = (10, 10.0) if args.quick else (40, 60.0)
    with contextlib.ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        servers = [stack.enter_context(fake) for fake in fakes()]
        urls = [fake.base_url for fake in servers]
        probe_ms = asyncio.run(cpu_per_look(urls, rounds, full=False))
        look_ms = asyncio.run(cpu_per_look(urls, rounds, full=True))
        down_ms = asyncio.run(cpu_per_look(DEAD, rounds, full=True))

        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        env["TRAYAI_CONFIG_DIR"], env["TRAYAI_DATA_DIR"] = f"{tmp}/config", f"{tmp}/data"
        for name in ("LOCAL_MODEL_BASE_URL", "LOCAL_MODEL_NAME", "LOCAL_API_KEY"):
            env.pop(name, None)
        paths = AppPaths.from_env(env)
        one = Settings()
        one.profiles = [Profile(name="ollama", base_url=urls[0], model="llama3.2:latest")]
        one.active_profile = "ollama"
        one.builtin_server.autostart = False
        ten = Settings()
        ten.profiles = [
            Profile(name=f"up{i}", base_url=u, model="llama3.2:latest") for i, u in enumerate(urls)
        ]
        ten.profiles += [Profile(name=f"down{i}", base_url=u) for i, u in enumerate(DEAD)]
        ten.active_profile = "up0"
        ten.builtin_server.autostart = False
        baseline = tray_cpu(env, paths, one, window)
        watching = tray_cpu(env, paths, ten, window)

    figures = {
        "benchmark": "fleet",
        "per_look": {
            "rounds": rounds,
            "reachable_cpu_ms": round(look_ms, 3),
            "baseline_probe_cpu_ms": round(probe_ms, 3),
            "ratio_look_vs_probe": round(look_ms / probe_ms, 2) if probe_ms else None,
            "down_cpu_ms": round(down_ms, 3),
            "target_reachable_cpu_ms": 2.0,
        },
        "tray_idle": {
            "one_profile": baseline,
            "ten_profiles_3_up_7_down": watching,
            "ratio_ten_vs_one": round(watching["cpu_percent"] / baseline["cpu_percent"], 2)
            if baseline["cpu_percent"]
            else None,
            "target_cpu_percent": 0.2,
        },
    }
    print(json.dumps(figures, indent=2))
    return figures


if __name__ == "__main__":
    main()
