"""A forwarded command carries its launcher's focus grant to the running app, compatibly."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QProcessEnvironment
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import until
from tests.ui.test_app import settings_for
from trayai.core.launch import LaunchContext
from trayai.ui.activation import Activator
from trayai.ui.ipc import InstanceRequest, InstanceServer


def c_env(name: str) -> str:
    """The variable as C code (Qt) reads it now, not Python's copy of the environment."""
    return str(QProcessEnvironment.systemEnvironment().value(name))


def trayai_with(env_extra: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """A second `trayai`, as a desktop shortcut starts it (the launcher's variables in its env)."""
    env = {**os.environ, **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "trayai.cli", *args],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def test_the_token_from_a_second_process_is_in_the_environment_only_while_the_prompt_shows(
    server: ScriptedServer, make_app: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = make_app(settings_for(server))
    seen: list[tuple[str | None, str]] = []
    open_prompt = app.commands.open_prompt

    def recording_open_prompt() -> None:
        # what Qt's xdg-shell plugin would read in show()/activateWindow(): the C environment too
        seen.append((os.environ.get("XDG_ACTIVATION_TOKEN"), c_env("XDG_ACTIVATION_TOKEN")))
        open_prompt()

    monkeypatch.setattr(app.commands, "open_prompt", recording_open_prompt)
    monkeypatch.delenv("XDG_ACTIVATION_TOKEN", raising=False)

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.tray.window is not None and app.tray.window.isVisible(), what="start-up")
        result = await asyncio.to_thread(trayai_with, {"XDG_ACTIVATION_TOKEN": "launcher-token-7"}, "prompt")
        assert result.returncode == 0, result.stderr
        await until(lambda: app.chats.prompt_window is not None and app.chats.prompt_window.isVisible())
        assert seen == [("launcher-token-7", "launcher-token-7")]
        assert "XDG_ACTIVATION_TOKEN" not in os.environ  # cleared once the window was shown
        assert c_env("XDG_ACTIVATION_TOKEN") == ""
        app.chats.prompt_window.hide()
        plain = await asyncio.to_thread(trayai_with, {}, "prompt")  # no launcher: nothing set
        assert plain.returncode == 0, plain.stderr
        await until(lambda: len(seen) == 2)
        assert seen[1] == (None, "")
        app.request_quit()
        assert await asyncio.wait_for(task, 5) == 0

    run(go())


def raw_request(path: str, line: bytes) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX) as sock:
        sock.settimeout(10)
        sock.connect(path)
        sock.sendall(line + b"\n")
        answer: dict[str, Any] = json.loads(sock.makefile("rb").readline() or b"{}")
        return answer


def test_old_and_new_requests_both_work_and_a_bad_launch_is_refused(qtbot: QtBot, tmp_path: Path) -> None:
    server = InstanceServer(str(tmp_path / "compat.sock"))
    assert server.listen()
    got: list[InstanceRequest] = []
    words: list[str] = []
    server.request_received.connect(got.append)
    server.command_received.connect(words.append)
    try:
        for line, ok in (
            (b'{"command": "chat"}', True),  # an older trayai's request
            (
                b'{"command": "prompt", "launch": {"xdg_activation_token": "t1", "desktop_startup_id": "s_TIME3"}}',
                True,
            ),
            (b'{"command": "prompt", "launch": {"xdg_activation_token": "bad\\u001b"}}', False),
            (b'{"command": "prompt", "launch": "t1"}', False),
        ):
            before = len(got)
            # the server answers and emits in one slot: once the client has its answer, it has emitted
            assert _in_thread(server.name, line, qtbot) == {"ok": ok}, line
            assert len(got) == before + ok, line
    finally:
        server.close()
    assert got == [InstanceRequest("chat"), InstanceRequest("prompt", LaunchContext("t1", "s_TIME3"))]
    assert words == ["chat", "prompt"]  # the plain signal still fires for listeners of the word alone


def _in_thread(path: str, line: bytes, qtbot: QtBot) -> dict[str, Any]:
    """The request from another thread while Qt's loop runs here (the server lives on this one)."""
    import threading

    box: list[dict[str, Any]] = []
    thread = threading.Thread(target=lambda: box.append(raw_request(path, line)))
    thread.start()
    qtbot.waitUntil(lambda: not thread.is_alive(), timeout=10000)
    thread.join()
    return box[0]


def test_summon_without_a_launch_just_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_ACTIVATION_TOKEN", "stale-from-our-own-launch")
    calls: list[str | None] = []
    Activator("offscreen").summon(
        LaunchContext(), lambda: calls.append(os.environ.get("XDG_ACTIVATION_TOKEN")), lambda: None
    )
    assert calls == ["stale-from-our-own-launch"]  # untouched: not ours to clear
