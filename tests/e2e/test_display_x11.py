"""A real X server that refuses us counts as no display; with its cookie it is one (Xvfb -auth)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.waiting import wait_until
from trayai.core.display import display_problem

COOKIE = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def guarded_x(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """An Xvfb that admits only holders of its MIT-MAGIC-COOKIE-1 (the Xauthority file's path)."""
    if shutil.which("Xvfb") is None or shutil.which("xauth") is None:
        pytest.fail("needs Xvfb and xauth: run `bash resources/bootstrap.sh --test`")
    number = next(
        n
        for n in range(700, 800)
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists()
    )
    auth = tmp_path / "Xauthority"
    subprocess.run(["xauth", "-f", str(auth), "add", f":{number}", "MIT-MAGIC-COOKIE-1", COOKIE], check=True)
    xvfb = subprocess.Popen(
        ["Xvfb", f":{number}", "-auth", str(auth), "-nolisten", "tcp", "-screen", "0", "640x480x24"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(Path(f"/tmp/.X11-unix/X{number}").exists, 10, "Xvfb to start")
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
