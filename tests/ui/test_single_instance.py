"""One trayai per user: later invocations forward and exit; stale sockets are replaced."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from PySide6.QtNetwork import QLocalSocket
from pytestqt.qtbot import QtBot

from tests.support.waiting import wait_until
from trayai.core.paths import AppPaths
from trayai.ui.ipc import MAX_CONNECTIONS, InstanceServer


def trayai(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayai.cli", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def start_app(env: dict[str, str]) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "trayai.cli"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    return proc


def wait_for_log(paths: AppPaths, text: str, timeout: float = 20.0) -> str:
    log = paths.log_dir / "trayai.log"

    def content() -> str | None:
        return text_ if log.exists() and text in (text_ := log.read_text()) else None

    found = wait_until(content, timeout, f"{text!r} in the log")
    assert found is not None
    return found


def instances_for(paths: AppPaths) -> list[psutil.Process]:
    """trayai processes of this test (same data dir), whatever else runs on the machine."""
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        if (proc.info["cmdline"] or [])[-1:] != ["trayai.cli"]:
            continue
        try:
            if proc.environ().get("TRAYAI_DATA_DIR") == str(paths.data_dir):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def app_env(paths: AppPaths) -> dict[str, str]:
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["LOCAL_MODEL_BASE_URL"] = "http://127.0.0.1:9/v1"  # nothing there, and not the built-in port
    return env


def test_second_invocation_forwards_and_quit_ends_the_first(paths: AppPaths) -> None:
    env = app_env(paths)
    first = start_app(env)
    try:
        wait_for_log(paths, "startup: tray shown")
        second = trayai("chat", env=env)
        assert second.returncode == 0, second.stderr
        again = trayai(env=env)  # plain `trayai` while it runs: bring it forward, exit 0
        assert again.returncode == 0
        assert first.poll() is None  # the first one still runs
        assert len(instances_for(paths)) == 1  # the second and third exited after forwarding
        started = time.monotonic()
        assert trayai("quit", env=env).returncode == 0
        assert first.wait(10) == 0
        assert time.monotonic() - started < 5
        log = wait_for_log(paths, "shutdown complete")
        assert "forwarded 'chat'" in log and "forwarded 'quit'" in log
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate(timeout=10)  # reap it and close its pipes


def test_quit_with_nothing_running(paths: AppPaths) -> None:
    result = trayai("quit", env=app_env(paths))
    assert result.returncode == 0 and "not running" in result.stderr


def test_stale_socket_from_a_crash_is_replaced(paths: AppPaths) -> None:
    paths.ensure()
    stale = Path(paths.data_dir / "trayai.sock")
    dead = socket.socket(socket.AF_UNIX)
    dead.bind(str(stale))  # a socket file nobody listens on, as a crashed instance leaves behind
    dead.close()
    assert stale.exists()
    env = app_env(paths)
    app = start_app(env)
    try:
        wait_for_log(paths, "startup: tray shown")
        assert trayai("quit", env=env).returncode == 0
        assert app.wait(10) == 0
    finally:
        if app.poll() is None:
            app.kill()
        app.communicate(timeout=10)  # reap it and close its pipes


def test_sigterm_shuts_down_cleanly(paths: AppPaths) -> None:
    env = app_env(paths)
    app = start_app(env)
    try:
        wait_for_log(paths, "startup: tray shown")
        app.terminate()
        assert app.wait(10) == 0
        wait_for_log(paths, "shutdown complete")
    finally:
        if app.poll() is None:
            app.kill()
        app.communicate(timeout=10)  # reap it and close its pipes


# --------------------------------------------------------------------------- hostile clients


def connect(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX)
    sock.connect(str(path))  # blocking: a full backlog waits for the app to accept
    sock.settimeout(10)
    return sock


def ping(path: Path) -> bool:
    with connect(path) as sock:
        sock.sendall(b'{"command": "ping"}\n')
        return bool(json.loads(sock.makefile("rb").readline() or b"{}").get("ok"))


def closed_by_peer(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        return sock.recv(1) == b""
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True


def settled_rss(proc: psutil.Process, path: Path) -> int:
    for _ in range(5):  # a few round trips: the app is idle and warmed up before measuring
        assert ping(path)
    return int(proc.memory_info().rss)


@pytest.fixture
def running_app(paths: AppPaths) -> Iterator[tuple[psutil.Process, Path]]:
    app = start_app(app_env(paths))
    try:
        wait_for_log(paths, "startup: tray shown")
        yield psutil.Process(app.pid), paths.data_dir / "trayai.sock"
    finally:
        app.terminate()
        app.communicate(timeout=10)  # reap it and close its pipes


def test_a_line_without_end_is_cut_off_and_costs_no_memory(running_app: tuple[psutil.Process, Path]) -> None:
    proc, path = running_app
    before = settled_rss(proc, path)
    payload = b"x" * (10 * 1024 * 1024)
    for _ in range(3):  # 10 MB without a newline, three times over
        with connect(path) as sock:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                sock.sendall(payload)
            sock.settimeout(10)
            with contextlib.suppress(ConnectionResetError):
                assert sock.recv(1) == b""  # the app hung up on it
    growth = settled_rss(proc, path) - before
    assert growth < 8 * 1024 * 1024, f"RSS grew by {growth / 1e6:.1f} MB"


def test_a_connection_flood_is_shed_and_ping_still_answers(running_app: tuple[psutil.Process, Path]) -> None:
    proc, path = running_app
    before = settled_rss(proc, path)
    flood = []
    try:
        for number in range(200):
            sock = connect(path)
            sock.sendall(b'{"command": "sh' if number % 2 else b"\x00garbage")  # never a whole line
            flood.append(sock)
        assert ping(path)  # during the flood
        dropped = sum(closed_by_peer(sock) for sock in flood)
        assert dropped >= 200 - MAX_CONNECTIONS
    finally:
        for sock in flood:
            sock.close()
    assert ping(path)  # and after it
    growth = settled_rss(proc, path) - before
    assert growth < 8 * 1024 * 1024, f"RSS grew by {growth / 1e6:.1f} MB"


def test_silent_and_garbage_clients_are_dropped(qtbot: QtBot, tmp_path: Path) -> None:
    server = InstanceServer(str(tmp_path / "limits.sock"), idle_ms=200)
    assert server.listen()
    try:
        silent = QLocalSocket()
        with qtbot.waitSignal(silent.disconnected, timeout=5000):
            silent.connectToServer(server.name)  # and never says anything
        garbage = QLocalSocket()
        with qtbot.waitSignal(garbage.disconnected, timeout=5000):
            garbage.connectToServer(server.name)
            garbage.write(b"{not json\n")
        assert json.loads(bytes(garbage.readAll().data())) == {"ok": False}
        qtbot.waitUntil(lambda: server.open_connections == 0, timeout=5000)
    finally:
        server.close()


def test_an_instance_socket_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    from trayai.ui.ipc import InstanceSocketError

    too_long = tmp_path / ("d" * 120) / "trayai.sock"  # a Unix socket path has at most 107 bytes
    too_long.parent.mkdir()
    with pytest.raises(InstanceSocketError, match="cannot make the instance socket"):
        InstanceServer(str(too_long)).listen()


def test_the_app_says_why_it_cannot_listen_and_exits_1(paths: AppPaths, tmp_path: Path) -> None:
    env = app_env(paths)
    env["TRAYAI_DATA_DIR"] = str(tmp_path / ("d" * 120))
    done = trayai(env=env)
    assert done.returncode == 1, done.stderr
    assert "trayai: cannot make the instance socket" in done.stderr
    assert "Traceback" not in done.stderr
