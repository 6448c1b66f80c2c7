"""Running the ``trayai`` CLI in-process, as a test sees it: exit code, stdout, stderr."""

from __future__ import annotations

import io

from trayai.cli import main


def cli(*argv: str) -> tuple[int, str, str]:
    """``trayai ARGV…`` with captured output (the process environment and the test's dirs apply)."""
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()
