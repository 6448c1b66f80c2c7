"""Benchmark: what trayai adds to an MCP tool call (prints JSON; figures and ratios, not pass/fail).

* round_trip — one ``tools/call`` of a real server (``mcp-server-time``'s ``get_current_time``)
  through trayai (``ToolHub.call`` → ``ServerConnection`` → our bounded stdio transport → the SDK's
  ``ClientSession``), against the same call through the SDK alone (its own ``stdio_client``), in the
  same run, alternating blocks so drift hits both. Target: ≤ 1.2× the SDK's median.
* rss — this process's memory with two stdio servers connected through the hub vs none, the
  modules loaded in both (the servers' own processes are not counted: they are not trayai's). The
  tray's own figure waits for the tray to host the hub.

Usage: ``python tests/perf/bench_tools.py [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import psutil
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from trayai.core.tools.config import ServerConfig, StdioLaunch, ToolsConfig
from trayai.core.tools.hub import ToolHub

SERVER = str(Path(sys.executable).parent / "mcp-server-time")
ARGS = {"timezone": "Europe/Paris"}


async def _timed(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    times = []
    for _ in range(count):
        started = time.perf_counter()
        await call()
        times.append(time.perf_counter() - started)
    return times


async def round_trip(blocks: int, per_block: int) -> dict[str, Any]:
    hub = ToolHub()
    hub.apply(ToolsConfig({"time": ServerConfig("time", stdio=StdioLaunch(SERVER))}))
    assert await hub.settled(60), hub.statuses()
    trayai_times: list[float] = []
    sdk_times: list[float] = []
    try:
        async with (
            stdio_client(StdioServerParameters(command=SERVER)) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            await session.list_tools()

            async def through_sdk() -> None:
                await session.call_tool("get_current_time", ARGS)

            async def through_trayai() -> None:
                await hub.call("time__get_current_time", ARGS)

            await _timed(through_sdk, 10)  # warm-up: imports, caches, both servers' first calls
            await _timed(through_trayai, 10)
            for _ in range(blocks):
                sdk_times += await _timed(through_sdk, per_block)
                trayai_times += await _timed(through_trayai, per_block)
    finally:
        await hub.close()
    sdk, ours = statistics.median(sdk_times), statistics.median(trayai_times)
    return {
        "calls_each": len(sdk_times),
        "sdk_median_ms": round(sdk * 1000, 3),
        "trayai_median_ms": round(ours * 1000, 3),
        "sdk_p95_ms": round(sorted(sdk_times)[int(len(sdk_times) * 0.95)] * 1000, 3),
        "trayai_p95_ms": round(sorted(trayai_times)[int(len(trayai_times) * 0.95)] * 1000, 3),
        "ratio": round(ours / sdk, 3),
        "target": "<= 1.2",
    }


async def rss_two_servers() -> dict[str, Any]:
    me = psutil.Process()
    gc.collect()
    before = me.memory_info().rss
    hub = ToolHub()
    config = {name: ServerConfig(name, stdio=StdioLaunch(SERVER)) for name in ("time_a", "time_b")}
    hub.apply(ToolsConfig(config))
    assert await hub.settled(60), hub.statuses()
    await hub.call("time_a__get_current_time", ARGS)
    await hub.call("time_b__get_current_time", ARGS)
    gc.collect()
    after = me.memory_info().rss
    await hub.close()
    return {
        "rss_none_mb": round(before / 2**20, 1),
        "rss_two_servers_mb": round(after / 2**20, 1),
        "added_mb": round((after - before) / 2**20, 1),
    }


async def main(quick: bool) -> None:
    rss = await rss_two_servers()  # first: "none" is this process with the modules loaded, nothing connected
    figures = {
        "round_trip": await round_trip(blocks=4 if quick else 10, per_block=25 if quick else 50),
        "rss": rss,
    }
    print(json.dumps({"bench_tools": figures}, indent=2))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="fewer calls (a smoke run)")
    asyncio.run(main(parser.parse_args().quick))
