"""Quick prompt actions in the window, the tray's Actions menu and the instance command (pytest-qt,
scripted server): what is sent is read back from the server, what is shown from the widgets."""

from __future__ import annotations

import asyncio
import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QClipboard, QGuiApplication
from PySide6.QtWidgets import QMenu, QWidget
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.conftest import client_for
from trayai.core.chat.history import HistoryStore
from trayai.core.paths import AppPaths
from trayai.core.settings.config import DEFAULT_ACTIONS, Action, Profile, Settings
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.ipc import socket_name
from trayai.ui.prompt import actions_row
from trayai.ui.prompt.window import QuickPromptWindow

EXPLAIN = "Explain this clearly and briefly:\n\n"


class Rig:
    def __init__(
        self, history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path, **kwargs: Any
    ) -> None:
        client = client_for(server.base_url, "dummy-key")
        self.controller = ChatController(
            history, lambda: ChatTarget(client=client, model="ai/smollm2", profile="p")
        )
        self.window = QuickPromptWindow(self.controller, state_file=tmp_path / "state.ini", **kwargs)
        qtbot.addWidget(self.window)
        self.outcomes: list[Any] = []
        self.controller.finished.connect(self.outcomes.append)
        self.controller.failed.connect(self.outcomes.append)

    async def wait(self, n: int, timeout: float = 10) -> Any:
        await until(lambda: len(self.outcomes) >= n, timeout, "an answer")
        await until(lambda: not self.window.answer.streaming, timeout, "the answer painted")
        return self.outcomes[n - 1]


def set_clipboard(text: str) -> None:
    QGuiApplication.clipboard().setText(text, QClipboard.Mode.Clipboard)


def sent(server: ScriptedServer) -> str:
    content: str = server.chat_requests()[-1].json["messages"][-1]["content"]
    return content


def test_key_1_explains_the_selection_and_the_answer_shows(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    """Offscreen has no X11 selection, so the selection is the clipboard's text, as on Windows/macOS."""
    rig = Rig(history, server, qtbot, tmp_path)
    set_clipboard("def double(x): return x * 2")
    server.script(Reply(text="It doubles its argument."))
    assert rig.window.summon()
    qtbot.keyClick(rig.window.input, Qt.Key.Key_1)
    outcome = run(rig.wait(1))
    assert outcome.status == "done"
    assert sent(server) == EXPLAIN + "def double(x): return x * 2"
    assert "It doubles its argument." in rig.window.answer.toPlainText()
    assert rig.window.status.text() == ""  # "Explain on the clipboard's text — Esc stops" while it ran
    assert rig.window.input.toPlainText() == ""  # the 1 ran the action, it was not typed
    conversation = history.list_conversations()[0]
    assert [m.role for m in history.messages(conversation.id)] == ["user", "assistant"]


def test_a_number_types_as_usual_once_the_box_has_text(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path
) -> None:
    rig = Rig(history, server, qtbot, tmp_path)
    set_clipboard("text")
    rig.window.summon()
    qtbot.keyClicks(rig.window.input, "a1")
    qtbot.keyClick(rig.window.input, Qt.Key.Key_9)  # and a key without an action types too
    assert rig.window.input.toPlainText() == "a19"
    assert server.chat_requests() == []


def test_a_number_without_an_action_types_itself(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path
) -> None:
    rig = Rig(history, server, qtbot, tmp_path)
    rig.window.summon()
    qtbot.keyClick(rig.window.input, Qt.Key.Key_7)
    assert rig.window.input.toPlainText() == "7"
    assert server.chat_requests() == []


def test_alt_number_runs_anytime_with_what_was_typed(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    ask = Action("Ask about it", "{input}\n\nAbout this:\n{selection}", 5)
    rig = Rig(history, server, qtbot, tmp_path, actions=[*DEFAULT_ACTIONS, ask])
    set_clipboard("the copied paragraph")
    rig.window.summon()
    qtbot.waitUntil(rig.window.isActiveWindow)  # Alt+number is a window shortcut
    qtbot.keyClicks(rig.window.input, "Is this right?")
    qtbot.keyClick(rig.window.input, Qt.Key.Key_5, Qt.KeyboardModifier.AltModifier)
    run(rig.wait(1))
    assert sent(server) == "Is this right?\n\nAbout this:\nthe copied paragraph"
    assert rig.window.input.toPlainText() == ""


def test_nothing_selected_or_copied_is_said_and_nothing_sent(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path
) -> None:
    rig = Rig(history, server, qtbot, tmp_path)
    QGuiApplication.clipboard().clear(QClipboard.Mode.Clipboard)
    rig.window.summon()
    qtbot.waitUntil(rig.window.isActiveWindow)  # Alt+number is a window shortcut
    qtbot.keyClick(rig.window.input, Qt.Key.Key_2)
    assert rig.window.status.text() == "“Summarise” needs text: nothing is selected or copied."
    assert "copy it to the clipboard" in rig.window.status.toolTip()
    assert server.chat_requests() == []
    qtbot.keyClick(rig.window.input, Qt.Key.Key_1, Qt.KeyboardModifier.AltModifier)
    assert rig.window.status.text().startswith("“Explain” needs text")


def test_an_action_is_a_new_exchange_and_follow_ups_continue_it(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    rig = Rig(history, server, qtbot, tmp_path)
    rig.window.summon()
    assert rig.window.send("an earlier question")
    run(rig.wait(1))
    set_clipboard("Bonjour tout le monde")
    assert rig.window.run_action_on_key(3)
    run(rig.wait(2))
    assert sent(server).endswith("Bonjour tout le monde")
    assert len(server.chat_requests()[-1].json["messages"]) == 1  # nothing of the earlier exchange
    assert rig.window.send("and in German?")
    run(rig.wait(3))
    assert len(server.chat_requests()[-1].json["messages"]) == 3
    assert len(history.list_conversations()) == 2


def test_the_row_lists_the_actions_and_every_control_has_a_name(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, tmp_path: Path
) -> None:
    rig = Rig(history, server, qtbot, tmp_path)
    rig.window.summon()
    row = rig.window.action_row
    assert row.isVisible()
    for key, name in ((1, "Explain"), (2, "Summarise"), (3, "Translate to English"), (4, "Fix grammar")):
        assert f'href="action:{key}"' in row.text() and name in row.text()
        assert f"{key}: {name}" in row.accessibleDescription()
    controls = [
        w
        for w in rig.window.findChildren(QWidget)
        if w.focusPolicy() != Qt.FocusPolicy.NoFocus or w in (row, rig.window.status)
    ]
    assert len(controls) >= 9
    unnamed = [w.objectName() or type(w).__name__ for w in controls if not w.accessibleName()]
    assert not unnamed, unnamed
    rig.window.set_actions([Action("<b>bold</b> & co", "{selection}", 6)])
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in row.text()  # a name is text, never markup
    rig.window.set_actions([])
    assert not row.isVisible()


def test_clicking_an_action_in_the_row_runs_it(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any], tmp_path: Path
) -> None:
    rig = Rig(history, server, qtbot, tmp_path)
    set_clipboard("Their going too the park.")
    rig.window.summon()
    rig.window.action_row.linkActivated.emit("action:4")
    run(rig.wait(1))
    assert sent(server).startswith("Correct the spelling and grammar")
    assert sent(server).endswith("Their going too the park.")


# --------------------------------------------------------------------------- the app


def settings_for(server: ScriptedServer) -> Settings:
    settings = Settings()
    settings.profiles = [Profile(name="Scripted", base_url=server.base_url)]
    settings.active_profile = "Scripted"
    return settings


def send_command(name: str, command: str) -> bool:
    """Another process, as a second `trayai` would be."""
    code = f"from trayai.ui.ipc import send_command; print(send_command({name!r}, {command!r}))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
    return out.stdout.strip() == "True"


def test_the_tray_actions_menu_runs_an_action(server: ScriptedServer, make_app: Any, run: Any) -> None:
    app = make_app(settings_for(server))
    server.script(Reply(text="A short summary."))
    set_clipboard("A very long text about many things.")

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.report is not None, what="start-up and the first poll")
        app.tray.refresh_menu()
        menu = app.tray.menu.findChild(QMenu, "actions")
        assert menu is not None and menu.title() == "&Actions"
        entries = menu.actions()
        assert [a.text() for a in entries] == [
            "&1  Explain",
            "&2  Summarise",
            "&3  Translate to English",
            "&4  Fix grammar",
        ]
        entries[1].trigger()
        window = app.chats.prompt_window
        assert window is not None and window.isVisible()
        await until(lambda: "A short summary." in window.answer.toPlainText(), what="the answer shown")
        await until(lambda: app.chats.prompt_chat is not None and not app.chats.prompt_chat.busy)
        assert sent(server) == "Summarise this in a few bullet points:\n\nA very long text about many things."
        app.request_quit()
        assert await asyncio.wait_for(task, 5) == 0

    run(go())


def test_prompt_action_commands_over_the_instance_socket(
    server: ScriptedServer, make_app: Any, run: Any, paths: AppPaths
) -> None:
    app = make_app(settings_for(server))
    name = socket_name(paths.data_dir)
    set_clipboard("Wie geht es dir?")
    server.script(Reply(text="How are you?"))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.report is not None, what="start-up and the first poll")
        assert await asyncio.to_thread(send_command, name, "prompt:action:Translate to English")
        await until(server.chat_requests, what="the action's request")
        assert sent(server).endswith("Wie geht es dir?")
        window = app.chats.prompt_window
        assert window is not None and window.isVisible()
        await until(lambda: "How are you?" in window.answer.toPlainText(), what="the answer shown")
        await until(lambda: app.chats.prompt_chat is not None and not app.chats.prompt_chat.busy)
        # well-formed but unknown here: accepted by the socket, then said by the app
        assert await asyncio.to_thread(send_command, name, "prompt:action:Nope")
        await until(lambda: app.tray.last_message is not None, what="the notification")
        assert app.tray.last_message is not None
        assert app.tray.last_message[0] == "No such quick prompt action"
        assert "'Explain', 'Summarise'" in app.tray.last_message[1]
        for bad in ("prompt:action:", "prompt:action:two\nlines", "prompt:action:" + "x" * 200):
            assert not await asyncio.to_thread(send_command, name, bad)
        assert len(server.chat_requests()) == 1
        app.request_quit()
        assert await asyncio.wait_for(task, 5) == 0

    run(go())


def test_saved_settings_reach_an_open_quick_prompt(server: ScriptedServer, make_app: Any, run: Any) -> None:
    app = make_app(settings_for(server))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.report is not None, what="the first poll")  # start-up is over
        app.commands.open_prompt()
        window = app.chats.prompt_window
        assert window is not None
        assert [a.name for a in window.prompt_actions] == [a.name for a in DEFAULT_ACTIONS]
        changed = copy.deepcopy(app.loaded.settings)
        changed.actions = [Action("Only one", "Just {selection}", 9)]
        app.session.apply(changed)
        assert [(a.name, a.key) for a in window.prompt_actions] == [("Only one", 9)]
        assert "Only one" in window.action_row.text()
        app.tray.refresh_menu()
        menu = app.tray.menu.findChild(QMenu, "actions")
        assert menu is not None and [a.text() for a in menu.actions()] == ["&9  Only one"]
        app.request_quit()
        assert await asyncio.wait_for(task, 5) == 0

    run(go())


def test_where_the_clipboard_comes_with_the_keyboard_an_action_waits_for_it(
    history: HistoryStore,
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Wayland offers the clipboard only once the quick prompt has the keyboard: an action run as it
    appears (a key binding, the tray) waits for the offer instead of saying nothing was copied; with
    no offer within the wait, it says what is missing. (tests/e2e/test_replace_wayland.py: the real one.)"""
    monkeypatch.setattr(actions_row, "_clipboard_follows_focus", lambda: True)
    rig = Rig(history, server, qtbot, tmp_path)
    set_clipboard("")
    server.script(Reply(text="It doubles its argument."))
    assert rig.window.summon()
    explain = next(action for action in DEFAULT_ACTIONS if action.name == "Explain")
    assert rig.window.run_action(explain)
    assert "reading the selection" in rig.window.status.text() and server.chat_requests() == []
    set_clipboard("def double(x): return x * 2")  # the compositor's offer arrives
    assert run(rig.wait(1)).status == "done"
    assert sent(server) == EXPLAIN + "def double(x): return x * 2"

    set_clipboard("")
    monkeypatch.setattr(actions_row, "FOCUS_WAIT_MS", 50)
    again = QuickPromptWindow(rig.controller, state_file=tmp_path / "again.ini")
    qtbot.addWidget(again)
    assert again.summon() and again.run_action(explain)
    qtbot.waitUntil(lambda: "needs text" in again.status.text(), timeout=5000)
    assert len(server.chat_requests()) == 1  # nothing more was asked
