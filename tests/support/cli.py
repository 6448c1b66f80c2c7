"""Running the ``trayai`` CLI as a test sees it: in-process (exit code, stdout, stderr) or as a process."""

from __future__ import annotations

import io
import subprocess
import sys

from trayai.cli import main


def cli(*argv: str) -> tuple[int, str, str]:
    """``trayai ARGV…`` with captured output (the process environment and the test's dirs apply)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def cli_process(*argv: str) -> subprocess.CompletedProcess[str]:
    """``trayai ARGV…`` as its own process (``python -m trayai.cli``) with this process's environment
    (so the test's TRAYAI_CONFIG_DIR): another program writing the settings, as a person's shell would."""
    return subprocess.run(
        [sys.executable, "-m", "trayai.cli", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )
