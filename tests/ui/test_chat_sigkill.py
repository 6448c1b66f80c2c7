"""SIGKILL mid-reply loses at most the last second of the answer (the history promise)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.chat.history import HistoryStore

ROOT = Path(__file__).resolve().parents[2]


def test_sigkill_mid_reply_loses_at_most_one_second(server: ScriptedServer, tmp_path: Path) -> None:
    server.script(Reply(n_tokens=5000, rate=40))
    db = tmp_path / "history.sqlite3"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.chat_child", server.base_url, str(db)],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        cwd=ROOT,
    )
    assert child.stdout is not None
    progress: list[tuple[float, int]] = []
    try:
        first: float | None = None
        for line in child.stdout:
            stamp, chars = line.split()
            progress.append((float(stamp), int(chars)))
            first = first or float(stamp)
            if float(stamp) - first > 2.7:  # several checkpoints in, mid-way between two of them
                break
        killed_at = time.monotonic()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.communicate(timeout=10)  # reap it and close its pipe
    assert child.returncode == -signal.SIGKILL
    had_a_second_before = max(chars for stamp, chars in progress if stamp <= killed_at - 1.0)
    received = progress[-1][1]

    with HistoryStore(db) as history:  # what the app sees at its next start
        assert history.recover_interrupted() == 1
        conv = history.list_conversations()[0]
        user, answer = history.messages(conv.id)
    assert user.content == "stream for a long time"
    assert answer.status == "interrupted"
    assert answer.content.startswith("tok0 tok1 ")
    assert len(answer.content) >= had_a_second_before, (len(answer.content), had_a_second_before, received)
    assert len(answer.content) <= received
