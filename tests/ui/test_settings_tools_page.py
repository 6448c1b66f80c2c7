"""Settings ▸ Tools: servers imported from another app's JSON (secrets to the keychain, never the file),
a change the CLI made while the dialog was open kept on OK, policies per tool, Test against a real
stdio server (tests/support/hostile_mcp.py), and what the page refuses to save."""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import keyring
import pytest
from pytestqt.qtbot import QtBot

from tests.support.cli import cli
from tests.support.hostile_mcp import ARGV
from tests.support.waiting import until
from trayai.core.paths import AppPaths
from trayai.core.settings.memory_keyring import MemoryKeyring
from trayai.core.settings.secrets import TOOLS_SERVICE, SecretStore
from trayai.core.settings.store import ConfigStore
from trayai.core.tools.config import KEYCHAIN_REF, TransportKind
from trayai.ui.settings.dialog import SettingsDialog
from trayai.ui.settings.tools_page import ToolsPage

Run = Callable[[Coroutine[Any, Any, Any]], Any]
CLAUDE_DESKTOP = {
    "mcpServers": {
        "github": {
            "command": "npx",
            "args": ["-y", "@modelcontextprotocol/server-github"],
            "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_secret123", "LOG_LEVEL": "info"},
        },
        "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer abc"}},
    }
}


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    backend = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: backend)
    return backend


@pytest.fixture
def dialog(paths: AppPaths, qtbot: QtBot, memory: MemoryKeyring) -> Iterator[SettingsDialog]:
    paths.ensure()
    store = ConfigStore(paths)
    made = SettingsDialog(store.load(), SecretStore(memory), store)
    qtbot.addWidget(made)
    made.show()
    made.show_section("Tools")
    yield made


def mcp(paths: AppPaths) -> dict[str, Any]:
    servers: dict[str, Any] = json.loads((paths.config_dir / "mcp.json").read_text())["mcpServers"]
    return servers


def test_import_moves_secrets_to_the_keychain_and_keeps_a_cli_change(
    dialog: SettingsDialog, paths: AppPaths, memory: MemoryKeyring
) -> None:
    page = dialog.page(ToolsPage)
    assert page.import_text(json.dumps(CLAUDE_DESKTOP), "the clipboard") == ["github", "remote"]
    assert "Imported github, remote" in page.note.text()
    assert page.import_text(json.dumps(CLAUDE_DESKTOP), "the clipboard") == []  # already here: skipped
    assert "skipped github, remote" in page.note.text()
    code, _out, err = cli("tools", "add", "made-by-cli", "--command", *ARGV)  # while the dialog is open
    assert code == 0, err
    assert dialog.try_accept()
    servers = mcp(paths)
    assert list(servers) == ["made-by-cli", "github", "remote"]
    assert servers["github"]["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": KEYCHAIN_REF, "LOG_LEVEL": "info"}
    assert servers["remote"]["headers"] == {"Authorization": KEYCHAIN_REF}
    text = (paths.config_dir / "mcp.json").read_text()
    assert "ghp_secret123" not in text and "Bearer abc" not in text
    tools = SecretStore(memory, service=TOOLS_SERVICE)
    assert tools.get("github/env/GITHUB_PERSONAL_ACCESS_TOKEN") == "ghp_secret123"
    assert tools.get("remote/headers/Authorization") == "Bearer abc"


def test_a_policy_edit_merges_with_a_toggle_made_elsewhere(
    paths: AppPaths, qtbot: QtBot, memory: MemoryKeyring
) -> None:
    paths.ensure()
    entry = {"command": ARGV[0], "args": ARGV[1:], "tools": {"echo": "allow", "hang": "never"}}
    (paths.config_dir / "mcp.json").write_text(json.dumps({"mcpServers": {"hostile": entry}}))
    store = ConfigStore(paths)
    dialog = SettingsDialog(store.load(), SecretStore(memory), store)
    qtbot.addWidget(dialog)
    page = dialog.page(ToolsPage)
    combo = page.form.policy_combo("hang")
    assert combo is not None and combo.currentData() == "never"
    combo.setCurrentIndex(combo.findData("ask"))  # back to the default: asked first
    code, _out, err = cli("tools", "disable", "hostile")  # the tray's or the CLI's toggle meanwhile
    assert code == 0, err
    assert dialog.try_accept()
    saved = mcp(paths)["hostile"]
    assert saved["enabled"] is False  # theirs
    assert saved["tools"] == {"echo": "allow"}  # mine


def test_rename_and_remove(dialog: SettingsDialog, paths: AppPaths, memory: MemoryKeyring) -> None:
    page = dialog.page(ToolsPage)
    page.import_text(json.dumps(CLAUDE_DESKTOP), "servers.json")
    assert dialog.try_accept()
    store = ConfigStore(paths)
    again = SettingsDialog(store.load(), SecretStore(memory), store)
    page = again.page(ToolsPage)
    page.servers.setCurrentRow(0)
    page.form.name.setText("gh")
    page.servers.setCurrentRow(1)
    page.remove_server()
    assert again.try_accept()
    assert list(mcp(paths)) == ["gh"]
    tools = SecretStore(memory, service=TOOLS_SERVICE)
    assert tools.get("gh/env/GITHUB_PERSONAL_ACCESS_TOKEN") == "ghp_secret123"  # moved with the name
    assert tools.get("github/env/GITHUB_PERSONAL_ACCESS_TOKEN") is None
    assert tools.get("remote/headers/Authorization") is None  # removed with its server
    again.deleteLater()


def test_what_the_page_refuses(dialog: SettingsDialog, paths: AppPaths) -> None:
    page = dialog.page(ToolsPage)
    page.add_server()
    page.form.command.setText("")
    assert not dialog.try_accept()
    assert "the command is empty" in dialog.error_label.text()
    page.form.command.setText("uvx")
    page.form.values.setPlainText("NOT A PAIR")
    assert not dialog.try_accept()
    assert "expected NAME=value" in dialog.error_label.text()
    page.form.values.setPlainText("")
    page.add_server()
    page.form.name.setText("server-1")
    page.form.command.setText("uvx")
    assert not dialog.try_accept()
    assert "Two tool servers are called 'server-1'" in dialog.error_label.text()
    assert not (paths.config_dir / "mcp.json").exists()  # nothing saved


def test_test_button_lists_the_tools(dialog: SettingsDialog, run: Run) -> None:
    page = dialog.page(ToolsPage)
    page.add_server()
    page.form.command.setText(ARGV[0])
    page.form.args.setPlainText("\n".join(ARGV[1:]))
    page.form.store()
    page.run_test()
    assert "Testing server-1" in page.result.text()
    run(until(lambda: page.result.text().startswith("✓"), 20))
    assert "connected to hostile 1.0" in page.result.text()
    assert "7 tools: echo, hang, flood, crash, junk, bad, big" in page.result.text()
    assert page.form.tools.rowCount() == 7
    combo = page.form.policy_combo("echo")
    assert combo is not None and combo.currentData() == "ask"


def test_test_button_says_why_it_failed(dialog: SettingsDialog, run: Run) -> None:
    page = dialog.page(ToolsPage)
    page.add_server()
    page.form.command.setText(ARGV[0])
    page.form.args.setPlainText("\n".join([*ARGV[1:], "--exit-at-start"]))
    page.run_test()
    run(until(lambda: page.result.text().startswith("✗"), 20))
    assert "exited" in page.result.text() and "refusing to start" in page.result.text()


def test_an_sse_server_is_chosen_edited_and_saved_as_sse(dialog: SettingsDialog, paths: AppPaths) -> None:
    """The transport picker offers the older SSE transport; its URL and headers are kept as ``type: sse``,
    and the page shows it as SSE again when it is opened anew."""
    page = dialog.page(ToolsPage)
    page.add_server()
    form = page.form
    form.name.setText("old")
    form.kind.setCurrentIndex(form.kind.findData(TransportKind.SSE))
    assert form.kind.currentText() == "URL (SSE, older servers)"
    assert not form.command.isVisibleTo(form) and form.url.isVisibleTo(form)
    assert form.url.placeholderText().endswith("/sse") and form.values.accessibleName() == "Headers"
    form.url.setText("http://127.0.0.1:3001/sse")
    form.values.setPlainText("X-Team=a")
    assert dialog.try_accept()
    assert mcp(paths)["old"] == {
        "type": "sse",
        "url": "http://127.0.0.1:3001/sse",
        "headers": {"X-Team": "a"},
        "enabled": True,
    }
    store = ConfigStore(paths)
    again = SettingsDialog(store.load(), SecretStore(MemoryKeyring()), store)
    shown = again.page(ToolsPage).form
    assert TransportKind(shown.kind.currentData()) is TransportKind.SSE
    assert shown.url.text() == "http://127.0.0.1:3001/sse"
    again.deleteLater()
