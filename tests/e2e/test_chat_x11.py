"""End-to-end chat on a real X server: type with xdotool, watch Markdown stream, Stop, find it again."""

from __future__ import annotations

import subprocess
import sys

from tests.e2e.conftest import Desktop
from tests.e2e.test_tray_x11 import log_text, quit_app, running_app
from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import wait_until
from trayai.core.chat.history import HistoryStore
from trayai.core.paths import AppPaths

CHAT_TITLE = "^Chat"
MARKDOWN_REPLY = (
    "Here is a **Python** function that reverses a string:\n\n"
    '```python\ndef reverse(text: str) -> str:\n    """Return text backwards."""\n    return text[::-1]\n```\n\n'
    "- slicing with a step of `-1` walks backwards\n- strings are immutable, so a new one is made\n\n"
    'Call it like `reverse("trayai")` → `"iayart"`.'
)


def chat_window(desktop: Desktop) -> str:
    """The chat window's X id (waits for it)."""
    found: list[str] = []

    def visible() -> bool:
        out = desktop.run("xdotool", "search", "--onlyvisible", "--name", CHAT_TITLE, check=False).split()
        found[:] = out
        return bool(out)

    wait_until(visible, what="the chat window")
    return found[0]


def open_chat(desktop: Desktop) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "trayai.cli", "chat"],
        env=desktop.env,
        timeout=20,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    wid = chat_window(desktop)
    desktop.run("xdotool", "windowactivate", "--sync", wid, check=False)
    desktop.run("xdotool", "windowfocus", "--sync", wid, check=False)
    return wid


def test_chat_streams_markdown_stops_and_is_found_after_restart(
    desktop: Desktop, server: ScriptedServer, paths: AppPaths
) -> None:
    desktop.start_tray_host()
    server.script(Reply(text=MARKDOWN_REPLY, rate=60), Reply(n_tokens=3000, rate=30))
    with running_app(desktop, server, paths) as app:
        wait_until(lambda: "startup: tray shown" in log_text(paths), what="the tray icon")
        open_chat(desktop)
        desktop.run("xdotool", "type", "--delay", "20", "How do I reverse a string in Python?")
        desktop.run("xdotool", "key", "Return")
        wait_until(lambda: "ended: done" in log_text(paths), timeout=30, what="the first answer")
        first = desktop.screenshot("chat-markdown-answer")
        assert first.stat().st_size > 10_000

        desktop.run("xdotool", "type", "--delay", "20", "Now count to a thousand")
        desktop.run("xdotool", "key", "Return")
        wait_until(lambda: server.tokens_sent > 20 + len(MARKDOWN_REPLY.split()), what="streaming")
        desktop.screenshot("chat-streaming")
        desktop.run("xdotool", "key", "Escape")
        wait_until(lambda: "ended: stopped" in log_text(paths), what="Stop")
        assert server.wait_for_disconnect(5), "Esc did not close the stream"
        desktop.screenshot("chat-stopped")
        quit_app(desktop, app)

    with HistoryStore.in_dir(paths.data_dir) as history:
        conversation = history.list_conversations()[0]
        messages = history.messages(conversation.id)
    assert conversation.title == "How do I reverse a string in Python?"
    assert [(m.role, m.status) for m in messages] == [
        ("user", "done"),
        ("assistant", "done"),
        ("user", "done"),
        ("assistant", "stopped"),
    ]
    assert messages[1].content == MARKDOWN_REPLY and messages[3].content.startswith("tok0 tok1")

    with running_app(desktop, server, paths) as app:
        wait_until(lambda: log_text(paths).count("startup: tray shown") == 2, what="the second start")
        open_chat(desktop)
        desktop.run("xdotool", "key", "ctrl+f")
        desktop.run("xdotool", "type", "--delay", "20", "immutable")
        desktop.screenshot("chat-search-typed")
        desktop.run("xdotool", "key", "Return")  # opens the best hit
        wait_until(
            lambda: "opened conversation" in log_text(paths).split("startup: tray shown")[-1],
            what="the conversation opened from the search hit",
        )
        desktop.screenshot("chat-found-by-search")
        quit_app(desktop, app)
    assert f"opened conversation {conversation.id} at 1" in log_text(paths)
