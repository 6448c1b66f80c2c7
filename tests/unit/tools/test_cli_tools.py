"""``trayai tools``: list, add, remove, enable, disable, import, test (with the hostile server as the
stdio server it tests); secrets typed or imported end in the keychain, never in mcp.json or argv."""

from __future__ import annotations

import io
import json

import keyring
import pytest

from tests.support.cli import cli
from tests.support.hostile_mcp import ARGV
from trayai.core.paths import AppPaths
from trayai.core.settings.memory_keyring import MemoryKeyring
from trayai.core.settings.secrets import TOOLS_SERVICE
from trayai.core.tools.config import MCP_FILE_NAME


@pytest.fixture(autouse=True)
def backend(monkeypatch: pytest.MonkeyPatch) -> MemoryKeyring:
    """The keychain the CLI finds (keyring's own lookup, as in a real run)."""
    memory = MemoryKeyring()
    monkeypatch.setattr(keyring, "get_keyring", lambda: memory)
    return memory


def _file(paths: AppPaths) -> dict[str, dict[str, object]]:
    data: dict[str, dict[str, object]] = json.loads((paths.config_dir / MCP_FILE_NAME).read_text())[
        "mcpServers"
    ]
    return data


def test_add_list_enable_disable_remove(paths: AppPaths) -> None:
    code, out, err = cli("tools", "list")
    assert code == 0 and out == "" and "no tool servers yet" in err
    code, _, err = cli("tools", "add", "h", "--timeout", "5", "--command", *ARGV)
    assert code == 0 and "added tool server 'h'" in err
    assert _file(paths)["h"] == {"command": ARGV[0], "args": ARGV[1:], "enabled": True, "timeout": 5.0}
    code, _, err = cli("tools", "add", "h", "--command", "other")
    assert code == 1 and "already configured: h (--replace to replace)" in err
    assert cli("tools", "disable", "h")[0] == 0
    code, out, _ = cli("tools", "list")
    assert out.startswith("disabled  h: ")
    assert cli("tools", "enable", "h")[0] == 0
    code, out, _ = cli("tools", "list", "--json")
    data = json.loads(out)
    assert data["servers"][0] | {"where": ""} == {
        "name": "h",
        "transport": "stdio",
        "enabled": True,
        "where": "",
        "timeout": 5.0,
        "policies": {},
        "keychain": [],
    }
    code, _, err = cli("tools", "remove", "h")
    assert code == 0 and _file(paths) == {}
    code, _, err = cli("tools", "remove", "h")
    assert code != 0 and "No tool server named 'h'" in err


def test_usage_mistakes(paths: AppPaths) -> None:
    code, _, err = cli("tools", "add", "x")
    assert code == 2 and "either --command COMMAND ARG… (last) or --url URL" in err
    code, _, err = cli("tools", "add", "x", "--url", "http://127.0.0.1:9/mcp", "--command", "cmd")
    assert code == 2
    code, _, err = cli("tools", "add", "x", "--command")
    assert code == 2
    code, _, err = cli("tools", "add", "x", "--url", "ftp://nowhere")
    assert code != 0 and "not an http(s) URL" in err
    code, _, err = cli("tools", "add", "x", "--sse", "--command", "cmd")
    assert code == 2 and "--sse goes with --url URL" in err


def test_an_sse_server_is_added_and_listed_as_such(paths: AppPaths) -> None:
    code, _, err = cli("tools", "add", "old", "--url", "http://127.0.0.1:3001/sse", "--sse")
    assert code == 0, err
    assert _file(paths)["old"] == {"type": "sse", "url": "http://127.0.0.1:3001/sse", "enabled": True}
    code, out, _ = cli("tools", "list")
    assert out == "enabled   old: http://127.0.0.1:3001/sse (SSE)\n"
    code, out, _ = cli("tools", "list", "--json")
    assert json.loads(out)["servers"][0]["transport"] == "sse"


def test_a_secret_value_is_asked_for_and_kept_in_the_keychain(
    paths: AppPaths, backend: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("ghp_typed_secret\n"))
    code, _, err = cli(
        "tools", "add", "gh", "--env", "GITHUB_TOKEN", "--env", "LOG=debug", "--command", "gh-mcp"
    )
    assert code == 0, err
    assert "GITHUB_TOKEN stored in in-memory keyring (tests), not in the file" in err
    assert _file(paths)["gh"]["env"] == {"GITHUB_TOKEN": "${keychain}", "LOG": "debug"}
    assert backend.get_password(TOOLS_SERVICE, "gh/env/GITHUB_TOKEN") == "ghp_typed_secret"
    code, out, _ = cli("tools", "list")
    assert "env GITHUB_TOKEN: in the keychain" in out and "ghp_typed_secret" not in out
    assert cli("tools", "remove", "gh")[0] == 0
    assert backend.get_password(TOOLS_SERVICE, "gh/env/GITHUB_TOKEN") is None  # forgotten with it


def test_import_another_apps_file(paths: AppPaths, backend: MemoryKeyring, tmp_path: object) -> None:
    source = paths.config_dir.parent / "claude_desktop_config.json"
    source.write_text(
        json.dumps(
            {
                "mcpServers": {
                    "h": {"command": ARGV[0], "args": ARGV[1:]},
                    "web": {
                        "url": "https://mcp.example.com/mcp",
                        "headers": {"Authorization": "Bearer sk-9876"},
                    },
                }
            }
        )
    )
    code, out, err = cli("tools", "import", str(source), "--json")
    assert code == 0, err
    assert json.loads(out)["imported"] == ["h", "web"]
    assert "sk-9876" not in (paths.config_dir / MCP_FILE_NAME).read_text()
    assert backend.get_password(TOOLS_SERVICE, "web/headers/Authorization") == "Bearer sk-9876"
    code, out, err = cli("tools", "import", str(source))  # again: the same names are skipped, not doubled
    assert code == 0 and "skipped 'h': already configured" in err and "skipped 'web'" in err
    code, _, err = cli("tools", "import", str(paths.config_dir / "nope.json"))
    assert code != 0 and "Cannot read" in err


def test_import_from_stdin(paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO('{"time": {"command": "uvx", "args": ["mcp-server-time"]}}'))
    code, _, err = cli("tools", "import", "-")
    assert code == 0 and "imported tool server 'time'" in err
    monkeypatch.setattr("sys.stdin", io.StringIO("not json"))
    code, _, err = cli("tools", "import", "-")
    assert code != 0 and "stdin is not JSON" in err


def test_test_connects_and_lists_the_tools_with_timing(paths: AppPaths) -> None:
    assert cli("tools", "add", "h", "--command", *ARGV)[0] == 0
    code, out, err = cli("tools", "test", "h")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("h: connected to hostile 1.0 in ") and lines[0].endswith(" ms, 7 tools")
    assert lines[1:3] == ["  echo", "      misbehaves: echo"]
    code, out, _ = cli("tools", "test", "h", "--json")
    data = json.loads(out)
    assert data["ok"] and data["server"] == "hostile 1.0" and data["seconds"] > 0
    assert data["tools"][0] == {"name": "echo", "description": "misbehaves: echo", "read_only": False}


def test_test_says_why_a_server_does_not_start(paths: AppPaths) -> None:
    assert cli("tools", "add", "x", "--command", *ARGV, "--exit-at-start")[0] == 0
    code, out, err = cli("tools", "test", "x")
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "error: Tool server 'x' exited (exit code 2) while starting",
        "  server said: hostile: refusing to start",
        "  → Run `trayai tools test NAME` to see why (the server's stderr is shown); fix the command, URL or env "
        "in `mcp.json` (`trayai config path` shows the folder).",
    ]
    code, out, _ = cli("tools", "test", "x", "--json")
    assert code == 1 and json.loads(out)["error"]["code"] == "tool_server_failed"


def test_without_a_keychain_secrets_are_refused_not_lost(
    paths: AppPaths, monkeypatch: pytest.MonkeyPatch
) -> None:
    from keyring.backends import fail

    monkeypatch.setattr(keyring, "get_keyring", fail.Keyring)
    code, _, err = cli("tools", "add", "gh", "--env", "GITHUB_TOKEN=ghp_nowhere", "--command", "gh-mcp")
    assert code == 1 and "error: no working keychain" in err and "export them in your environment" in err
    assert not (paths.config_dir / MCP_FILE_NAME).exists()
    assert cli("tools", "add", "plain", "--env", "LOG=debug", "--command", "x")[0] == 0  # no secret: fine
