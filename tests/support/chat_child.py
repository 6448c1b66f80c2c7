"""A chat controller in its own process, for the SIGKILL test: streams one answer into a history file.

Usage: python -m tests.support.chat_child BASE_URL HISTORY_FILE
Prints "<monotonic time> <characters received>" after every delta so the parent knows exactly what
had arrived when it killed us.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import qasync
from PySide6.QtCore import QCoreApplication

from trayai.core.chat.history import HistoryStore
from trayai.core.net.client import Endpoint, ModelClient
from trayai.ui.chat.controller import ChatController, ChatTarget


def main() -> None:
    base_url, history_file = sys.argv[1], Path(sys.argv[2])
    app = QCoreApplication(sys.argv[:1])
    history = HistoryStore(history_file)
    client = ModelClient(Endpoint.create(base_url, "dummy-key"))
    controller = ChatController(history, lambda: ChatTarget(client=client, model="ai/smollm2", profile="p"))
    received = 0

    def on_delta(text: str) -> None:
        nonlocal received
        received += len(text)
        print(f"{time.monotonic():.6f} {received}", flush=True)

    controller.delta.connect(on_delta)

    async def run() -> None:
        controller.send("stream for a long time")
        await asyncio.sleep(3600)

    app.setApplicationName("trayai-chat-child")  # keeps the application referenced while it runs
    qasync.run(run())


if __name__ == "__main__":
    main()
