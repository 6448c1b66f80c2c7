"""A real X server that refuses us counts as no display; with its cookie it is one (Xvfb -auth)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.waiting import tail, wait_for_program, wait_until
from trayai.core.display import display_problem, holding_display

COOKIE = bytes.fromhex("0123456789abcdef0123456789abcdef")


def xauthority(number: int) -> bytes:
    """One MIT-MAGIC-COOKIE-1 record for this host's display ``number`` (what `xauth add` writes)."""

    def counted(data: bytes) -> bytes:
        return len(data).to_bytes(2, "big") + data

    host = socket.gethostname().encode()
    fields = (host, str(number).encode(), b"MIT-MAGIC-COOKIE-1", COOKIE)
    return (256).to_bytes(2, "big") + b"".join(counted(f) for f in fields)  # 256: FamilyLocal


@pytest.fixture
def guarded_x(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An Xvfb (unix socket and TCP) admitting only holders of its cookie; the Xauthority path."""
    if shutil.which("Xvfb") is None:
        pytest.fail("needs Xvfb: run `bash resources/bootstrap.sh --test`")
    number = next(
        n
        for n in range(700, 800)
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists()
    )
    auth = tmp_path / "Xauthority"
    auth.write_bytes(xauthority(number))  # Xvfb admits its holders only: the file is right if we get in
    with (tmp_path / "xvfb.log").open("wb") as log:  # what Xvfb says, for a failure message
        xvfb = subprocess.Popen(
            # -noreset: a desktop always has clients; alone, each probe's goodbye would make Xvfb reset
            # itself, and it hangs up on whoever connects during the reset
            [
                "Xvfb",
                f":{number}",
                "-auth",
                str(auth),
                "-listen",
                "tcp",
                "-noreset",
                "-screen",
                "0",
                "640x480x24",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        wait_for_program(
            xvfb,
            Path(f"/tmp/.X11-unix/X{number}").exists,
            "Xvfb to listen",
            lambda: tail(tmp_path / "xvfb.log"),
        )
        yield number, auth
    finally:
        xvfb.terminate()
        xvfb.wait(10)


def test_an_x_server_refusing_us_is_no_session(guarded_x: tuple[int, Path], tmp_path: Path) -> None:
    number, auth = guarded_x
    stranger = tmp_path / "empty-Xauthority"
    stranger.write_bytes(b"")
    env = {k: v for k, v in os.environ.items() if k not in ("WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env.update({"DISPLAY": f":{number}", "XAUTHORITY": str(stranger), "XDG_RUNTIME_DIR": str(tmp_path)})
    result = subprocess.run(
        [sys.executable, "-m", "trayai.cli", "chat"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == 1, result.stderr
    assert result.stderr.startswith(
        f"trayai: no graphical session: the X server at DISPLAY=:{number} refused the connection: "
        "Authorization required"
    ), result.stderr
    assert "platform plugin" not in result.stderr
    # the same server with the cookie in hand is a session, as Qt would find it
    assert display_problem({"DISPLAY": f":{number}", "XAUTHORITY": str(auth)}, "linux") is None
    assert display_problem({"DISPLAY": f"unix:{number}.0", "XAUTHORITY": str(auth)}, "linux") is None
    # over TCP (ssh -X style): the loopback address finds the host's local cookie, as libxcb does
    assert display_problem({"DISPLAY": f"localhost:{number}", "XAUTHORITY": str(auth)}, "linux") is None
    refused = display_problem({"DISPLAY": f"127.0.0.1:{number}", "XAUTHORITY": str(stranger)}, "linux")
    assert refused is not None and "refused the connection" in refused


def test_the_probe_stays_connected_until_qt_has_connected(
    guarded_x: tuple[int, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """An X server whose last client leaves resets and hangs up on newcomers: the probe must still be
    there when Qt connects. X-Resource counts the server's clients."""
    from Xlib.display import Display

    number, auth = guarded_x
    monkeypatch.setenv("XAUTHORITY", str(auth))  # for python-xlib, standing in for Qt
    with holding_display({"DISPLAY": f":{number}", "XAUTHORITY": str(auth)}, "linux"):
        qt = Display(f":{number}")
        during = len(qt.res_query_clients().clients)
    try:
        after = wait_until(
            lambda: (n := len(qt.res_query_clients().clients)) < during and n, 5, "the probe to leave"
        )
        assert during == after + 1  # exactly the probe, held across Qt's connect, then gone
    finally:
        qt.close()
