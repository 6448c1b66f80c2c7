"""`trayai --endpoint/--model/--profile` for the tray app: the command that crosses the instance
socket is strict, and misuse is refused with what to do."""

from __future__ import annotations

import pytest

from tests.support.cli import cli
from trayai.core.runtarget import RunTarget, target_from_command


def test_the_retarget_command_round_trips_and_normalises_the_url() -> None:
    target = RunTarget(None, "localhost:11434", "llama3.2")
    parsed = target_from_command(target.command())
    assert parsed == RunTarget(None, "http://localhost:11434/v1", "llama3.2")
    assert target_from_command(RunTarget("Work").command()) == RunTarget("Work")


@pytest.mark.parametrize(
    "command",
    [
        "target:not json",
        'target:{"base_url": "http://x/v1", "evil": 1}',
        'target:{"model": "a\\nb"}',
        'target:{"model": "' + "m" * 2001 + '"}',
        'target:{"base_url": "ftp://x"}',
        'target:{"model": 3}',
        'target:["model"]',
        "targets:{}",
    ],
)
def test_malformed_retarget_commands_are_refused(command: str) -> None:
    assert target_from_command(command) is None


def test_the_menu_says_who_fixed_the_endpoint() -> None:
    overrides = RunTarget(None, "http://127.0.0.1:9/v1", "m").overrides()
    assert f"{overrides['base_url'].variable} ({overrides['base_url'].source})" == "--endpoint (this run)"
    assert overrides["model"].value == "m"


def test_bad_run_options_are_refused_before_anything_starts() -> None:
    code, _, err = cli("--endpoint", "ftp://nope")
    assert code == 2 and "invalid --endpoint" in err
    code, _, err = cli("--profile", "Nope")
    assert code == 2 and "no profile named 'Nope'" in err
    code, _, err = cli("--endpoint", "localhost:9", "ask", "hi")
    assert code == 2 and "put them after it: trayai ask --endpoint" in err
