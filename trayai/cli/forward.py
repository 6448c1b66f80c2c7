"""``trayai prompt`` (chat, settings, quit, or plain ``trayai``) when the app already runs: the command
goes over the instance socket before anything else is imported.

A desktop shortcut bound to ``trayai prompt`` is how Wayland users summon the quick prompt; building
the CLI and loading Qt first made that ~300 ms, this ~50 (tests/perf/bench_wayland.py).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from trayai.core.instance import UNIX_SOCKETS, request_line, send_unix, socket_name
from trayai.core.launch import LaunchContext

# The command lines that only hand a word to the running app (anything more takes the full path).
FORWARDED = {
    (): "show",
    ("chat",): "chat",
    ("prompt",): "prompt",
    ("settings",): "settings",
    ("quit",): "quit",
}


def forward_to_running(words: Sequence[str]) -> bool:
    """True when a running trayai took the command (with the launcher's focus grant); False when
    there is none, or the command line is more than one of :data:`FORWARDED`."""
    command = FORWARDED.get(tuple(words))
    if command is None or not UNIX_SOCKETS:
        return False
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.paths import AppPaths

    paths = AppPaths.from_env()
    name = socket_name(paths.data_dir)
    line = request_line(command, LaunchContext.from_env(os.environ))
    if not Path(name).exists() or not send_unix(name, line):
        return False
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.logs import setup_logging

    setup_logging(paths.log_dir)
    logging.getLogger("trayai.ui.bootstrap").info("forwarded %r to the running instance", command)
    return True
