"""The rest of the screenshot set beside the chat, the quick prompt and the settings' first page
(tests/support/screens.py runs these in the same program, at its scale and theme): every settings
page, the tray menu, the quick prompt with its selection chip, the server · model picker open.
Each returns the names it wrote, for the test to check and a person to look at."""

from __future__ import annotations

import json
import re
import tempfile
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
from trayai.core.redact import Redactor
from trayai.core.remedies import Situation, gui_help
from trayai.core.settings.config import Settings
from trayai.core.settings.memory_keyring import MemoryKeyring
from trayai.core.settings.secrets import SecretStore
from trayai.core.status import ServerState, StatusReport
from trayai.core.tools.config import ToolsStore
from trayai.core.tools.hub import ServerStatus, ToolServerState
from trayai.core.tools.listing import ToolInfo
from trayai.core.traymodel import BuiltinFacts, MenuModel, ServerEntry, menu_model
from trayai.ui.chat.error_bar import ErrorBar
from trayai.ui.chat.server_model_picker import ServerModelPicker
from trayai.ui.chat.window import ChatWindow
from trayai.ui.settings.dialog import SECTIONS, SettingsDialog
from trayai.ui.tools_keeper import ToolsKeeper
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
    """The tray's menu as a person opens it: a ready server, its model, Servers ▸ and Tools ▸ with states."""
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

    with tempfile.TemporaryDirectory() as folder:
        tools = ShownTools(ToolsStore(Path(folder) / "mcp.json", SecretStore(MemoryKeyring())), Redactor())
        tray = TrayController(gather, tray_available=False, tools=tools)
        anchor = QWidget()
        anchor.resize(10, 10)
        anchor.show()
        name = f"tray-menu-{suffix}.png"
        popup_shot(app, tray.menu, anchor, out / name)
        names = [name]
        servers_menu = tray.menu.findChild(QMenu, "servers")
        assert servers_menu is not None and tray.tools is not None
        for sub, shot in ((servers_menu, "tray-servers"), (tray.tools.menu, "tray-tools")):
            names.append(f"{shot}-{suffix}.png")
            popup_shot(app, sub, anchor, out / names[-1])
        anchor.close()
        tray.dispose()
    return names


class ShownTools(ToolsKeeper):
    """Tools ▸ as it looks with three servers: connected, failed (with why), off."""

    def statuses(self) -> list[ServerStatus]:
        tools = tuple(ToolInfo("time", name, "", {}) for name in ("get_current_time", "convert_time"))
        return [
            ServerStatus("time", ToolServerState.CONNECTED, tools=tools),
            ServerStatus(
                "github",
                ToolServerState.FAILED,
                "exited while starting (exit code 1)",
                restarts=2,
            ),
            ServerStatus("fetch", ToolServerState.DISABLED),
        ]

    def reload(self) -> None:
        """Shown as set above: no file is read."""


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
    view.wait_line.timer.timeout.emit()
    settle(app)
    names.append(f"chat-waiting-{suffix}.png")
    window.grab().save(str(out / names[-1]))
    view.wait_line.timer.stop()
    bar = ErrorBar("error-shot")
    error = make_error(ErrorCode.CONNECTION_REFUSED, "Nothing is listening on 127.0.0.1:8000")
    bar.show_help(gui_help(error, Situation(ready_servers=["ollama"], builtin_can_start=True)))
    bar.resize(560, bar.heightForWidth(560) if bar.hasHeightForWidth() else bar.sizeHint().height())
    settle(app)
    names.append(f"chat-error-{suffix}.png")
    bar.grab().save(str(out / names[-1]))
    bar.close()
    return names


def tools_servers(app: QApplication, dialog: SettingsDialog, out: Path, suffix: str) -> list[str]:
    """Settings ▸ Tools with servers imported (not saved: the dialog is closed without OK)."""
    # lazy: only this shot needs the page's class
    from trayai.ui.settings.tools_page import ToolsPage

    page = dialog.page(ToolsPage)
    sample = {
        "mcpServers": {
            "time": {"command": "uvx", "args": ["mcp-server-time", "--local-timezone", "Europe/Paris"]},
            "github": {
                "command": "npx",
                "args": ["-y", "@modelcontextprotocol/server-github"],
                "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "${keychain}"},
                "tools": {"search_repositories": "allow", "create_issue": "never"},
            },
            "remote": {"url": "https://mcp.example.com/mcp", "enabled": False},
        }
    }
    page.import_text(json.dumps(sample), "claude_desktop_config.json")
    page.servers.setCurrentRow(1)
    dialog.show_section("Tools")
    settle(app)
    name = f"settings-tools-servers-{suffix}.png"
    dialog.grab().save(str(out / name))
    return [name]


def tool_cards(
    app: QApplication, window: ChatWindow, store: HistoryStore, out: Path, suffix: str
) -> list[str]:
    """A tool call as the chat shows it: the card waiting for Allow once / Always / Deny, and a
    finished exchange reopened from history with the card's result folded open."""
    # lazy: the tool modules only where their shots are drawn
    from trayai.core.chat.history_wire import TOOL_CALL_ID, TOOL_CALLS, TOOL_NAME
    from trayai.ui.chat.tool_cards import CARD_META, ToolCard

    arguments = '{\n  "timezone": "Asia/Tokyo"\n}'
    call = {
        "id": "call_1",
        "type": "function",
        "function": {"name": "time__get_current_time", "arguments": ""},
    }
    result = (
        '{\n  "timezone": "Asia/Tokyo",\n  "datetime": "2026-12-07T19:42:10+09:00",\n  "is_dst": false\n}'
    )
    conversation = store.create_conversation("Time in Tokyo", model="qwen3:4b")
    store.add_message(conversation.id, "user", "What time is it in Tokyo?")
    store.add_message(
        conversation.id,
        "assistant",
        "Let me check the clock.",
        meta={"model": "qwen3:4b", TOOL_CALLS: [call]},
    )
    window.open_conversation(conversation.id)
    waiting = ToolCard("time/get_current_time", arguments).waiting()
    window.transcript.append_card(-1, waiting)
    window.tool_approval.ask(-1, waiting)  # as the chat asks it: the bar under the transcript
    settle(app)
    names = [f"chat-tool-waiting-{suffix}.png"]
    window.grab().save(str(out / names[-1]))
    look = {"title": "time/get_current_time", "arguments": arguments, "outcome": "ran", "seconds": 0.04}
    tool = store.add_message(
        conversation.id,
        "tool",
        result,
        meta={TOOL_CALL_ID: "call_1", TOOL_NAME: "time__get_current_time", CARD_META: look},
    )
    store.add_message(
        conversation.id,
        "assistant",
        "It is **19:42** in Tokyo (JST, UTC+9).",
        meta={"model": "qwen3:4b", "completion_tokens": 14, "duration_s": 0.4, "tokens_per_second": 35.0},
    )
    window.tool_approval.clear()  # answered
    window.open_conversation(conversation.id)
    window.transcript.cards.toggle(tool.id, window.transcript.renderer.palette)
    settle(app)
    names.append(f"chat-tool-done-{suffix}.png")
    window.grab().save(str(out / names[-1]))
    return names


def _streaming(window: ChatWindow, store: HistoryStore, question: str) -> tuple[Callable[[float], None], int]:
    """A new conversation with ``question`` asked and its answer streaming on a clock the shot moves."""
    conversation = store.create_conversation(question, model="qwen3:4b")
    store.add_message(conversation.id, "user", question)
    window.open_conversation(conversation.id)
    placeholder = store.add_message(
        conversation.id, "assistant", "", status=MessageStatus.STREAMING, meta={"model": "qwen3:4b"}
    )
    now = [time.monotonic()]
    window.transcript.clock = lambda: now[0]
    window.transcript.begin_stream(placeholder)

    def later(seconds: float) -> None:
        now[0] += seconds

    return later, conversation.id


def feedback_states(
    app: QApplication, window: ChatWindow, store: HistoryStore, out: Path, suffix: str
) -> list[str]:
    """Feedback at every wait (issue 25): thinking live with its timer running, thinking expanded in
    its bordered, tinted box, and the prompt being read ("Reading the prompt… 45 %" over its bar) —
    each at the window's size and at 480 px."""
    # lazy: the screenshot program imports what it shows when it shows it
    from trayai.core.net.prompt_progress import PromptProgress

    names: list[str] = []
    view = window.transcript
    size = window.size()

    def shoot(name: str) -> None:
        for width, tag in ((size.width(), ""), (480, "-480")):
            window.resize(width, size.height())
            settle(app)
            view.scroll_to_bottom()
            settle(app)
            names.append(f"{name}{tag}-{suffix}.png")
            window.grab().save(str(out / names[-1]))
        window.resize(size)

    later, _ = _streaming(window, store, "Is 1,001 a prime number?")
    later(1.0)
    view.add_thinking(
        "1,001 is odd, so not divisible by 2. Digit sum 2: not by 3. It does not end in 0 or 5. "
        "Try 7: 7 × 143 = 1,001. So it is not prime; 143 = 11 × 13, so 1,001 = 7 × 11 × 13."
    )
    view.flush()
    later(6.3)
    view.wait_line.timer.timeout.emit()  # the timer runs: "Thinking… 7 s"
    shoot("chat-thinking-live")
    view.wait_line.timer.stop()
    conversation = store.list_conversations()[-1]  # the demo chat: its answer has thinking
    for listed in store.list_conversations():
        if any(m.thinking for m in store.messages(listed.id)):
            conversation = listed
    window.open_conversation(conversation.id)
    answer = next(m for m in reversed(store.messages(conversation.id)) if m.thinking)
    view.toggle_thinking(answer.id)
    shoot("chat-thinking-expanded")
    later, _ = _streaming(window, store, "Summarise this report (pasted, 4,096 tokens)")
    later(3.4)
    view.wait_line.show_progress(PromptProgress(4096, 1840))
    shoot("chat-reading")
    view.wait_line.timer.stop()
    return names


def prompt_rewrite(
    app: QApplication, prompt: QWidget, store: HistoryStore, out: Path, suffix: str
) -> list[str]:
    """The quick prompt after a rewrite action (Fix grammar) answered: Replace selection and Paste —
    as on X11 (where the paste key reaches the window) and where it cannot (Copy, with why) — and at
    480 px."""
    # lazy: the screenshot program imports what it shows when it shows it
    from trayai.core.paste_route import PasteRoute, PasteWay
    from trayai.core.settings.config import DEFAULT_ACTIONS
    from trayai.ui.prompt.window import QuickPromptWindow

    assert isinstance(prompt, QuickPromptWindow)
    action = next(a for a in DEFAULT_ACTIONS if a.name == "Fix grammar")
    conversation = store.create_conversation("Fix grammar", model="qwen3:4b")
    store.add_message(conversation.id, "user", f"{action.template[:40]}… teh cat sat on teh mat")
    answer = store.add_message(
        conversation.id,
        "assistant",
        "The cat sat on the mat.",
        meta={
            "model": "qwen3:4b",
            "completion_tokens": 7,
            "tokens_per_second": 52.0,
            "finish_reason": "stop",
        },
    )
    prompt.answer.clear_messages()
    prompt.answer.append_message(answer)
    prompt.answer.show()
    prompt.show_asked("Fix grammar on the selection")
    prompt.rewrite.action_started(action)
    prompt.copy_button.setEnabled(True)  # as after a real answer (the window enables them when it ends)
    prompt.chat_button.setEnabled(True)
    names: list[str] = []
    size = prompt.size()
    replacer = prompt.rewrite.replacer
    kept = replacer.way
    for way, tag in ((PasteWay(PasteRoute.XTEST), ""), (kept, "-copy")):
        replacer.way, replacer.target = way, 0x400001  # the window the selection was in
        prompt.rewrite.answer_ended(whole=True)
        for width, narrow in ((size.width(), ""), (480, "-480")):
            prompt.resize(width, 420)
            settle(app, 10)
            names.append(f"prompt-rewrite{tag}{narrow}-{suffix}.png")
            prompt.grab().save(str(out / names[-1]))
    replacer.way, replacer.target = kept, None
    prompt.resize(size)
    return names


__all__ = [
    "chat_states",
    "feedback_states",
    "message_actions",
    "picker_open",
    "prompt_rewrite",
    "prompt_with_chip",
    "settings_pages",
    "tool_cards",
    "tools_servers",
    "tray_menu",
]


def message_actions(
    app: QApplication, window: ChatWindow, store: HistoryStore, out: Path, suffix: str
) -> list[str]:
    """Issue 25's message controls: a hovered answer with its icon buttons, an edited question with
    ‹ 1/2 › and its buttons, a question with a text file and an image before and after Edit (the chips
    back in the tray), and the hovered answer and the branches at 480 px."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QColor, QImage, QPainter

    from trayai.core.chat.attachments import Attachment, AttachmentKind

    folder = store.path.parent / "shots"
    folder.mkdir(exist_ok=True)
    notes = folder / "notes.txt"
    notes.write_text("Santiago Cathedral, 1211\nSeville Cathedral, 1506\n", encoding="utf-8")
    chart = QImage(240, 150, QImage.Format.Format_RGB32)
    chart.fill(QColor("#4a90d9"))
    painter = QPainter(chart)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(chart.rect(), Qt.AlignmentFlag.AlignCenter, "Hello chart")
    painter.end()
    chart.save(str(folder / "chart.png"))
    files = [
        Attachment(AttachmentKind.TEXT, "notes.txt", "text/plain", notes, notes.stat().st_size),
        Attachment(AttachmentKind.IMAGE, "chart.png", "image/png", folder / "chart.png", 2048),
    ]
    names: list[str] = []

    def shoot(name: str) -> None:
        settle(app)
        names.append(f"{name}-{suffix}.png")
        window.grab().save(str(out / names[-1]))

    view = window.transcript
    conv = store.create_conversation("A name for a cat?", model="qwen3:4b")
    first = store.add_message(conv.id, "user", "A name for a cat?")
    store.add_message(conv.id, "assistant", "**Tom** is a classic.", meta={"model": "qwen3:4b"})
    edited = store.branch_from(first.id, "A name for a dog?")
    answer = store.add_message(
        conv.id,
        "assistant",
        "How about **Rex**? Short, strong and easy to call across a park.",
        meta={
            "model": "qwen3:4b",
            "completion_tokens": 14,
            "tokens_per_second": 51.0,
            "finish_reason": "stop",
        },
    )
    store.update_message(answer.id, thinking="A dog's name: short, two syllables at most.")
    window.open_conversation(conv.id)
    view.toolbar.show_for(answer.id)
    shoot("chat-hover-actions")
    view.toolbar.show_for(edited.id)
    shoot("chat-branches")
    size = window.size()
    window.resize(480, size.height())
    settle(app)
    view.toolbar.show_for(answer.id)
    shoot("chat-hover-actions-480")
    view.toolbar.show_for(edited.id)
    shoot("chat-branches-480")
    window.resize(size)
    with_files = store.create_conversation("Summarise the notes and describe the picture.", model="qwen3:4b")
    question = store.add_message(with_files.id, "user", "Summarise the notes and describe the picture.")
    store.add_attachments(question.id, files)
    store.add_message(
        with_files.id, "assistant", "Two cathedrals; a blue chart saying hello.", meta={"model": "qwen3:4b"}
    )
    window.open_conversation(with_files.id)
    view.toolbar.show_for(question.id)
    shoot("chat-edit-attachments-before")
    window.message_actions.start_edit(question.id)  # the chips come back with the words
    view.toolbar.hide_toolbar()
    shoot("chat-edit-attachments-after")
    window.message_actions.cancel_edit()
    return names


def model_settings_editor(app: QApplication, out: Path, suffix: str) -> list[str]:
    """Get models ▸ Settings… of a downloaded 8B model on a machine with 7.1 GB free: as it opens (auto
    context with its fit, a temperature and a template set), then with a context too large for it."""
    import tempfile

    from trayai.core.library.fit import ModelShape
    from trayai.core.library.model_settings import Machine, ModelFacts
    from trayai.core.library.reload import OnDemandServer
    from trayai.core.paths import AppPaths
    from trayai.core.settings.store import ConfigStore
    from trayai.ui.library.model_settings_dialog import ModelSettingsDialog, ModelSettingsSources

    shape = ModelShape(layers=36, kv_heads=8, key_length=128, value_length=128, context_length=40_960)
    names: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = ConfigStore(AppPaths.from_env({"TRAYAI_CONFIG_DIR": tmp, "TRAYAI_DATA_DIR": tmp}))
        sources = ModelSettingsSources(
            store, Machine(7_100_000_000, 3, gpu=False), ModelFacts(5_030_000_000, shape), OnDemandServer(9)
        )
        dialog = ModelSettingsDialog("Qwen3-8B-Q4_K_M", sources)
        dialog.temperature.setValue(0.6)
        dialog.top_k.setValue(20)
        dialog.template.setCurrentText("chatml")
        dialog.resize(520, dialog.sizeHint().height())
        dialog.show()
        settle(app)
        names.append(f"model-settings-{suffix}.png")
        dialog.grab().save(str(out / names[-1]))
        dialog.context.setValue(32_768)
        settle(app)
        names.append(f"model-settings-too-large-{suffix}.png")
        dialog.grab().save(str(out / names[-1]))
        dialog.close()
    return names


__all__ += ["model_settings_editor"]


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
