"""What every test desktop (X11 in tests/e2e/conftest.py, Wayland in tests/support/wayland.py) offers
for running tools and trayai with its environment."""

from __future__ import annotations

import subprocess
import sys


class HostProcesses:
    """Mixed into a desktop dataclass that has ``env``: its display, bus and data folders."""

    env: dict[str, str]

    def run(self, *argv: str, check: bool = True) -> str:
        return subprocess.run(
            list(argv), env=self.env, capture_output=True, text=True, check=check, timeout=20
        ).stdout

    def launch_trayai(self) -> subprocess.Popen[str]:
        """The tray app on this desktop (its output in the returned process's stdout)."""
        return subprocess.Popen(
            [sys.executable, "-m", "trayai.cli"],
            env=self.env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
