"""Integration: the built-in engine answers requests in parallel and never cuts one for another."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.support.ports import free_port
from trayai.cli import main
from trayai.core.embedded import EmbeddedServer, bundled_model_path
from trayai.core.loopback import list_models_sync
from trayai.core.net.client import Endpoint, GenerationOptions, ModelClient, StreamResult
from trayai.core.settings.config import BuiltinServerSettings

pytestmark = pytest.mark.integration


def test_batch_of_16_at_concurrency_4_answers_every_line(
    builtin_server: EmbeddedServer, tmp_path: Path
) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text(
        "".join(json.dumps({"id": f"q{i}", "prompt": f"Name a colour number {i}."}) + "\n" for i in range(16))
    )
    out = tmp_path / "out.jsonl"
    stdout, stderr = io.StringIO(), io.StringIO()
    code = main(
        [
            "batch",
            str(src),
            "-o",
            str(out),
            "--endpoint",
            builtin_server.base_url,
            "--no-autostart",
            "--concurrency",
            "4",
            "--max-tokens",
            "24",
        ],
        stdout=stdout,
        stderr=stderr,
    )
    assert code == 0, stderr.getvalue()
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == [f"q{i}" for i in range(16)]
    for record in records:
        assert record["error"] is None and record["answer"].strip(), record
        assert record["finish_reason"] in ("stop", "length"), record
        assert record["usage"]["estimated"] is False and record["usage"]["completion_tokens"] > 0


def test_a_long_answer_completes_while_a_second_request_runs(builtin_server: EmbeddedServer) -> None:
    """The old engine cut the first answer ("finish: stop" at 93 of 256 tokens) when a second came."""

    async def run() -> tuple[StreamResult, StreamResult]:
        async with ModelClient(Endpoint.create(builtin_server.base_url, "none")) as client:
            long_chat = client.stream_chat(
                [{"role": "user", "content": "Write a long story about a lighthouse keeper."}],
                model="ai/smollm2",
                options=GenerationOptions(max_tokens=160, temperature=0.7),
            )
            started = asyncio.Event()

            async def consume_long() -> StreamResult:
                async with long_chat:
                    async for _ in long_chat:
                        started.set()
                assert long_chat.result is not None
                return long_chat.result

            async def consume_short() -> StreamResult:
                await started.wait()  # ask while the long answer is streaming
                short = client.stream_chat(
                    [{"role": "user", "content": "Say hello."}],
                    model="ai/smollm2",
                    options=GenerationOptions(max_tokens=16, temperature=0.0),
                )
                async with short:
                    async for _ in short:
                        pass
                assert short.result is not None
                return short.result

            return await asyncio.gather(consume_long(), consume_short())

    long_result, short_result = asyncio.run(run())
    for result in (long_result, short_result):
        assert result.error is None and result.finish_reason in ("stop", "length") and result.text.strip()
        assert not result.usage.estimated
    # Either the model finished on its own or it ran to the limit: never a silent cut in between.
    assert long_result.finish_reason == "stop" or long_result.usage.completion_tokens == 160


def _serve(port: int, *extra: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayai.cli", "serve", "--port", str(port), *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        stdin=subprocess.DEVNULL,
        env=dict(os.environ),
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert f"127.0.0.1:{port}/v1" in line, line + (proc.stderr.read() if proc.stderr else "")
    return proc


def test_serve_stops_within_3_seconds_in_the_middle_of_a_stream() -> None:
    port = free_port()
    proc = _serve(port)
    (child,) = psutil.Process(proc.pid).children()
    first_bytes = threading.Event()

    def stream() -> None:
        body = json.dumps(
            {
                "model": "ai/smollm2",
                "stream": True,
                "max_tokens": 3000,
                "messages": [{"role": "user", "content": "Write a very long story."}],
            }
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                for _ in range(3):
                    response.readline()
                first_bytes.set()
                while response.readline():
                    pass
        except OSError:
            pass  # the server went away mid-stream: expected
        first_bytes.set()

    reader = threading.Thread(target=stream, daemon=True)
    reader.start()
    assert first_bytes.wait(30), "no token arrived"
    assert child.is_running()
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=10)  # reap it and close its pipes
    psutil.wait_procs([child], timeout=10)
    took = time.monotonic() - started
    assert not child.is_running()
    assert took < 3.0, f"trayai serve took {took:.1f} s to stop mid-stream"
    reader.join(10)


def test_models_folder_lists_and_serves_a_dropped_in_gguf(tmp_path: Path) -> None:
    bundled = bundled_model_path()
    assert bundled is not None
    folder = tmp_path / "models"
    (folder / "vendor").mkdir(parents=True)
    (folder / "vendor" / "tiny-copy.gguf").symlink_to(bundled)
    (folder / "mmproj-vision.gguf").symlink_to(bundled)  # a projector: not a model of its own
    settings = BuiltinServerSettings(
        port=free_port(), context_size=1024, parallel=2, models_dir=str(folder), on_demand=False
    )  # one model at a time: the chosen file is the one served
    server = EmbeddedServer(settings, tmp_path / "server.log")
    assert [m.name for m in server.available_models()] == ["ai/smollm2", "tiny-copy"]
    chosen = server.select_model("tiny-copy")
    assert settings.model_file == str(chosen.path)
    server.start()
    try:
        server.wait_ready()
        assert list_models_sync(server.base_url) == ["tiny-copy"]
        assert server.describe()["model"] == "tiny-copy"
    finally:
        server.stop()
    server.select_model("ai/smollm2")
    assert settings.model_file == "" and server.alias == "ai/smollm2"
