"""Screenshots of the chat window, the quick prompt and the settings dialog, in a light or dark
palette at the scale ``QT_SCALE_FACTOR`` sets (it must be set before Qt starts: hence a program).

Usage: ``QT_SCALE_FACTOR=2 python -m tests.support.screens OUT_DIR light|dark`` → PNGs named
``chat-light-2x.png`` and so on, for a person to look at (tests/ui/test_screenshots.py runs it).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QStyleFactory

from trayai.core.config import LoadedConfig, Settings
from trayai.core.history import HistoryStore
from trayai.core.secrets import MemoryKeyring, SecretStore
from trayai.ui.chat.controller import ChatController, ChatTarget

ANSWER = """Here is a function that adds two numbers:

```python
def add(a: int, b: int) -> int:
    return a + b
```

It works for **any** integers, and `add(2, 3)` gives `5`.
"""
THOUGHT = "The user wants a small Python function. Type hints help; keep it short."


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, "#e6e6e6"),
        (QPalette.ColorRole.Base, "#1e1e1e"),
        (QPalette.ColorRole.AlternateBase, "#2a2d32"),
        (QPalette.ColorRole.Text, "#e6e6e6"),
        (QPalette.ColorRole.Button, "#353535"),
        (QPalette.ColorRole.ButtonText, "#e6e6e6"),
        (QPalette.ColorRole.Highlight, "#3d6fb6"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.PlaceholderText, "#9a9a9a"),
        (QPalette.ColorRole.Link, "#8ab4f8"),
        (QPalette.ColorRole.Mid, "#6a6a6a"),
    ):
        palette.setColor(role, QColor(colour))
    return palette


def demo_history(folder: Path) -> tuple[HistoryStore, int]:
    store = HistoryStore(folder / "history.sqlite3")
    older = store.create_conversation("Trip ideas for the weekend")
    store.add_message(older.id, "user", "Trip ideas for the weekend")
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "Write a Python function that adds two numbers")
    first = store.add_message(conv.id, "assistant", "def add(a, b): return a + b", meta={"model": "qwen3:4b"})
    store.keep_version(first.id)
    store.truncate_from(first.id, keep_versions=True)
    answer = store.add_message(
        conv.id,
        "assistant",
        ANSWER,
        meta={
            "model": "qwen3:4b",
            "completion_tokens": 61,
            "tokens_per_second": 48.2,
            "ttft_s": 0.21,
            "finish_reason": "stop",
            "thinking_s": 1.4,
        },
    )
    store.update_message(answer.id, thinking=THOUGHT)
    store.keep_version(answer.id)
    store.set_pinned(older.id, pinned=True)
    return store, conv.id


def main() -> None:
    out, theme = Path(sys.argv[1]), sys.argv[2]
    scale = os.environ.get("QT_SCALE_FACTOR", "1")
    app = QApplication(sys.argv[:1])
    app.setStyle(QStyleFactory.create("Fusion"))
    if theme == "dark":
        app.setPalette(dark_palette())
    from trayai.core.client import Endpoint, ModelClient
    from trayai.ui.chat.window import ChatWindow
    from trayai.ui.prompt.window import QuickPromptWindow
    from trayai.ui.settings.dialog import SettingsDialog

    with tempfile.TemporaryDirectory() as tmp:
        store, conversation = demo_history(Path(tmp))
        client = ModelClient(Endpoint.create("http://127.0.0.1:9/v1", "dummy-key"))
        controller = ChatController(
            store, lambda: ChatTarget(client=client, model="qwen3:4b", profile="demo")
        )
        window = ChatWindow(controller, store)
        window.resize(900, 620)
        window.show()
        window.open_conversation(conversation)
        app.processEvents()
        suffix = f"{theme}-{scale}x"
        window.grab().save(str(out / f"chat-{suffix}.png"))
        prompt = QuickPromptWindow(
            ChatController(store, lambda: ChatTarget(client=client, model="qwen3:4b", profile="demo"))
        )
        prompt.show()
        prompt.input.setPlainText("Explain what a closure is")
        app.processEvents()
        prompt.grab().save(str(out / f"prompt-{suffix}.png"))
        dialog = SettingsDialog(LoadedConfig(Settings()), SecretStore(MemoryKeyring()), lambda _s: None)
        dialog.show()
        app.processEvents()
        dialog.grab().save(str(out / f"settings-{suffix}.png"))
        for widget in (dialog, prompt, window):
            widget.close()
        store.close()
    print(out)


if __name__ == "__main__":
    main()
