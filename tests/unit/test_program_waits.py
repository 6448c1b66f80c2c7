"""``wait_for_program``: how the end-to-end tests wait for Xvfb, trayer, sway, waybar and an installed
trayai. Why: a wait that fails must say what the program printed, or a failure under load (once in
1,416 runs) leaves nothing to go on; and it must end as soon as the program is ready or gone."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from tests.support.waiting import tail, wait_for_program


def started(script: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(["sh", "-c", script], stdout=out, stderr=subprocess.STDOUT)


def test_ready_returns_the_value_while_the_program_runs(tmp_path: Path) -> None:
    flag = tmp_path / "ready"
    proc = started(f"echo up; touch {flag}; exec sleep 60", tmp_path / "out")
    try:
        assert wait_for_program(proc, flag.exists, "the flag", lambda: tail(tmp_path / "out")) is True
    finally:
        proc.kill()
        proc.wait()


def test_a_program_that_exits_first_ends_the_wait_at_once_with_its_output(tmp_path: Path) -> None:
    proc = started("echo 'cannot open display :99' >&2; exit 3", tmp_path / "out")
    start = time.monotonic()
    with pytest.raises(AssertionError) as failed:
        wait_for_program(proc, lambda: False, "trayer's panel", lambda: tail(tmp_path / "out"), timeout=60)
    assert time.monotonic() - start < 30  # not the deadline: the exit ended it
    assert "trayer's panel: the program exited (3) before it was ready" in str(failed.value)
    assert "cannot open display :99" in str(failed.value)


def test_a_timeout_says_what_the_program_printed(tmp_path: Path) -> None:
    proc = started("echo 'waiting for the bus'; exec sleep 60", tmp_path / "out")
    try:
        with pytest.raises(AssertionError) as failed:
            wait_for_program(proc, lambda: False, "sway", lambda: tail(tmp_path / "out"), timeout=0.2)
    finally:
        proc.kill()
        proc.wait()
    assert "timed out after 0.2 s waiting for sway" in str(failed.value)
    assert "waiting for the bus" in str(failed.value)
    assert tail(tmp_path / "missing") == "(no output)"
