"""No graphical session: the GUI commands say so and exit 1, never Qt's platform-plugin abort (134).

The display is decided without Qt (core/display.py); these run the real CLI in a child process with
the session scrubbed from its environment, as an SSH login or a cron job would start it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from trayai.core.display import (
    FAMILY_LOCAL,
    HINT,
    NoDisplay,
    XDisplay,
    display_problem,
    holding_display,
    parse_x_display,
    peer_address,
    platform_candidates,
    read_xauth,
)
from trayai.core.error_catalog import ERROR_CATALOG, ErrorCode

GUI_COMMANDS = ((), ("chat",), ("prompt",), ("settings",))
SESSION_VARS = ("DISPLAY", "WAYLAND_DISPLAY", "WAYLAND_SOCKET", "QT_QPA_PLATFORM", "XDG_SESSION_TYPE")


def scrubbed_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SESSION_VARS}
    env.update(extra)
    return env


def trayai(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trayai.cli", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )


def assert_no_session(result: subprocess.CompletedProcess[str], why: str) -> None:
    assert result.returncode == 1, (result.returncode, result.stderr)
    assert result.stderr.startswith("trayai: no graphical session: "), result.stderr
    assert why in result.stderr
    assert "DISPLAY / WAYLAND_DISPLAY" in result.stderr  # the hint
    assert "platform plugin" not in result.stderr.lower()
    assert result.stdout == ""


@pytest.fixture
def dead_x_display() -> Iterator[int]:
    """A display number whose socket file exists but nobody listens: what a crashed X server leaves."""
    directory = Path("/tmp/.X11-unix")  # the X servers' own directory
    directory.mkdir(mode=0o1777, exist_ok=True)
    number = next(n for n in range(900, 1000) if not (directory / f"X{n}").exists())
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(directory / f"X{number}"))
    stale.close()  # bound, never listening: connect() is refused
    try:
        yield number
    finally:
        (directory / f"X{number}").unlink()


# --------------------------------------------------------------------------- the CLI, end to end


@pytest.mark.parametrize("platform", [None, "xcb", "wayland"])
@pytest.mark.parametrize("args", GUI_COMMANDS, ids=lambda a: " ".join(a) or "trayai")
def test_gui_commands_without_a_session_exit_1_with_the_reason(
    args: tuple[str, ...], platform: str | None, tmp_path: Path
) -> None:
    env = scrubbed_env(XDG_RUNTIME_DIR=str(tmp_path))  # an empty runtime dir: no wayland-0 either
    if platform is not None:
        env["QT_QPA_PLATFORM"] = platform
    result = trayai(*args, env=env)
    why = {
        None: "neither DISPLAY nor WAYLAND_DISPLAY is set",
        "xcb": "QT_QPA_PLATFORM=xcb: DISPLAY is not set",
        "wayland": f"QT_QPA_PLATFORM=wayland: no Wayland compositor at {tmp_path / 'wayland-0'}",
    }[platform]
    assert_no_session(result, why)


def test_a_dead_display_number_is_named(dead_x_display: int, tmp_path: Path) -> None:
    result = trayai("chat", env=scrubbed_env(DISPLAY=f":{dead_x_display}", XDG_RUNTIME_DIR=str(tmp_path)))
    assert_no_session(result, f"no X server at DISPLAY=:{dead_x_display} (")
    assert f"/tmp/.X11-unix/X{dead_x_display}: Connection refused" in result.stderr
    log = (Path(os.environ["TRAYAI_DATA_DIR"]) / "logs" / "trayai.log").read_text()
    assert f"ERROR trayai.ui.bootstrap: no graphical session: no X server at DISPLAY=:{dead_x_display}" in log


def test_a_wayland_display_with_no_compositor_behind_it(tmp_path: Path) -> None:
    result = trayai("prompt", env=scrubbed_env(WAYLAND_DISPLAY="wayland-7", XDG_RUNTIME_DIR=str(tmp_path)))
    assert_no_session(result, f"no Wayland compositor at {tmp_path / 'wayland-7'} (No such file")


def test_cli_commands_still_work_without_a_session(tmp_path: Path) -> None:
    env = scrubbed_env(XDG_RUNTIME_DIR=str(tmp_path))
    status_help = trayai("status", "--help", env=env)
    assert status_help.returncode == 0 and status_help.stdout.startswith("usage: trayai")
    assert " status" in status_help.stdout
    path = trayai("config", "path", env=env)
    assert path.returncode == 0 and "config file:" in path.stdout, path.stderr
    assert "graphical" not in path.stderr + status_help.stderr


def test_quit_needs_no_session(tmp_path: Path) -> None:
    result = trayai("quit", env=scrubbed_env(XDG_RUNTIME_DIR=str(tmp_path)))
    assert result.returncode == 0 and "not running" in result.stderr


# --------------------------------------------------------------------------- the decision


def test_a_platform_that_needs_no_display_is_not_checked() -> None:
    for platform in ("offscreen", "minimal", "vnc", "eglfs", "offscreen:fontengine=freetype"):
        assert display_problem({"QT_QPA_PLATFORM": platform}, "linux") is None
    assert display_problem({"QT_QPA_PLATFORM": "wayland;offscreen"}, "linux") is None  # Qt falls back


def test_macos_and_windows_are_not_checked() -> None:
    for platform in ("darwin", "win32", "cygwin"):
        assert display_problem({}, platform) is None


def test_a_listening_wayland_socket_is_a_session(tmp_path: Path) -> None:
    compositor = socket.socket(socket.AF_UNIX)
    compositor.bind(str(tmp_path / "wayland-1"))
    compositor.listen(8)
    try:
        env = {"WAYLAND_DISPLAY": "wayland-1", "XDG_RUNTIME_DIR": str(tmp_path)}
        assert display_problem(env, "linux") is None  # unset QT_QPA_PLATFORM: wayland;xcb
        assert display_problem({**env, "QT_QPA_PLATFORM": "wayland"}, "linux") is None
        absolute = {"WAYLAND_DISPLAY": str(tmp_path / "wayland-1"), "QT_QPA_PLATFORM": "wayland"}
        assert display_problem(absolute, "linux") is None  # an absolute path needs no runtime dir
        problem = display_problem({**env, "QT_QPA_PLATFORM": "xcb"}, "linux")  # but Qt was told X11
        assert problem == "QT_QPA_PLATFORM=xcb: DISPLAY is not set"
    finally:
        compositor.close()


def test_wayland_without_a_runtime_dir(tmp_path: Path) -> None:
    problem = display_problem({"QT_QPA_PLATFORM": "wayland"}, "linux")
    assert (
        problem
        == "QT_QPA_PLATFORM=wayland: XDG_RUNTIME_DIR is not set, so there is no Wayland socket to find"
    )


def test_both_reasons_when_qt_would_try_both(dead_x_display: int, tmp_path: Path) -> None:
    env = {"WAYLAND_DISPLAY": "wayland-3", "XDG_RUNTIME_DIR": str(tmp_path), "DISPLAY": f":{dead_x_display}"}
    problem = display_problem(env, "linux")
    assert problem is not None
    wayland, x11 = problem.split("; ", 1)
    assert wayland.startswith("no Wayland compositor at") and x11.startswith(
        f"no X server at DISPLAY=:{dead_x_display}"
    )


def test_holding_display_raises_the_catalogued_error() -> None:
    with pytest.raises(NoDisplay) as caught, holding_display({}, "linux"):
        pytest.fail("the body runs only when there is a display")
    assert caught.value.code is ErrorCode.NO_DISPLAY and ErrorCode.NO_DISPLAY in ERROR_CATALOG
    assert caught.value.message == "no graphical session: neither DISPLAY nor WAYLAND_DISPLAY is set"
    assert caught.value.hint == HINT


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        (":0", XDisplay(None, "", 0)),
        (":1.0", XDisplay(None, "", 1)),
        ("unix:3", XDisplay("unix", "", 3)),
        ("localhost:10.0", XDisplay(None, "localhost", 10)),
        ("tcp/example.org:2", XDisplay("tcp", "example.org", 2)),
        ("[::1]:5", XDisplay(None, "::1", 5)),
        ("garbage", None),
        ("host::0", None),  # DECnet
        (":", None),
    ],
)
def test_display_names_parse_like_libxcb(value: str, parsed: XDisplay | None) -> None:
    assert parse_x_display(value) == parsed


def test_platform_candidates_follow_qt() -> None:
    assert platform_candidates({}) == ["xcb"]
    assert platform_candidates({"WAYLAND_DISPLAY": "wayland-0"}) == ["wayland", "xcb"]
    assert platform_candidates({"XDG_SESSION_TYPE": "wayland"}) == ["wayland", "xcb"]
    assert platform_candidates({"QT_QPA_PLATFORM": "Wayland-EGL;xcb:nodpi"}) == ["wayland-egl", "xcb"]


def test_xauthority_records_are_read() -> None:
    def field(data: bytes) -> bytes:
        return len(data).to_bytes(2, "big") + data

    record = (
        (256).to_bytes(2, "big")
        + field(b"host")
        + field(b"0")
        + field(b"MIT-MAGIC-COOKIE-1")
        + field(b"k" * 16)
    )
    assert read_xauth(record + record[:5]) == [(256, b"host", b"0", b"MIT-MAGIC-COOKIE-1", b"k" * 16)]


def test_the_cookie_is_looked_up_by_the_peer_like_libxcb(tmp_path: Path) -> None:
    hostname = socket.gethostname().encode()
    listener = socket.create_server(("127.0.0.1", 0))
    path = str(tmp_path / "X5")
    unix = socket.socket(socket.AF_UNIX)
    unix.bind(path)
    unix.listen(1)
    try:
        with socket.create_connection(listener.getsockname()[:2]) as tcp:
            assert peer_address(tcp) == (FAMILY_LOCAL, hostname)  # loopback: this host, by name
        with socket.socket(socket.AF_UNIX) as local:
            local.connect(path)
            assert peer_address(local) == (FAMILY_LOCAL, hostname)
    finally:
        listener.close()
        unix.close()
