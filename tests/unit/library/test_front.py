"""The on-demand front over real sockets, with scripted HTTP servers as the engine children: routing
by ``model``, streams passed through as they come, cancel on disconnect, the guards, the errors."""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.scripted_server import Reply
from tests.support.waiting import until
from tests.unit.library.fakes import MB, FakeLauncher, library
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.library.front import FrontLimits, OnDemandFront, host_allowed
from trayai.core.library.pool import EnginePool, ModelStatus, PoolConfig

pytestmark = pytest.mark.anyio


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _request(method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> bytes:
    data = b"" if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    if body is not None and "Transfer-Encoding" not in (headers or {}):
        lines.append(f"Content-Length: {len(data)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


def _parse(raw: bytes) -> Answer:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":
        body = _unchunk(body)
    return Answer(int(lines[0].split(" ")[1]), headers, body)


def _unchunk(data: bytes) -> bytes:
    out = bytearray()
    while data:
        size_line, _, rest = data.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        out += rest[:size]
        data = rest[size + 2 :]
    return bytes(out)


async def _exchange(port: int, raw: bytes) -> Answer:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(raw)
    data = await reader.read()
    writer.close()
    return _parse(data)


@pytest.fixture
async def front(tmp_path: Path) -> AsyncIterator[OnDemandFront]:
    launcher = FakeLauncher(serve_http=True)
    pool = EnginePool(
        lambda: library(tmp_path, "a", "b"), launcher, PoolConfig(keep_alive=math.inf), need=lambda m: MB
    )
    server = OnDemandFront(pool, port=0)
    await server.start()
    yield server
    await server.stop()


def _launcher(front: OnDemandFront) -> FakeLauncher:
    launcher = front.pool.launcher
    assert isinstance(launcher, FakeLauncher)
    return launcher


CHAT = {"model": "b", "messages": [{"role": "user", "content": "hi"}]}


async def test_models_lists_the_library_with_each_state(front: OnDemandFront) -> None:
    listing = await _exchange(front.port, _request("GET", "/v1/models"))
    assert [(m["id"], m["state"], m["status"]["value"]) for m in listing.json()["data"]] == [
        ("a", "available", "unloaded"),
        ("b", "available", "unloaded"),
    ]
    assert (await _exchange(front.port, _request("POST", "/v1/chat/completions", CHAT))).status == 200
    listing = await _exchange(front.port, _request("GET", "/models"))
    assert [m["state"] for m in listing.json()["data"]] == ["available", "loaded"]
    health = await _exchange(front.port, _request("GET", "/health"))
    assert health.json() == {"status": "ok"}


async def test_a_request_reaches_the_child_of_the_model_it_names(front: OnDemandFront) -> None:
    answer = await _exchange(front.port, _request("POST", "/v1/chat/completions", CHAT))
    assert answer.status == 200
    assert answer.json()["model"] == "b"
    assert answer.json()["usage"]["completion_tokens"] > 0
    (child,) = _launcher(front).children
    assert child.model == "b" and child.scripted is not None
    assert child.scripted.requests[-1].json == CHAT


async def test_a_stream_passes_through_unchanged(front: OnDemandFront) -> None:
    await _exchange(front.port, _request("POST", "/v1/chat/completions", CHAT))  # loads b
    scripted = _launcher(front).children[0].scripted
    assert scripted is not None
    streamed = _request("POST", "/v1/chat/completions", {**CHAT, "stream": True})
    through = await _exchange(front.port, streamed)
    direct = await _exchange(scripted.port, streamed)
    assert through.headers["content-type"] == "text/event-stream"
    assert through.headers["transfer-encoding"] == "chunked"
    same = re.compile(rb'"id":"[^"]*"|"created":\d+')
    assert same.sub(b"", through.body) == same.sub(b"", direct.body)
    assert b"[DONE]" in through.body


async def test_a_stream_that_never_ends_arrives_event_by_event(front: OnDemandFront) -> None:
    await _exchange(front.port, _request("POST", "/v1/chat/completions", CHAT))
    scripted = _launcher(front).children[0].scripted
    assert scripted is not None
    scripted.script(Reply(hostile="steady", hostile_interval=0.01))
    reader, writer = await asyncio.open_connection("127.0.0.1", front.port)
    writer.write(_request("POST", "/v1/chat/completions", {**CHAT, "stream": True}))
    for _ in range(3):  # only an unbuffered relay hands on events of an endless stream
        assert b"data:" in await reader.readuntil(b"\n\n")
    writer.close()


async def test_a_client_that_goes_away_cancels_the_engine_request(front: OnDemandFront) -> None:
    await _exchange(front.port, _request("POST", "/v1/chat/completions", CHAT))
    scripted = _launcher(front).children[0].scripted
    assert scripted is not None
    scripted.script(Reply(hostile="steady", hostile_interval=0.01))
    reader, writer = await asyncio.open_connection("127.0.0.1", front.port)
    writer.write(_request("POST", "/v1/chat/completions", {**CHAT, "stream": True}))
    await reader.readuntil(b"data:")
    writer.close()
    await asyncio.to_thread(scripted.disconnected.wait, 10)
    assert scripted.disconnected.is_set()


async def test_a_client_that_goes_away_during_the_load_cancels_it(front: OnDemandFront) -> None:
    launcher = _launcher(front)
    launcher.hold = True
    _reader, writer = await asyncio.open_connection("127.0.0.1", front.port)
    writer.write(_request("POST", "/v1/chat/completions", CHAT))
    await until(lambda: launcher.children, what="the launch")
    assert front.pool.view("b").status is ModelStatus.LOADING
    writer.close()
    await until(lambda: front.pool.view("b").status is ModelStatus.AVAILABLE, what="the load cancelled")
    await until(lambda: launcher.running() == [], what="the child stopped")


async def test_only_loopback_host_names_are_answered(front: OnDemandFront) -> None:
    evil = await _exchange(
        front.port, _request("GET", "/v1/models", headers={"Host": "attacker.example:8080"})
    )
    assert evil.status == 403
    assert evil.json()["error"]["code"] == "forbidden_host"
    assert [host_allowed(h) for h in ("localhost:8080", "127.0.0.1", "[::1]:8080", None)] == [True] * 4
    assert [host_allowed(h) for h in ("127.0.0.1.nip.io", "[::2]:80", "example.com")] == [False] * 3


async def test_request_bodies_are_bounded(tmp_path: Path) -> None:
    pool = EnginePool(lambda: library(tmp_path, "a"), FakeLauncher(), need=lambda m: MB)
    front = OnDemandFront(pool, port=0, limits=FrontLimits(max_body=1000))
    await front.start()
    try:
        big = {"model": "a", "messages": [{"role": "user", "content": "x" * 2000}]}
        answer = await _exchange(front.port, _request("POST", "/v1/chat/completions", big))
        assert answer.status == 413
        assert answer.json()["error"]["code"] == "request_too_large"
        chunked = b"400\r\n" + b"x" * 1024 + b"\r\n0\r\n\r\n"
        answer = await _exchange(
            front.port,
            _request("POST", "/v1/chat/completions", chunked, headers={"Transfer-Encoding": "chunked"}),
        )
        assert answer.status == 413
        assert _launcher(front).children == []
    finally:
        await front.stop()


async def test_bad_requests_get_openai_shaped_errors(front: OnDemandFront) -> None:
    cases = [
        (_request("POST", "/v1/chat/completions", b"{not json"), 400, "invalid_request_error"),
        (_request("POST", "/v1/chat/completions", {"messages": []}), 400, "invalid_request_error"),
        (_request("POST", "/v1/chat/completions", {"model": "zzz"}), 404, "model_not_found"),
        (_request("GET", "/v1/nothing"), 404, "not_found"),
        (_request("GET", "/slots"), 400, "invalid_request_error"),
        (_request("POST", "/models", {"model": "qwen3"}), 501, "server_error"),  # no downloads here
    ]
    for raw, status, code in cases:
        answer = await _exchange(front.port, raw)
        assert (answer.status, answer.json()["error"]["code"]) == (status, code), raw
    assert _launcher(front).children == []


@pytest.mark.expect_log("trayai.core.library.pool", "could not load")
async def test_a_broken_model_file_is_answered_as_a_json_error(front: OnDemandFront) -> None:
    _launcher(front).refusals["b"] = make_error(
        ErrorCode.BUILTIN_MODEL_FILE, "b.gguf is not a GGUF model (it does not start with the GGUF signature)"
    )
    answer = await _exchange(front.port, _request("POST", "/v1/chat/completions", CHAT))
    assert answer.status == 500
    error = answer.json()["error"]
    assert error["code"] == "builtin_model_file"
    assert "not a GGUF model" in error["message"]
    assert error["type"] == "server_error"


async def test_it_speaks_the_llama_cpp_router_dialect(front: OnDemandFront) -> None:
    props = await _exchange(front.port, _request("GET", "/props"))
    assert props.json()["role"] == "router"
    loaded = await _exchange(front.port, _request("POST", "/models/load", {"model": "a"}))
    assert loaded.json() == {"success": True}
    await until(lambda: front.pool.view("a").status is ModelStatus.LOADED, what="a loaded")
    slots = await _exchange(front.port, _request("GET", "/props?model=b&autoload=false"))
    assert slots.status == 400  # b is not loaded and autoload=false must not load it
    assert _launcher(front).launched() == ["a"]
    unloaded = await _exchange(front.port, _request("POST", "/models/unload", {"model": "a"}))
    assert unloaded.json() == {"success": True}
    assert front.pool.view("a").status is ModelStatus.AVAILABLE


async def test_a_kept_alive_connection_serves_several_requests_and_expect_continue(
    front: OnDemandFront,
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", front.port)
    body = json.dumps(CHAT).encode()
    head = (
        "POST /v1/chat/completions HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    writer.write(head)
    assert await reader.readuntil(b"\r\n\r\n") == b"HTTP/1.1 100 Continue\r\n\r\n"
    writer.write(body)
    for _ in range(2):
        answer_head = await reader.readuntil(b"\r\n\r\n")
        assert answer_head.startswith(b"HTTP/1.1 200") and b"Connection: keep-alive" in answer_head
        length = int(answer_head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        assert json.loads(await reader.readexactly(length))["model"] == "b"
        writer.write(_request("POST", "/v1/chat/completions", CHAT).replace(b"Connection: close", b"X: y"))
    writer.close()
