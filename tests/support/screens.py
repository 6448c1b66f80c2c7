"""Screenshots of the chat window, the quick prompt and the settings dialog, in a light or dark
palette at the scale ``QT_SCALE_FACTOR`` sets (it must be set before Qt starts: hence a program).

Usage: ``QT_SCALE_FACTOR=2 python -m tests.support.screens OUT_DIR light|dark`` → PNGs named
``chat-light-2x.png`` and so on, for a person to look at (tests/ui/test_screenshots.py runs it).

``python -m tests.support.screens OUT_DIR narrow`` on a real display: the chat and every settings
page at 480 px (``narrow-chat-x11.png``, ``narrow-settings-x11.png``…, named after the platform),
checked with ``fitting.py`` at 480 px, the minimum size and the default width; prints the problems
and the files as JSON (tests/e2e/test_narrow_x11.py runs it). ``screenshot_at_width`` does not
depend on the window system, so the same program serves a Wayland session.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QStyleFactory, QWidget

from tests.support.fitting import clipped, settle, unreachable_inputs
from tests.support.waiting import wait_until
from trayai.core.chat.history import HistoryStore
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Preset, Settings
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import ConfigStore, LoadedConfig
from trayai.core.theme import Appearance
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.theme import AppearanceKeeper

ANSWER = """Here is a function that adds two numbers:

```python
def add(a: int, b: int) -> int:
    return a + b
```

It works for **any** integers, and `add(2, 3)` gives `5`.
"""
THOUGHT = "The user wants a small Python function. Type hints help; keep it short."


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


def platform_tag() -> str:
    """``x11``, ``wayland``, ``offscreen``…: the window system the screenshots were taken on."""
    name = QGuiApplication.platformName()
    return {"xcb": "x11"}.get(name, name)


def resized(window: QWidget, width: int, height: int | None = None, timeout: float = 10.0) -> None:
    """Ask for ``width`` (and ``height``) and wait until the window system has applied it and the
    layouts have settled (on a real display a resize is a round trip to the server)."""
    wanted_height = window.height() if height is None else height
    window.resize(width, wanted_height)
    pumped(
        lambda: window.width() == width and window.height() == wanted_height,
        f"{window.windowTitle()!r} to become {width}x{wanted_height}",
        timeout,
    )
    settle(window)


def screenshot_at_width(window: QWidget, width: int, path: Path, height: int | None = None) -> Path:
    """``window`` at ``width`` px (and ``height``), saved as the PNG ``path``, which is returned.

    What the screen shows when the platform can grab it (X11: the real window, compositing and all),
    else the widget painted into a pixmap (Wayland forbids grabbing the screen): nothing here is
    specific to one window system.
    """
    resized(window, width, height)
    pixmap = QPixmap()
    screen = window.screen()
    if QGuiApplication.platformName() == "xcb" and screen is not None:
        pixmap = screen.grabWindow(window.winId())
    if pixmap.isNull() or pixmap.width() < window.width():
        pixmap = window.grab()
    path.parent.mkdir(parents=True, exist_ok=True)
    if not pixmap.save(str(path)):
        raise OSError(f"could not write {path}")
    return path


NARROW = 480
NARROW_PRESETS = [
    Preset("Terse reviewer", "Answer in one line.", 0.2, 64),
    Preset("Pirate", "Arr.", None, None),
]


def pumped(predicate: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    """``wait_until`` for a program that is its own Qt event loop: events are processed between polls."""

    def check() -> object:
        QApplication.processEvents()
        return predicate()

    wait_until(check, timeout, what)


def _show(window: QWidget) -> None:
    window.show()
    window.raise_()
    window.activateWindow()
    pumped(window.isActiveWindow, f"{window.windowTitle()!r} to be active")


def press(window: QWidget, keys: str, qt_key: Qt.Key, modifier: Qt.KeyboardModifier) -> None:
    """Real key presses through the X server when there is one (mnemonics need them), else QTest's."""
    if QGuiApplication.platformName() == "xcb" and shutil.which("xdotool"):
        subprocess.run(["xdotool", "key", "--clearmodifiers", keys], check=True, timeout=20)
    else:
        QTest.keyClick(window, qt_key, modifier)


def narrow_screens(out: Path, folder: Path) -> dict[str, object]:
    """The chat and the settings at 480 px on this display: screenshots and what does not fit."""
    from trayai.core.net.client import Endpoint, ModelClient
    from trayai.ui.chat.window import ChatWindow
    from trayai.ui.settings.dialog import SECTIONS, SettingsDialog

    tag = platform_tag()
    problems: dict[str, list[str]] = {}
    shots: list[str] = []

    def check(where: str, window: QWidget, page: QWidget | None = None) -> None:
        found = clipped(window) + (unreachable_inputs(page, window) if page is not None else [])
        if found:
            problems[where] = found

    def shoot(window: QWidget, name: str) -> None:
        shots.append(str(screenshot_at_width(window, NARROW, out / f"{name}-{tag}.png")))

    store, conversation = demo_history(folder)
    client = ModelClient(Endpoint.create("http://127.0.0.1:9/v1", "dummy-key"))
    controller = ChatController(store, lambda: ChatTarget(client=client, model="qwen3:4b", profile="demo"))
    chat = ChatWindow(controller, store, presets=lambda: NARROW_PRESETS)
    _show(chat)
    chat.open_conversation(conversation)
    controller.set_options(temperature=0.3, max_tokens=512, system_prompt="Be brief.")
    chat.open_conversation(conversation)  # shows the options just set
    default = chat.size()
    shoot(chat, "narrow-chat")
    check("chat at 480", chat)
    press(chat, "ctrl+b", Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)  # the list instead of the chat
    pumped(lambda: chat.sidebar.isVisible() and not chat.main_pane.isVisible(), "Ctrl+B to show the list")
    shoot(chat, "narrow-chat-list")
    check("chat list at 480", chat)
    press(chat, "Escape", Qt.Key.Key_Escape, Qt.KeyboardModifier.NoModifier)  # back to the chat
    pumped(lambda: chat.main_pane.isVisible() and not chat.sidebar.isVisible(), "Esc to show the chat")
    settle(chat)
    button = chat.options_bar.options_button
    popover = chat.options_bar.popover
    popover.popup(button.mapToGlobal(button.rect().bottomLeft()))
    pumped(popover.isVisible, "the Options popover")
    settle(popover)
    path = out / f"narrow-chat-options-{tag}.png"
    popover.grab().save(str(path))  # a popup: its own pixels, wherever the screen put it
    shots.append(str(path))
    check("chat options popover", popover)
    popover.close()
    resized(chat, chat.minimumWidth(), chat.minimumHeight())
    check("chat at its minimum size", chat)
    resized(chat, default.width(), default.height())
    check("chat at its default size", chat)
    chat.close()

    dialog = SettingsDialog(
        LoadedConfig(Settings()), SecretStore(MemoryKeyring()), ConfigStore(AppPaths.from_env())
    )
    _show(dialog)
    default = dialog.size()
    for index, section in enumerate(SECTIONS):
        dialog.show_section(section)
        slug = "" if index == 0 else "-" + re.sub(r"[^a-z]+", "-", section.lower()).strip("-")
        shoot(dialog, f"narrow-settings{slug}")
        check(f"settings {section} at 480", dialog, dialog.pages.currentWidget())
        for width, height in (
            (dialog.minimumWidth(), dialog.minimumHeight()),
            (default.width(), default.height()),
        ):
            resized(dialog, width, height)
            check(f"settings {section} at {width}x{height}", dialog, dialog.pages.currentWidget())
        resized(dialog, NARROW, default.height())
    dialog.show_section(SECTIONS[0])
    settle(dialog)
    before = dialog.profiles_page.profiles.count()
    press(dialog, "alt+a", Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)  # &Add, the list above the form
    pumped(lambda: dialog.profiles_page.profiles.count() == before + 1, "Alt+A (Add) to add a profile")
    dialog.close()
    store.close()
    return {"platform": tag, "problems": problems, "shots": shots}


def library_screens(out: Path, theme: str, folder: Path) -> list[str]:
    """Tray ▸ Get models… at its default width and at 480 px: a model downloading, one paused, one
    downloaded and in use, one gated (with the token field), the models that do not fit shown; with the
    controls cut short listed (none expected)."""
    import asyncio

    import qasync

    from tests.support.waiting import until
    from trayai.core.embedded import LocalModel
    from trayai.core.error_catalog import ErrorCode
    from trayai.core.errors import make_error
    from trayai.core.library.download import Progress
    from trayai.core.library.feedback import Paused, trouble_for
    from trayai.core.library.machine import MachineMemory
    from trayai.ui.library.downloads import Phase, TargetStatus
    from trayai.ui.library.window import LibrarySources, LibraryWindow

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    AppearanceKeeper(app).apply(Appearance(theme))  # the app's own light or dark palette
    scale = os.environ.get("QT_SCALE_FACTOR", "1")
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    memory = MachineMemory(16_000_000_000, 6_000_000_000)
    on_disk = [
        LocalModel("ai/smollm2", Path("SmolLM2-135M-Instruct.Q4_1.gguf"), 98_900_000, bundled=True),
        LocalModel("Qwen3-0.6B-Q8_0", folder / "Qwen3-0.6B-Q8_0.gguf", 639_400_000),
    ]
    sources = LibrarySources(
        SecretStore(MemoryKeyring()), lambda: folder, memory=lambda: memory, local_models=lambda: on_disk
    )
    window = LibraryWindow(sources)
    window.show()

    async def judged() -> None:
        await until(lambda: window.rows, what="the catalog judged")
        await until(lambda: len(window.local.rows) == 2, what="the models on this machine")

    loop.run_until_complete(judged())
    rows = {row.pick.model.name: row for row in window.rows}
    gated = trouble_for(make_error(ErrorCode.HUB_GATED, "bartowski/Llama-3.2-1B-Instruct-GGUF needs a token"))
    statuses = {
        "qwen3-0.6b": TargetStatus(Phase.DONE, path=folder / "Qwen3-0.6B-Q8_0.gguf", verified=True),
        "qwen3-1.7b": TargetStatus(
            Phase.DOWNLOADING, progress=Progress(476_000_000, 1_107_409_472, 11_800_000, 53.0)
        ),
        "qwen3-4b": TargetStatus(Phase.QUEUED),
        "gemma-3-1b": TargetStatus(Phase.PAUSED, paused=Paused(346_000_000, 806_058_272)),
        "llama-3.2-1b": TargetStatus(Phase.FAILED, trouble=gated),
    }
    for name, status in statuses.items():
        rows[name].controls.show_status(status)
    rows["qwen3-0.6b"].settings_button.show()  # downloaded: its own settings (the window shows it so)
    rows["qwen3-0.6b"].controls.show_use(
        "Ready: the built-in server answers with Qwen3-0.6B-Q8_0. Ask in the chat.", "success"
    )
    window.show_count(2)
    window.token.show()
    window.toggle.click()
    shots: list[str] = []
    problems: list[str] = []
    for name, width in (("library", 760), ("library-narrow", NARROW)):
        resized(window, width, 900)
        problems += [f"{name}: {problem}" for problem in clipped(window)]
        path = out / f"{name}-{theme}-{scale}x.png"
        window.grab().save(str(path))
        shots.append(str(path))
    resized(window, 760, 900)
    window.scroller.ensureWidgetVisible(rows["gemma-3-1b"], 0, 0)  # paused, gated, what does not fit
    window.scroller.verticalScrollBar().setValue(rows["gemma-3-1b"].y())
    settle(window)
    path = out / f"library-more-{theme}-{scale}x.png"
    window.grab().save(str(path))
    shots.append(str(path))
    window.scroller.verticalScrollBar().setValue(window.toggle.y() - 200)  # the models that do not fit
    settle(window)
    path = out / f"library-too-large-{theme}-{scale}x.png"
    window.grab().save(str(path))
    shots.append(str(path))
    loop.run_until_complete(window.shutdown())
    window.close()
    loop.close()  # joins its worker threads: a QThread left running aborts the program at exit
    asyncio.set_event_loop(None)
    return [*shots, *problems]


def main() -> None:
    out, theme = Path(sys.argv[1]), sys.argv[2]
    scale = os.environ.get("QT_SCALE_FACTOR", "1")
    app = QApplication(sys.argv[:1])
    app.setStyle(QStyleFactory.create("Fusion"))
    if theme == "library":  # python -m tests.support.screens OUT_DIR library light|dark
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(library_screens(out, sys.argv[3], Path(tmp))))
        return
    if theme == "narrow":
        with tempfile.TemporaryDirectory() as tmp:
            print(json.dumps(narrow_screens(out, Path(tmp))))
        return
    AppearanceKeeper(app).apply(Appearance(theme))  # the app's own light or dark palette
    from tests.support.screen_set import (
        chat_states,
        feedback_states,
        message_actions,
        model_settings_editor,
        picker_open,
        prompt_rewrite,
        prompt_with_chip,
        settings_pages,
        tool_cards,
        tools_servers,
        tray_menu,
    )
    from trayai.core.net.client import Endpoint, ModelClient
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
        prompt.input.clear()
        written = prompt_with_chip(app, prompt, prompt.summon, out, suffix)
        dialog = SettingsDialog(
            LoadedConfig(Settings()), SecretStore(MemoryKeyring()), ConfigStore(AppPaths.from_env())
        )
        dialog.resize(dialog.DEFAULT_WIDTH, 560)  # not capped by the screen: the same layout at every scale
        dialog.show()
        app.processEvents()
        dialog.grab().save(str(out / f"settings-{suffix}.png"))
        written += settings_pages(app, dialog, out, suffix)
        written += tray_menu(app, out, suffix)
        from tests.support.screen_set import tray_menu_downloading

        written += tray_menu_downloading(app, out, suffix)
        written += picker_open(app, out, suffix)
        written += chat_states(app, window, store, out, suffix)
        written += feedback_states(app, window, store, out, suffix)
        written += prompt_rewrite(app, prompt, store, out, suffix)
        written += message_actions(app, window, store, out, suffix)
        written += tool_cards(app, window, store, out, suffix)
        written += tools_servers(app, dialog, out, suffix)
        written += model_settings_editor(app, out, suffix)
        (out / f"more-{suffix}.txt").write_text("\n".join(written) + "\n")
        for widget in (dialog, prompt, window):
            widget.close()
        store.close()
    print(out)


if __name__ == "__main__":
    main()
