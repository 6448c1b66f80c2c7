"""ToolHub: a server being stopped when the app quits (disabled in Tools ▸, then Quit at once) is still
stopped before ``close`` returns — a second cancellation never cuts its stop short and leaves the
stdio server running after trayai is gone."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.hostile_mcp import ARGV
from tests.support.tool_servers import ServerCount
from trayai.core.tools.config import ServerConfig, StdioLaunch, ToolsConfig
from trayai.core.tools.hub import ToolHub


def hostile(*, enabled: bool = True) -> ServerConfig:
    return ServerConfig("h", stdio=StdioLaunch(ARGV[0], tuple(ARGV[1:])), enabled=enabled)


@pytest.mark.anyio
async def test_quit_while_a_disabled_server_stops_still_stops_it() -> None:
    running_servers = ServerCount("hostile_mcp")  # this test's own (tests/support/tool_servers.py)
    hub = ToolHub(connect_timeout=10)
    hub.apply(ToolsConfig({"h": hostile()}))
    try:
        assert await hub.settled(15) and running_servers()
        hub.apply(ToolsConfig({"h": hostile(enabled=False)}))  # its supervisor starts stopping it
        await asyncio.sleep(0)  # one loop step, not a wait: the stop is under way, not done
    finally:
        await hub.close()  # Quit: the unwinding supervisor is cancelled a second time
    assert running_servers() == []
