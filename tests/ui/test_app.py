"""The tray app in-process (offscreen: no tray → the status window) against the scripted server."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMenu

from tests.support.scripted_server import ScriptedServer
from tests.support.waiting import until
from trayai.core.paths import AppPaths
from trayai.core.settings.config import Profile, Settings
from trayai.core.status import ServerState
from trayai.ui.ipc import socket_name
from trayai.ui.tray import NO_TRAY_MESSAGE


def settings_for(server: ScriptedServer) -> Settings:
    settings = Settings()
    settings.profiles = [
        Profile(name="Scripted", base_url=server.base_url),
        Profile(name="Nowhere", base_url="http://127.0.0.1:9/v1"),
    ]
    settings.active_profile = "Scripted"
    settings.poll_interval = 1.0
    return settings


def builtin_with_a_copy(tmp_path: Path) -> Settings:
    """The built-in one-model server as the endpoint, on a free port, with SmolLM2 also in its models
    folder as ``tiny-copy.gguf`` (a second model to switch to: the server restarts with it). The
    on-demand front, the default, serves every file at once: tests/integration/test_tray_builtin.py."""
    from tests.support.ports import free_port
    from trayai.core.embedded import bundled_model_path

    bundled = bundled_model_path()
    assert bundled is not None
    folder = tmp_path / "models"
    folder.mkdir()
    (folder / "tiny-copy.gguf").symlink_to(bundled)
    port = free_port()
    settings = Settings()
    settings.profiles = [Profile(name="Built-in", base_url=f"http://127.0.0.1:{port}/v1")]
    settings.active_profile = "Built-in"
    settings.poll_interval = 1.0
    settings.builtin_server.port = port
    settings.builtin_server.models_dir = str(folder)
    settings.builtin_server.context_size = 1024
    settings.builtin_server.on_demand = False
    return settings


def texts(menu: QMenu) -> list[str]:
    return [a.text() for a in menu.actions() if not a.isSeparator()]


def submenu(menu: QMenu, name: str) -> QMenu:
    found = menu.findChild(QMenu, name)
    assert found is not None
    return found


def test_status_window_menu_and_model_switch(
    server: ScriptedServer, make_app: Any, run: Any, paths: AppPaths
) -> None:
    server.models = ["ai/smollm2", "ai/qwen3"]
    app = make_app(settings_for(server))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.state is ServerState.READY)
        window = app.tray.window
        assert window is not None and window.isVisible()  # no tray here: the status window
        assert NO_TRAY_MESSAGE in window.notice.text()
        assert "ready" in window.state_label.text()
        app.tray.refresh_menu()
        menu = app.tray.menu
        items = texts(menu)
        assert items[0].startswith("Ready — ai/smollm2 · 127.0.0.1:")
        status = next(a for a in menu.actions() if a.objectName() == "status")
        assert status.isEnabled() and not status.icon().isNull()  # readable, with its state's colour
        assert "Open &chat" in items and "&Quit" in items
        models = submenu(menu, "models")
        choices = [a for a in models.actions() if a.isCheckable()]
        assert [a.text() for a in choices] == ["ai/smollm2", "ai/qwen3"]
        assert [a.isChecked() for a in choices] == [True, False]
        # A generic server cannot say what is loaded, and the menu says so instead of guessing.
        assert models.actions()[-1].text() == "OpenAI-compatible · cannot tell what is loaded"
        choices[1].trigger()  # the user picks another model
        await until(
            lambda: app.monitor.report is not None and app.monitor.report.resolved_model == "ai/qwen3"
        )
        saved = json.loads(paths.config_file.read_text())
        assert saved["profiles"][0]["model"] == "ai/qwen3"
        servers = submenu(menu, "servers")
        choices = [a for a in servers.actions() if a.isCheckable()]
        assert [a.data() for a in choices] == ["Scripted", "Nowhere"]
        assert choices[0].text().startswith("Scripted — ready") and choices[0].isChecked()
        choices[1].trigger()
        await until(lambda: app.monitor.state is ServerState.UNREACHABLE)
        assert json.loads(paths.config_file.read_text())["active_profile"] == "Nowhere"
        assert "Nothing is listening on 127.0.0.1:9" in app.tray.tooltip
        app.request_quit()
        assert await task == 0

    run(go())


def test_env_override_locks_the_model_menu(
    server: ScriptedServer, make_app: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LOCAL_MODEL_NAME", "ai/smollm2")
    app = make_app(settings_for(server))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.state is ServerState.READY)
        app.tray.refresh_menu()
        models = submenu(app.tray.menu, "models")
        first = models.actions()[0]
        assert first.text() == "Set by LOCAL_MODEL_NAME (environment)" and not first.isEnabled()
        assert not models.actions()[1].isEnabled()
        app.request_quit()
        await task

    run(go())


def test_ipc_commands_reach_the_app(server: ScriptedServer, make_app: Any, run: Any, paths: AppPaths) -> None:
    import subprocess
    import sys

    app = make_app(settings_for(server))
    name = socket_name(paths.data_dir)

    def send_command(_name: str, command: str) -> bool:
        """Another process, as a second `trayai` would be."""
        code = f"from trayai.ui.ipc import send_command; print(send_command({_name!r}, {command!r}))"
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=20)
        return out.stdout.strip() == "True"

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.tray.window is not None and app.tray.window.isVisible(), what="start-up")
        assert await asyncio.to_thread(send_command, name, "chat")
        await until(lambda: app.chats.chat_window is not None and app.chats.chat_window.isVisible())
        assert await asyncio.to_thread(send_command, name, "settings")
        await until(lambda: app.settings_opener.dialog is not None and app.settings_opener.dialog.isVisible())
        assert await asyncio.to_thread(send_command, name, "prompt")
        await until(lambda: app.chats.prompt_window is not None)
        assert (
            app.chats.prompt_window is not None and not app.chats.prompt_window.isVisible()
        )  # never over a dialog
        app.settings_opener.dialog.reject()
        assert await asyncio.to_thread(send_command, name, "prompt")
        await until(lambda: app.chats.prompt_window is not None and app.chats.prompt_window.isVisible())
        assert not await asyncio.to_thread(send_command, name, "format-disk")  # unknown: refused
        assert await asyncio.to_thread(send_command, name, "quit")
        assert await asyncio.wait_for(task, 5) == 0

    run(go())


def test_closing_the_status_window_quits(server: ScriptedServer, make_app: Any, run: Any) -> None:
    app = make_app(settings_for(server))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.tray.window is not None and app.tray.window.isVisible())
        assert app.tray.window is not None
        app.tray.window.close()  # never run invisibly
        assert await asyncio.wait_for(task, 5) == 0

    run(go())


def test_chat_from_the_app_shows_generating_then_speed_in_the_tooltip(
    server: ScriptedServer, make_app: Any, run: Any, paths: AppPaths
) -> None:
    from tests.support.scripted_server import Reply

    app = make_app(settings_for(server))
    server.script(Reply(n_tokens=40, rate=40))
    states: list[Any] = []
    app.monitor.state_changed.connect(states.append)

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.state is ServerState.READY)
        app.commands.open_chat()
        assert (
            app.chats.chat is not None
            and app.chats.chat_window is not None
            and app.chats.chat_window.isVisible()
        )
        assert app.chats.chat.send("count for me")
        await until(lambda: app.monitor.state is ServerState.GENERATING)
        await until(lambda: not app.chats.chat.busy and "Last answer:" in app.tray.tooltip, timeout=10)
        await until(lambda: app.monitor.state is ServerState.READY)
        assert (paths.data_dir / "history.sqlite3").exists()
        app.request_quit()
        assert await asyncio.wait_for(task, 5) == 0

    run(go())
    assert ServerState.GENERATING in states
    assert "tok/s" in app.tray.tooltip


# Known leak, reported (not fixed here: trayai/ is another change's): quitting while an answer
# streams leaves that HTTP connection's transport to the garbage collector.
@pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")
def test_quitting_mid_answer_saves_it_as_stopped(
    server: ScriptedServer, make_app: Any, run: Any, paths: AppPaths
) -> None:
    from tests.support.scripted_server import Reply
    from trayai.core.chat.history import HistoryStore

    app = make_app(settings_for(server))
    server.script(Reply(n_tokens=1000, rate=50))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        app.commands.open_chat()
        assert app.chats.chat is not None and app.chats.chat.send("long")
        await until(lambda: "tok3" in app.chats.chat.streaming_text, timeout=10)
        app.request_quit()
        assert await asyncio.wait_for(task, 5) == 0

    run(go())
    assert server.wait_for_disconnect(5)
    with HistoryStore.in_dir(paths.data_dir) as history:
        conversation = history.list_conversations()[0]
        answer = history.messages(conversation.id)[-1]
    assert answer.status == "stopped" and answer.content.startswith("tok0 tok1 tok2 tok3")


def test_settings_dialog_switches_the_live_endpoint(
    server: ScriptedServer, make_app: Any, run: Any, paths: AppPaths
) -> None:
    app = make_app(settings_for(server))
    other = ScriptedServer(models=["ai/qwen3"]).start()
    try:

        async def go() -> None:
            task = asyncio.ensure_future(app.run())
            await until(lambda: app.monitor.state is ServerState.READY)
            app.commands.handle("settings")
            dialog = app.settings_opener.dialog
            assert dialog is not None and dialog.isVisible()
            app.commands.handle("settings")  # a second request raises the same dialog
            assert app.settings_opener.dialog is dialog
            dialog.profiles_page.add_profile()
            dialog.profiles_page.name_edit.setText("Second server")
            dialog.profiles_page.url_edit.setText(other.base_url)
            assert await dialog.profiles_page.checks.refresh_models() == ["ai/qwen3"]
            dialog.profiles_page.use_current()
            dialog.general_page.editors["poll_interval"].widget.setValue(2)
            assert dialog.try_accept()
            await until(lambda: app.session.resolved.base_url == other.base_url)
            await until(
                lambda: (
                    app.monitor.state is ServerState.READY
                    and app.monitor.report is not None
                    and app.monitor.report.models == ["ai/qwen3"]
                )
            )
            assert app.monitor.logic.policy.interval == 2
            assert app.status.menu_model().active_profile == "Second server"
            assert app.settings_opener.dialog is None
            app.request_quit()
            assert await asyncio.wait_for(task, 5) == 0

        run(go())
    finally:
        other.stop()
    saved = json.loads(paths.config_file.read_text())
    assert saved["active_profile"] == "Second server" and saved["poll_interval"] == 2.0


def test_start_at_login_from_the_dialog_writes_and_removes_the_autostart_entry(
    server: ScriptedServer, make_app: Any, run: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    entry = tmp_path / "xdg" / "autostart" / "trayai.desktop"
    app = make_app(settings_for(server))

    async def toggle(on: bool) -> None:
        app.commands.open_settings()
        dialog = app.settings_opener.dialog
        assert dialog is not None
        dialog.general_page.editors["start_at_login"].widget.setChecked(on)
        assert dialog.try_accept()
        await until(lambda: entry.exists() is on)

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await toggle(True)
        assert "Exec=" in entry.read_text()
        await toggle(False)
        app.request_quit()
        assert await asyncio.wait_for(task, 5) == 0

    run(go())


# A kept-alive connection the scripted server closed is sent again: when, depends on timing.
@pytest.mark.expect_log("trayai.core.net.transport", "dropped the request before answering", optional=True)
def test_hotkey_status_reaches_tooltip_and_settings(
    server: ScriptedServer, make_app: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("DISPLAY", "WAYLAND_DISPLAY", "XDG_SESSION_TYPE"):
        monkeypatch.delenv(name, raising=False)  # no session to grab keys in: say so, offer the command
    app = make_app(settings_for(server))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.hotkeys.status is not None)
        assert app.hotkeys.status is not None and not app.hotkeys.status.active
        assert "Hotkey:" in app.tray.tooltip and "trayai prompt" in app.tray.tooltip
        app.commands.open_settings()
        dialog = app.settings_opener.dialog
        assert dialog is not None and "trayai prompt" in dialog.hotkey_page.hotkey_state.text()
        from PySide6.QtGui import QKeySequence

        dialog.hotkey_page.hotkey_edit.setKeySequence(QKeySequence("Shift+A"))  # no Ctrl/Alt/Super: refused
        assert not dialog.try_accept() and "besides Shift" in dialog.error_label.text()
        dialog.hotkey_page.hotkey_edit.clear()
        assert dialog.try_accept()
        await until(lambda: app.hotkeys.status is not None and "No hotkey set" in app.hotkeys.status.message)
        await until(lambda: QApplication.activeModalWidget() is None)
        app.commands.open_prompt()  # the command path still works
        assert app.chats.prompt_window is not None and app.chats.prompt_window.isVisible()
        app.request_quit()
        assert await asyncio.wait_for(task, 5) == 0

    run(go())


# Known leak, reported (not fixed here: trayai/ is another change's): quitting while an answer
# streams leaves that HTTP connection's transport to the garbage collector.
@pytest.mark.filterwarnings("ignore:unclosed:ResourceWarning")
def test_quick_prompt_exchange_continues_in_the_chat_window(
    server: ScriptedServer, make_app: Any, run: Any
) -> None:
    from tests.support.scripted_server import Reply

    app = make_app(settings_for(server))
    server.script(Reply(text="It is 4."))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        app.commands.open_prompt()
        window = app.chats.prompt_window
        assert window is not None and window.isVisible() and app.chats.prompt_chat is not None
        assert window.send("What is 2+2?")
        await until(lambda: not app.chats.prompt_chat.busy and window.chat_button.isEnabled(), timeout=10)
        conversation = app.chats.prompt_chat.conversation_id
        window.chat_button.click()
        assert (
            app.chats.chat_window is not None and app.chats.chat_window.isVisible() and not window.isVisible()
        )
        assert app.chats.chat is not None and app.chats.chat.conversation_id == conversation
        assert "It is 4." in app.chats.chat_window.transcript.toPlainText()
        app.request_quit()
        assert await asyncio.wait_for(task, 5) == 0

    run(go())


@pytest.mark.integration
# A kept-alive connection the built-in server closed is sent again: when, depends on timing.
@pytest.mark.expect_log("trayai.core.net.transport", "dropped the request before answering", optional=True)
def test_choosing_a_model_from_the_models_folder_restarts_the_builtin_server_with_it(
    make_app: Any, run: Any, paths: AppPaths, tmp_path: Any
) -> None:
    """Built-in server ▸ a dropped-in .gguf: the real engine restarts serving it under its name."""
    app = make_app(builtin_with_a_copy(tmp_path))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        app.builtin.start()
        await until(lambda: app.monitor.state is ServerState.READY, timeout=60)
        app.tray.refresh_menu()
        server_menu = submenu(app.tray.menu, "server")
        choices = [a for a in server_menu.actions() if a.isCheckable()]
        assert [(a.text(), a.isChecked()) for a in choices] == [("ai/smollm2", True), ("tiny-copy", False)]
        pid_before = app.server.server.pid
        choices[1].trigger()
        await until(
            lambda: (
                app.monitor.report is not None
                and app.monitor.report.resolved_model == "tiny-copy"
                and app.monitor.state is ServerState.READY
            ),
            timeout=60,
        )
        assert app.server.server.pid != pid_before  # a new child, one model at a time
        saved = json.loads(paths.config_file.read_text())
        assert saved["builtin_server"]["model_file"].endswith("tiny-copy.gguf")
        assert saved["profiles"][0]["model"] == "tiny-copy"
        app.request_quit()
        assert await task == 0
        assert not app.server.server.is_running()

    run(go())


def test_tray_text_never_shows_an_echoed_key_or_server_markup(
    server: ScriptedServer, make_app: Any, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.scripted_server import Reply

    monkeypatch.setenv("LOCAL_API_KEY", "sekrit-key-1234")
    server.echo_auth = True
    server.models_reply = Reply(
        status=500, error_message="<img src='file:///etc/hostname'> <b>boom</b>", repeat=True
    )
    app = make_app(settings_for(server))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.state is ServerState.ERROR)
        assert any("sekrit-key-1234" in r.headers.get("authorization", "") for r in server.requests)
        tooltip = app.tray.tooltip
        assert "boom" in tooltip  # the server's words are there…
        assert "sekrit-key-1234" not in tooltip and "<" not in tooltip  # …inert, without the key
        window = app.tray.window
        assert window is not None and window.detail_label.textFormat() == Qt.TextFormat.PlainText
        assert "sekrit-key-1234" not in window.detail_label.text()
        app.tray.refresh_menu()
        assert not any("sekrit-key-1234" in t for t in texts(app.tray.menu))
        app.request_quit()
        assert await task == 0

    run(go())


def test_the_status_window_shows_every_line_whole(server: ScriptedServer, make_app: Any, run: Any) -> None:
    """Slip 5: the no-tray window clipped its last hint line (a fixed 460×170 for wrapped text)."""
    from tests.support.fitting import clipped, settle

    app = make_app(settings_for(server))

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.state is ServerState.READY)
        window = app.tray.window
        assert window is not None
        app.tray.message("Model loaded", "qwen3 is in memory and ready to answer your next question")
        settle(window)
        assert clipped(window) == []
        window.resize(360, window.height())  # narrower: the wrapped lines need more height
        settle(window)
        assert clipped(window) == []
        app.request_quit()
        assert await task == 0

    run(go())


def test_settings_appearance_switches_the_running_app_and_back(
    server: ScriptedServer, make_app: Any, run: Any
) -> None:
    import copy

    from PySide6.QtGui import QPalette

    from trayai.core.theme import DARK

    app = make_app(settings_for(server))
    qapp = QApplication.instance()
    assert isinstance(qapp, QApplication)
    desktop = qapp.palette().color(QPalette.ColorRole.Window).name()

    async def go() -> None:
        task = asyncio.ensure_future(app.run())
        await until(lambda: app.monitor.state is ServerState.READY)
        dark = copy.deepcopy(app.session.settings)
        dark.appearance = "dark"
        app.session.apply(dark)  # as Settings ▸ OK does
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == DARK.window
        system = copy.deepcopy(app.session.settings)
        system.appearance = "system"
        app.session.apply(system)
        assert qapp.palette().color(QPalette.ColorRole.Window).name() == desktop
        app.request_quit()
        assert await task == 0

    run(go())
