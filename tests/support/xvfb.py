"""An Xvfb of a test's own, on a display number Xvfb itself found free (``-displayfd``).

Guessing a number from a range failed once a machine had run enough tests: every Xvfb killed
without cleanup leaves its socket and lock behind (101 of them were seen), and the range ran out.
Xvfb knows which locks are stale; it writes the number it took once it accepts connections.
"""

from __future__ import annotations

import os
import select
import subprocess
import tempfile
import time
from collections.abc import Sequence

from tests.support.waiting import PROGRAM_DEADLINE


class XvfbFailed(RuntimeError):
    """Xvfb exited or said nothing within the deadline."""


def start_xvfb(
    size: str = "1024x600x24",
    extra: Sequence[str] = ("-nolisten", "tcp", "-noreset"),
    timeout: float = PROGRAM_DEADLINE,
) -> tuple[subprocess.Popen[bytes], int]:
    """Start Xvfb; return it and its display number once it accepts connections.

    ``-noreset``: a desktop always has clients; without it, the last one leaving makes Xvfb reset, and
    it hangs up on whoever connects meanwhile — a readiness probe (``xwininfo``) done before trayer
    connected made trayer fail with "cannot open display" (seen in CI).

    What Xvfb prints goes to a file that a failure quotes (why it could not start is only there).
    """
    read_end, write_end = os.pipe()
    # The child keeps its own descriptor of this file; ours is closed on return.
    with tempfile.TemporaryFile() as said_on_stderr:
        try:
            proc = subprocess.Popen(
                ["Xvfb", "-displayfd", str(write_end), *extra, "-screen", "0", size],
                stdout=said_on_stderr,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                pass_fds=(write_end,),
            )
            os.close(write_end)
            write_end = -1
            said = b""
            deadline = time.monotonic() + timeout
            while not said.endswith(b"\n"):
                remaining = deadline - time.monotonic()
                ready, _, _ = select.select([read_end], [], [], max(0.0, remaining))
                chunk = os.read(read_end, 16) if ready else b""
                if not chunk:
                    how = "exited" if ready else f"was not ready within {timeout:g} s"  # EOF, or no word
                    proc.kill()
                    proc.wait(5)
                    said_on_stderr.seek(0)
                    output = said_on_stderr.read().decode(errors="replace")[-4000:] or "(no output)"
                    raise XvfbFailed(
                        f"Xvfb {how} (exit {proc.returncode}, display {said!r}); it said:\n{output}"
                    )
                said += chunk
            return proc, int(said)
        finally:
            os.close(read_end)
            if write_end >= 0:
                os.close(write_end)
