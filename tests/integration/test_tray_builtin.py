"""Local-first through the tray app: nothing listens, so trayai starts the built-in server — and
stops it again on quit, leaving no process behind. A server trayai did not start is left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.support.ports import free_port
from tests.support.waiting import wait_until
from trayai.core.loopback import list_models_sync
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.store import ConfigStore

pytestmark = pytest.mark.integration


def llama_servers(port: int) -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "trayai.core.engine_child" in cmd and f"--port {port}" in cmd:
            found.append(proc)
    return found


def fronts(port: int) -> list[psutil.Process]:
    """trayai's on-demand front on ``port`` (``trayai serve --on-demand``)."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmd = " ".join(proc.info["cmdline"] or [])
        if "serve --on-demand" in cmd and f"--port {port}" in cmd:
            found.append(proc)
    return found


def engines_of(front: psutil.Process) -> list[psutil.Process]:
    return [p for p in front.children(recursive=True) if "trayai.core.engine_child" in " ".join(p.cmdline())]


def run_app(paths: AppPaths, port: int, *, on_demand: bool = False) -> subprocess.Popen[str]:
    settings = Settings()
    settings.profiles = [Profile(name="Local", base_url=f"http://localhost:{port}/v1")]
    settings.active_profile = "Local"
    settings.builtin_server.port = port
    settings.builtin_server.on_demand = on_demand  # off: the engine itself, whose process is checked
    settings.poll_interval = 1.0
    ConfigStore(paths).save(settings)
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    return subprocess.Popen(
        [sys.executable, "-m", "trayai.cli"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
    )


def quit_app(app: subprocess.Popen[str]) -> float:
    started = time.monotonic()
    subprocess.run(
        [sys.executable, "-m", "trayai.cli", "quit"],
        check=True,
        timeout=30,
        env=dict(os.environ, QT_QPA_PLATFORM="offscreen"),
    )
    assert app.wait(15) == 0
    return time.monotonic() - started


def test_tray_starts_the_builtin_server_and_quit_stops_it(paths: AppPaths) -> None:
    port = free_port()
    app = run_app(paths, port)
    try:
        wait_until(
            lambda: list_models_sync(f"http://127.0.0.1:{port}/v1") == ["ai/smollm2"],
            120,
            "the built-in server",
        )
        assert len(llama_servers(port)) == 1
        log = paths.log_dir / "trayai.log"
        wait_until(lambda: "starting the built-in server" in log.read_text(), 10, "the log line")
        elapsed = quit_app(app)
        assert not llama_servers(port), "the built-in server outlived trayai"
        assert elapsed < 5  # the CLI round trip plus ordered shutdown
        import re

        shutdown = re.search(r"shutdown complete in ([\d.]+) s", log.read_text())
        assert shutdown is not None and float(shutdown.group(1)) < 2.0  # including the server stop
    finally:
        if app.poll() is None:
            app.kill()
        app.communicate(timeout=10)  # reap it and close its pipes
        for proc in llama_servers(port):
            proc.kill()


def test_by_default_the_tray_starts_the_on_demand_front_which_loads_a_model_when_asked(
    paths: AppPaths,
) -> None:
    """Nothing listens: the tray starts the front (the default), which lists the library, loads a model
    when a request names it, and goes with every engine it started when the tray quits."""
    port = free_port()
    app = run_app(paths, port, on_demand=True)
    try:
        wait_until(
            lambda: list_models_sync(f"http://127.0.0.1:{port}/v1") == ["ai/smollm2"], 120, "the front"
        )
        [front] = fronts(port)
        assert engines_of(front) == []  # nothing loaded until asked
        body = json.dumps(
            {"model": "ai/smollm2", "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 8}
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions", body, {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=120) as answer:
            reply = json.load(answer)
        assert reply["model"] == "ai/smollm2" and reply["choices"][0]["message"]["content"]
        [engine] = engines_of(front)
        elapsed = quit_app(app)
        assert not fronts(port) and not engine.is_running(), "the front or its engine outlived trayai"
        assert elapsed < 5
    finally:
        if app.poll() is None:
            app.kill()
        app.communicate(timeout=10)
        for proc in fronts(port):
            for child in proc.children(recursive=True):
                child.kill()
            proc.kill()


def test_a_server_trayai_did_not_start_is_left_running(paths: AppPaths, tmp_path: Path) -> None:
    from trayai.core.embedded import EmbeddedServer
    from trayai.core.settings.config import BuiltinServerSettings

    port = free_port()
    other = EmbeddedServer(BuiltinServerSettings(port=port), tmp_path / "other.log")
    other.start()
    other.wait_ready()
    try:
        app = run_app(paths, port)
        try:
            log = paths.log_dir / "trayai.log"
            # Only the first poll decides whether to start the built-in server: it must find this one
            # ready and start nothing.
            wait_until(lambda: log.exists() and "first poll: ready" in log.read_text(), 30, "the first poll")
            assert "starting the built-in server" not in log.read_text()
            quit_app(app)
        finally:
            if app.poll() is None:
                app.kill()
            app.communicate(timeout=10)  # reap it and close its pipes
        assert other.is_running() and list_models_sync(other.base_url) == ["ai/smollm2"]
    finally:
        other.stop()
