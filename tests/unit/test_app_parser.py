"""`trayai` with only the tray app's options parses without building every command's parser."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from trayai.cli.parser import build_app_parser, build_parser, only_app_options

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "words",
    [
        [],
        ["--debug"],
        ["--endpoint", "http://127.0.0.1:11434/v1"],
        ["--endpoint=http://x:1/v1", "--model", "m", "--profile=p", "--debug"],
    ],
)
def test_app_options_alone_parse_as_the_full_parser_does(words: list[str]) -> None:
    assert only_app_options(words)
    light, full = vars(build_app_parser().parse_args(words)), vars(build_parser().parse_args(words))
    assert light == {key: full[key] for key in light}
    assert light["command"] is None


@pytest.mark.parametrize(
    "words",
    [
        ["ask", "hi"],
        ["--debug", "status"],
        ["--endpoint", "http://x/v1", "chat"],
        ["--help"],
        ["-h"],
        ["--version"],
        ["--endpoint"],  # missing value: the full parser says so
        ["--model", "--endpoint"],  # argparse takes "--endpoint" for an option: an error, in full
        ["nonsense"],
        ["--verbose"],
    ],
)
def test_anything_else_gets_the_full_parser(words: list[str]) -> None:
    assert not only_app_options(words)


def test_the_tray_path_imports_no_command_module() -> None:
    code = (
        "import sys\n"
        "from trayai.cli.parser import build_app_parser\n"
        "build_app_parser().parse_args(['--debug'])\n"
        "print(sorted(m for m in sys.modules if m.startswith('trayai.cli.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == (
        "['trayai.cli.app', 'trayai.cli.context', 'trayai.cli.forward', 'trayai.cli.parents', 'trayai.cli.parser']"
    )
