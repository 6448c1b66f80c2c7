"""The real ``mcp-server-fetch`` (PyPI, in the test extras) run by the app's keeper, fetching a page
served on loopback: the tool the model would call, its Markdown result, through the hub."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from tests.support.loopback_server import LoopbackHTTPServer, LoopbackServer
from tests.support.waiting import until
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.tools.hub import ToolServerState
from trayai.ui.tools_keeper import ToolsKeeper

Run = Callable[[Coroutine[Any, Any, Any]], Any]
FETCH = Path(sys.executable).parent / "mcp-server-fetch"
PAGE = b"<html><head><title>Tray notes</title></head><body><h1>Loopback page</h1><p>The kettle is on.</p></body></html>"


class _Page(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = PAGE if self.path == "/notes" else b"not here"
        self.send_response(200 if self.path == "/notes" else 404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


class _PageServer(LoopbackServer):
    def __init__(self) -> None:
        super().__init__("loopback page server")

    def make_server(self, address: tuple[str, int]) -> LoopbackHTTPServer:
        return LoopbackHTTPServer(address, _Page, self)


@pytest.fixture
def page() -> Iterator[str]:
    with _PageServer() as server:
        yield f"http://127.0.0.1:{server.port}/notes"


def test_fetch_server_reads_a_loopback_page(paths: AppPaths, qloop: Any, run: Run, page: str) -> None:
    paths.ensure()
    entry = {
        "command": str(FETCH),
        "args": ["--ignore-robots-txt", "--allow-private-ips"],
        "env": {"NO_PROXY": "127.0.0.1"},
    }
    (paths.config_dir / "mcp.json").write_text(json.dumps({"mcpServers": {"fetch": entry}}))
    keeper = ToolsKeeper.at(paths, Redactor())
    try:
        keeper.start()
        run(until(lambda: [s.state for s in keeper.statuses()] == [ToolServerState.CONNECTED], 30))
        hub = keeper.current_hub()
        assert hub is not None
        assert hub.lookup("fetch__fetch") is not None
        result = run(hub.call("fetch__fetch", {"url": page}))
        assert not result.is_error, result.text
        assert "Loopback page" in result.text and "The kettle is on." in result.text
        assert "<h1>" not in result.text  # simplified to Markdown by the server
    finally:
        run(keeper.close())
