"""A deliberately misbehaving server: every surface ends in bounded time and memory, nothing lost.

Each case asserts both the time taken and the memory used (in-process: RSS growth; the CLI: the
child's own peak RSS), against trickling bytes, compression bombs, huge events, endless answers and
cross-origin redirects.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.net import stream_events
from trayai.core.net.client import Endpoint, GenerationOptions, ModelClient, StreamResult
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.store import ConfigStore

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture(autouse=True)
async def warm(server: ScriptedServer, anyio_backend: str) -> None:
    """One ordinary answer first: the SDK's import and first use (~40 MB) is not what is measured."""
    async with client_for(server) as client:
        stream = client.stream_chat(MESSAGES, model="ai/smollm2")
        async with stream:
            async for _ in stream:
                pass
    server.requests.clear()


MB = 1_000_000


def rss() -> int:
    return int(psutil.Process().memory_info().rss)


def client_for(server: ScriptedServer, **timeouts: float) -> ModelClient:
    return ModelClient(Endpoint.create(server.base_url, "dummy-key", **timeouts))


async def stream_until_error(
    client: ModelClient, options: GenerationOptions | None = None
) -> tuple[TrayaiError, StreamResult]:
    stream = client.stream_chat(MESSAGES, model="ai/smollm2", options=options)
    with pytest.raises(TrayaiError) as info:
        async with stream:
            async for _ in stream:
                pass
    assert stream.result is not None
    return info.value, stream.result


@contextlib.contextmanager
def bounded(*, seconds: float, megabytes: int) -> Iterator[None]:
    """Assert the block took < ``seconds`` and grew RSS < ``megabytes``."""
    before, started = rss(), time.monotonic()
    yield
    took, grew = time.monotonic() - started, (rss() - before) / MB
    assert took < seconds, f"took {took:.1f} s"
    assert grew < megabytes, f"RSS grew {grew:.0f} MB"


# --------------------------------------------------------------------------- the client


@pytest.mark.anyio
async def test_a_trickle_before_any_token_hits_the_first_token_deadline(server: ScriptedServer) -> None:
    server.script(Reply(hostile="trickle", hostile_interval=0.05))

    with bounded(seconds=4, megabytes=30):
        async with client_for(server, first_token_timeout=1.0) as client:
            error, result = await stream_until_error(client)
    assert error.code is ErrorCode.FIRST_TOKEN_TIMEOUT and result.text == ""


@pytest.mark.anyio
async def test_a_trickle_after_a_token_hits_the_stall_deadline(server: ScriptedServer) -> None:
    server.script(Reply(hostile="trickle_after_token", hostile_interval=0.05))

    with bounded(seconds=4, megabytes=30):
        async with client_for(server, stall_timeout=1.0) as client:
            error, result = await stream_until_error(client)
    # Bytes keep coming but never make an event with text: the stall clock is not reset by them.
    assert error.code is ErrorCode.STALLED and result.text == "Hello" and error.keeps_partial


@pytest.mark.anyio
async def test_steady_tokens_forever_hit_the_answer_deadline(server: ScriptedServer) -> None:
    server.script(Reply(hostile="steady", hostile_interval=0.1))

    with bounded(seconds=4, megabytes=30):
        async with client_for(server, stall_timeout=1.0, answer_timeout=1.5) as client:
            error, result = await stream_until_error(client)
    assert error.code is ErrorCode.ANSWER_TIMEOUT and "answer_timeout" in error.message
    assert result.text.startswith("more more") and error.keeps_partial


@pytest.mark.anyio
async def test_an_endless_answer_ignoring_max_tokens_is_cut_and_kept(server: ScriptedServer) -> None:
    server.script(Reply(hostile="endless"))

    with bounded(seconds=5, megabytes=30):
        async with client_for(server) as client:
            error, result = await stream_until_error(client, GenerationOptions(max_tokens=50))
    assert error.code is ErrorCode.LENGTH_IGNORED and "max_tokens=50" in error.message
    assert result.text.startswith("word0 word1 ") and len(result.text.split()) == 2 * 50 + 17


@pytest.mark.anyio
async def test_an_endless_answer_without_max_tokens_stops_at_the_size_cap(
    server: ScriptedServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream_events, "MAX_ANSWER_CHARS", 200_000)
    server.script(Reply(hostile="endless"))

    with bounded(seconds=10, megabytes=60):
        async with client_for(server) as client:
            error, result = await stream_until_error(client)
    assert error.code is ErrorCode.TOO_LARGE and 200_000 < len(result.text) < 200_100


@pytest.mark.anyio
async def test_a_huge_event_is_refused_in_linear_time(server: ScriptedServer) -> None:
    server.script(Reply(hostile="huge_event", hostile_size=60 * MB))

    with bounded(seconds=5, megabytes=40):
        async with client_for(server) as client:
            error, _ = await stream_until_error(client)
    assert error.code is ErrorCode.TOO_LARGE and "streamed event" in error.message


@pytest.mark.anyio
async def test_a_gzip_bomb_as_a_stream_is_refused(server: ScriptedServer) -> None:
    server.script(Reply(hostile="gzip_bomb", hostile_size=300 * (1 << 20)))

    with bounded(seconds=10, megabytes=120):
        async with client_for(server) as client:
            error, _ = await stream_until_error(client)
    assert error.code is ErrorCode.TOO_LARGE


@pytest.mark.anyio
async def test_a_gzip_bomb_as_a_model_list_is_refused(server: ScriptedServer) -> None:
    server.models_reply = Reply(hostile="gzip_bomb", hostile_size=300 * (1 << 20))

    with bounded(seconds=5, megabytes=40):
        async with client_for(server) as client:
            with pytest.raises(TrayaiError) as info:
                await client.list_models()
            error = info.value
    assert error.code is ErrorCode.TOO_LARGE and "/models" in error.message


@pytest.mark.anyio
async def test_a_trickled_model_list_hits_its_deadline(server: ScriptedServer) -> None:
    server.models_reply = Reply(hostile="trickle", hostile_interval=0.05)

    with bounded(seconds=3, megabytes=30):
        async with client_for(server, models_timeout=1.0) as client:
            with pytest.raises(TrayaiError) as info:
                await client.list_models()
            error = info.value
    assert error.code is ErrorCode.FIRST_TOKEN_TIMEOUT


@pytest.mark.anyio
async def test_a_post_redirected_to_another_origin_is_not_followed(server: ScriptedServer) -> None:
    with ScriptedServer() as elsewhere:
        server.script(Reply(redirect_to=f"{elsewhere.base_url}/chat/completions"))

        with bounded(seconds=3, megabytes=20):
            async with client_for(server) as client:
                error, _ = await stream_until_error(client)
        assert error.code is ErrorCode.REDIRECTED
        assert elsewhere.base_url in error.message and "not followed" in error.message
        assert elsewhere.chat_requests() == []  # the prompt never reached the other server


@pytest.mark.anyio
async def test_same_origin_redirects_are_followed(server: ScriptedServer) -> None:
    server.models_reply = Reply(redirect_to="/v1/models?moved=1", redirect_status=301)
    server.script(Reply(redirect_to="/v1/chat/completions?moved=1", redirect_status=307), Reply(text="Here."))

    async with client_for(server) as client:
        server.models_reply = None
        listing = await client.list_models()
        stream = client.stream_chat(MESSAGES, model="ai/smollm2")
        async with stream:
            text = "".join([d async for d in stream])
        ids = listing.ids
    assert ids == ["ai/smollm2"] and text == "Here."
    paths = [r.path for r in server.chat_requests()]
    assert paths == ["/v1/chat/completions", "/v1/chat/completions?moved=1"]
    assert server.chat_requests()[1].body == server.chat_requests()[0].body  # the same prompt


# --------------------------------------------------------------------------- the command line


def run_cli(*argv: str, timeout: float = 30) -> tuple[int, str, str, float, float]:
    """Run ``trayai ARGV`` in a child; returns exit code, stdout, stderr, seconds and peak RSS (MB)."""
    code = (
        "import runpy, sys\n"
        f"sys.argv = ['trayai', *{list(argv)!r}]\n"
        "try:\n    runpy.run_module('trayai.cli', run_name='__main__')\n"
        "finally:\n    hwm = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
        "    print('PEAK', hwm.split()[1], file=sys.stderr)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
    )
    took = time.monotonic() - started
    peak = next(int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("PEAK"))
    return done.returncode, done.stdout, done.stderr, took, peak / 1000  # VmHWM (peak RSS since exec), kB


def save_profile(paths: AppPaths, server: ScriptedServer, **timeouts: float) -> None:
    settings = Settings()
    profile = Profile(name="hostile", base_url=server.base_url)
    for name, seconds in timeouts.items():
        setattr(profile, name, seconds)
    settings.profiles = [profile]
    settings.active_profile = "hostile"
    ConfigStore(paths).save(settings)


def test_cli_ask_against_a_trickle_ends_with_the_partial_answer(
    server: ScriptedServer, isolated_env: AppPaths
) -> None:
    save_profile(isolated_env, server, first_token_timeout=2.0, stall_timeout=2.0)
    server.script(Reply(hostile="trickle_after_token", hostile_interval=0.05))
    code, out, err, took, peak = run_cli("ask", "--no-autostart", "hi")
    assert code == 1 and out.startswith("Hello") and "stalled" in err
    assert took < 10 and peak < 200


def test_cli_ask_against_an_endless_answer_stops_and_says_why(
    server: ScriptedServer, isolated_env: AppPaths
) -> None:
    save_profile(isolated_env, server)
    server.script(Reply(hostile="endless"))
    code, out, err, took, peak = run_cli("ask", "--no-autostart", "--max-tokens", "100", "hi")
    assert code == 1 and out.startswith("word0 ") and "ignored max_tokens=100" in err
    assert took < 10 and peak < 200


def test_cli_models_against_a_gzip_bomb(server: ScriptedServer, isolated_env: AppPaths) -> None:
    save_profile(isolated_env, server)
    server.models_reply = Reply(hostile="gzip_bomb", hostile_size=300 * (1 << 20))
    code, out, err, took, peak = run_cli("models")
    assert code == 1 and out == "" and "more than 8 MB" in err
    assert took < 10 and peak < 200


def test_cli_batch_and_bench_end_against_an_endless_server(
    server: ScriptedServer, isolated_env: AppPaths, tmp_path: Path
) -> None:
    save_profile(isolated_env, server)
    server.set_default(Reply(hostile="endless"))
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps({"id": f"q{i}", "prompt": "go"}) + "\n" for i in range(4)))
    out = tmp_path / "out.jsonl"
    code, _, err, took, peak = run_cli(
        "batch", str(src), "-o", str(out), "--no-autostart", "--max-tokens", "40"
    )
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 1 and len(records) == 4
    assert all(r["error"]["code"] == "length_ignored" and r["answer"].startswith("word0") for r in records)
    assert took < 15 and peak < 200
    code, _, err, took, peak = run_cli(
        "bench", "--no-autostart", "--runs", "2", "--max-tokens", "20", "--levels", "2", "--json"
    )
    assert code == 1 and "ignored max_tokens=4" in err  # already the warm-up answer runs away
    assert took < 15 and peak < 250


@pytest.mark.anyio
async def test_a_trickled_non_streaming_answer_hits_the_answer_deadline(server: ScriptedServer) -> None:
    server.script(Reply(hostile="trickle", hostile_interval=0.05))

    with bounded(seconds=3, megabytes=30):
        async with client_for(server, answer_timeout=1.0) as client:
            with pytest.raises(TrayaiError) as info:
                await client.complete(MESSAGES, model="ai/smollm2")
            error = info.value
    assert error.code is ErrorCode.ANSWER_TIMEOUT
