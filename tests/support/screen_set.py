"""The rest of the screenshot set beside the chat, the quick prompt and the settings' first page
(tests/support/screens.py runs these in the same program, at its scale and theme): every settings
page, the tray menu, the quick prompt with its selection chip, the server · model picker open.
Each returns the names it wrote, for the test to check and a person to look at."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtGui import QClipboard, QGuiApplication
from PySide6.QtWidgets import QApplication, QMenu, QWidget

from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import MessageStatus
from trayai.core.embedded import RunState
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.modelmatch import match_model
from trayai.core.net.backends.records import ModelState
from trayai.core.picker import PickerChoice, PickerModel, picker_servers
from trayai.core.remedies import Situation, gui_help
from trayai.core.settings.config import Settings
from trayai.core.status import ServerState, StatusReport
from trayai.core.traymodel import BuiltinFacts, MenuModel, ServerEntry, menu_model
from trayai.ui.chat.error_bar import ErrorBar
from trayai.ui.chat.server_model_picker import ServerModelPicker
from trayai.ui.chat.window import ChatWindow
from trayai.ui.settings.dialog import SECTIONS, SettingsDialog
from trayai.ui.tray import TrayController


def slug(text: str) -> str:
    return re.sub(r"[^a-z]+", "-", text.lower()).strip("-")


def settle(app: QApplication, rounds: int = 5) -> None:
    for _ in range(rounds):
        app.processEvents()


def popup_shot(app: QApplication, menu: QMenu, anchor: QWidget, path: Path) -> None:
    """A menu opened below ``anchor``, grabbed as its own pixels (a popup is a window of its own)."""
    menu.popup(anchor.mapToGlobal(anchor.rect().bottomLeft()))
    deadline = time.monotonic() + 5
    while not menu.isVisible() and time.monotonic() < deadline:
        app.processEvents()
    settle(app)
    menu.grab().save(str(path))
    menu.close()


def settings_pages(app: QApplication, dialog: SettingsDialog, out: Path, suffix: str) -> list[str]:
    names = []
    for section in SECTIONS[1:]:  # the first page is settings-{suffix}.png
        dialog.show_section(section)
        settle(app)
        name = f"settings-{slug(section)}-{suffix}.png"
        dialog.grab().save(str(out / name))
        names.append(name)
    dialog.show_section(SECTIONS[0])
    return names


def tray_menu(app: QApplication, out: Path, suffix: str) -> list[str]:
    """The tray's menu as a person opens it: a ready server, its model, Servers ▸ with states."""
    settings = Settings()
    report = StatusReport(
        ServerState.READY,
        "http://127.0.0.1:8080/v1",
        "ai/smollm2",
        models=["ai/smollm2"],
        match=match_model("ai/smollm2", ["ai/smollm2"]),
    )
    servers = [
        ServerEntry(
            "Local (port 8080)",
            "Local (port 8080) — ready · llama.cpp (127.0.0.1:8080)",
            True,
            ServerState.READY,
        ),
        ServerEntry("ollama", "ollama — unreachable (box:11434)", False, ServerState.UNREACHABLE),
    ]

    def gather() -> MenuModel:
        return menu_model(
            settings=settings,
            overrides={},
            base_url="http://127.0.0.1:8080/v1",
            state=ServerState.READY,
            report=report,
            builtin=BuiltinFacts(RunState.RUNNING, True, "ai/smollm2", None, ["ai/smollm2"]),
            log_dir="/tmp",
            servers=servers,
        )

    tray = TrayController(gather, tray_available=False)
    anchor = QWidget()
    anchor.resize(10, 10)
    anchor.show()
    name = f"tray-menu-{suffix}.png"
    popup_shot(app, tray.menu, anchor, out / name)
    servers_menu = tray.menu.findChild(QMenu, "servers")
    assert servers_menu is not None
    sub = f"tray-servers-{suffix}.png"
    popup_shot(app, servers_menu, anchor, out / sub)
    anchor.close()
    tray.dispose()
    return [name, sub]


def prompt_with_chip(
    app: QApplication, prompt: QWidget, summon: Callable[[], object], out: Path, suffix: str
) -> list[str]:
    """The quick prompt summoned with text on the clipboard: the chip says what an action will use."""
    clipboard = QGuiApplication.clipboard()
    clipboard.setText("Photosynthesis converts light energy into chemical energy", QClipboard.Mode.Clipboard)
    summon()
    settle(app, 10)
    name = f"prompt-chip-{suffix}.png"
    prompt.grab().save(str(out / name))
    return [name]


def picker_open(app: QApplication, out: Path, suffix: str) -> list[str]:
    """The chat's server · model picker with its menu open: servers grouped, states shown."""
    servers = picker_servers(
        [("Local (port 8080)", "127.0.0.1:8080"), ("ollama", "box:11434"), ("vllm", "gpu:8000")],
        {
            "Local (port 8080)": ServerState.READY,
            "ollama": ServerState.UNREACHABLE,
            "vllm": ServerState.READY,
        },
        {
            "Local (port 8080)": (PickerModel("ai/smollm2", ModelState.LOADED), PickerModel("qwen3-4b")),
            "ollama": (PickerModel("llama3.2"),),
            "vllm": (PickerModel("Qwen/Qwen3-8B", ModelState.LOADED),),
        },
        "Local (port 8080)",
    )
    picker = ServerModelPicker()
    picker.show_servers(servers, PickerChoice("Local (port 8080)", "ai/smollm2"))
    picker.resize(picker.sizeHint())
    picker.show()
    settle(app)
    name = f"picker-{suffix}.png"
    popup_shot(app, picker.menu_, picker, out / name)
    picker.close()
    return [name]


def chat_states(
    app: QApplication, window: ChatWindow, store: HistoryStore, out: Path, suffix: str
) -> list[str]:
    """The chat as a person meets it: a new chat's empty state, the wait before the first token
    ("Waiting for qwen3:4b… 4 s"), and an error with the buttons that can fix it."""
    names = []
    window.new_conversation()
    settle(app)
    names.append(f"chat-empty-{suffix}.png")
    window.grab().save(str(out / names[-1]))
    conversation = store.create_conversation("Why is the sky blue?", model="qwen3:4b")
    store.add_message(conversation.id, "user", "Why is the sky blue?")
    window.open_conversation(conversation.id)
    waiting = store.add_message(
        conversation.id, "assistant", "", status=MessageStatus.STREAMING, meta={"model": "qwen3:4b"}
    )
    view = window.transcript
    now = [time.monotonic()]
    view.clock = lambda: now[0]
    view.begin_stream(waiting)
    now[0] += 4.2  # four seconds later, as the timer ticks
    view.tick_timer.timeout.emit()
    settle(app)
    names.append(f"chat-waiting-{suffix}.png")
    window.grab().save(str(out / names[-1]))
    view.tick_timer.stop()
    bar = ErrorBar("error-shot")
    error = make_error(ErrorCode.CONNECTION_REFUSED, "Nothing is listening on 127.0.0.1:8000")
    bar.show_help(gui_help(error, Situation(ready_servers=["ollama"], builtin_can_start=True)))
    bar.resize(560, bar.heightForWidth(560) if bar.hasHeightForWidth() else bar.sizeHint().height())
    settle(app)
    names.append(f"chat-error-{suffix}.png")
    bar.grab().save(str(out / names[-1]))
    bar.close()
    return names


__all__ = ["chat_states", "picker_open", "prompt_with_chip", "settings_pages", "tray_menu"]


def tray_menu_downloading(app: QApplication, out: Path, suffix: str) -> list[str]:
    """The tray's menu while models download from Get models…: the running one's progress, how many
    wait behind it (choosing either opens the window)."""
    # lazy: the download words are the library's, loaded only by this shot
    from trayai.core.library.download import Progress
    from trayai.core.library.feedback import queued_words, tray_progress

    step = Progress(2_150_000_000, 5_000_000_000, 12_100_000, 236.0)
    lines = [tray_progress("qwen3-4b", step), queued_words(2)]

    def gather() -> MenuModel:
        return menu_model(
            settings=Settings(),
            overrides={},
            base_url="http://127.0.0.1:8080/v1",
            state=ServerState.READY,
            report=StatusReport(
                ServerState.READY,
                "http://127.0.0.1:8080/v1",
                "ai/smollm2",
                models=["ai/smollm2"],
                match=match_model("ai/smollm2", ["ai/smollm2"]),
            ),
            builtin=BuiltinFacts(RunState.RUNNING, True, "ai/smollm2", None, ["ai/smollm2"]),
            log_dir="/tmp",
            downloads=lines,
        )

    tray = TrayController(gather, tray_available=False)
    anchor = QWidget()
    anchor.resize(10, 10)
    anchor.show()
    name = f"tray-downloads-{suffix}.png"
    popup_shot(app, tray.menu, anchor, out / name)
    anchor.close()
    tray.dispose()
    return [name]


__all__ += ["tray_menu_downloading"]
