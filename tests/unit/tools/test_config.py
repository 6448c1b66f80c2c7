"""mcp.json: the mcpServers shape other apps write, trayai's fields, secrets kept out of the file."""

from __future__ import annotations

import json
import stat

import pytest

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import ConfigError, TrayaiError
from trayai.core.paths import AppPaths
from trayai.core.settings.memory_keyring import MemoryKeyring
from trayai.core.settings.secrets import SERVICE, TOOLS_SERVICE, SecretStore
from trayai.core.tools.config import (
    KEYCHAIN_REF,
    MCP_FILE_NAME,
    ServerConfig,
    StdioLaunch,
    ToolPolicy,
    ToolsConfig,
    ToolsStore,
    TransportKind,
    is_secret_name,
    parse_servers,
)

CLAUDE_DESKTOP = """{
  "mcpServers": {
    "filesystem": {
      "command": "npx",
      "args": ["-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"]
    },
    "github": {
      "command": "docker",
      "args": ["run", "-i", "--rm", "-e", "GITHUB_PERSONAL_ACCESS_TOKEN", "ghcr.io/github/github-mcp-server"],
      "env": {"GITHUB_PERSONAL_ACCESS_TOKEN": "ghp_abcdef123456", "LOG_LEVEL": "info"}
    },
    "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "Bearer sk-remote-999"}}
  }
}"""


@pytest.fixture
def backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def store(paths: AppPaths, backend: MemoryKeyring) -> ToolsStore:
    return ToolsStore.at(paths, SecretStore(backend, service=TOOLS_SERVICE))


def test_claude_desktop_file_is_read_as_it_is() -> None:
    servers = {server.name: server for server in parse_servers(CLAUDE_DESKTOP)}
    assert list(servers) == ["filesystem", "github", "remote"]
    fs = servers["filesystem"]
    assert fs.kind is TransportKind.STDIO and fs.enabled and fs.timeout == 60
    assert fs.stdio is not None
    assert fs.stdio.argv == ["npx", "-y", "@modelcontextprotocol/server-filesystem", "/Users/me/Desktop"]
    assert servers["remote"].kind is TransportKind.HTTP
    assert all(server.policy("anything") is ToolPolicy.ASK for server in servers.values())  # nothing allowed


def test_the_older_sse_transport_is_read_and_written_back() -> None:
    """Claude Desktop's and Cursor's ``"type": "sse"``, Cline's ``"transport": "sse"``: kept as SSE."""
    for key in ("type", "transport"):
        (server,) = parse_servers(
            f'{{"mcpServers": {{"old": {{"{key}": "sse", "url": "http://127.0.0.1:3001/sse",'
            ' "headers": {"X-Team": "a"}}}}'
        )
        assert server.kind is TransportKind.SSE and server.http is not None and server.http.sse
        assert server.to_json() == {
            "type": "sse",
            "url": "http://127.0.0.1:3001/sse",
            "headers": {"X-Team": "a"},
            "enabled": True,
        }
    (streamable,) = parse_servers('{"mcpServers": {"new": {"type": "http", "url": "http://h/mcp"}}}')
    assert streamable.kind is TransportKind.HTTP and streamable.to_json()["type"] == "http"


def test_other_apps_shapes_vscode_inner_object_and_clines_fields() -> None:
    vscode = parse_servers(
        '{"servers": {"t": {"type": "stdio", "command": "uvx", "args": ["mcp-server-time"]}}}'
    )
    assert vscode[0].name == "t"
    inner = parse_servers('{"t": {"command": "uvx"}}')
    assert inner[0].stdio == StdioLaunch("uvx")
    cline = parse_servers(
        '{"mcpServers": {"c": {"command": "x", "disabled": true, "autoApprove": ["read"]}}}'
    )
    assert not cline[0].enabled and cline[0].policy("read") is ToolPolicy.ALLOW
    assert cline[0].policy("write") is ToolPolicy.ASK
    windsurf = parse_servers('{"mcpServers": {"w": {"serverUrl": "http://127.0.0.1:9/mcp"}}}')
    assert windsurf[0].http is not None and windsurf[0].http.url == "http://127.0.0.1:9/mcp"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("not json", "is not JSON"),
        ("[]", "expected a JSON object"),
        ('{"mcpServers": {}}', "names no MCP server"),
        ('{"mcpServers": {"a": {"command": "x", "url": "http://h/mcp"}}}', "either a command or a url"),
        ('{"mcpServers": {"a": {"args": ["x"]}}}', "either a command or a url"),
        ('{"mcpServers": {"a": {"command": "uvx --from x y", "args": "mcp"}}}', "list of strings"),
        ('{"mcpServers": {"a": {"url": "ftp://h/x"}}}', "not an http(s) URL"),
        ('{"mcpServers": {"a": {"type": "sse"}}}', "type sse needs the server's url"),
        ('{"mcpServers": {"a": {"command": "x", "timeout": 0}}}', "timeout must be"),
        ('{"mcpServers": {"a": {"command": "x", "tools": {"t": "sometimes"}}}}', "not ask, allow or never"),
        ('{"mcpServers": {"a/b": {"command": "x"}}}', "cannot be used"),
        ('{"mcpServers": {"a": {"command": "x", "env": {"K": ["v"]}}}}', "K must be a string"),
    ],
)
def test_what_cannot_be_used_is_said(text: str, words: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_servers(text)
    assert words in str(refused.value)


def test_secret_names() -> None:
    for name in (
        "OPENAI_API_KEY",
        "GITHUB_TOKEN",
        "client_secret",
        "DB_PASSWORD",
        "Authorization",
        "X-Api-Key",
    ):
        assert is_secret_name(name), name
    for name in ("LOG_LEVEL", "PATH", "TZ", "Accept"):
        assert not is_secret_name(name), name


def test_secrets_go_to_the_keychain_and_never_to_the_file(store: ToolsStore, backend: MemoryKeyring) -> None:
    notes: list[str] = []

    def add(config: ToolsConfig) -> None:
        for server in parse_servers(CLAUDE_DESKTOP):
            stored, said = store.put(server)
            config.servers[stored.name] = stored
            notes.extend(said)

    store.update(add)
    text = store.path.read_text(encoding="utf-8")
    assert "ghp_abcdef123456" not in text and "sk-remote-999" not in text
    data = json.loads(text)["mcpServers"]
    assert data["github"]["env"] == {"GITHUB_PERSONAL_ACCESS_TOKEN": KEYCHAIN_REF, "LOG_LEVEL": "info"}
    assert data["remote"]["headers"] == {"Authorization": KEYCHAIN_REF}
    assert (
        backend.get_password(TOOLS_SERVICE, "github/env/GITHUB_PERSONAL_ACCESS_TOKEN") == "ghp_abcdef123456"
    )
    assert backend.get_password(SERVICE, "github/env/GITHUB_PERSONAL_ACCESS_TOKEN") is None  # own namespace
    assert any("GITHUB_PERSONAL_ACCESS_TOKEN stored in" in note for note in notes)
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600

    loaded = store.load().server("github")
    assert loaded.stdio is not None and loaded.stdio.env["GITHUB_PERSONAL_ACCESS_TOKEN"] == KEYCHAIN_REF
    resolved = store.resolved(loaded)
    assert (
        resolved.stdio is not None
        and resolved.stdio.env["GITHUB_PERSONAL_ACCESS_TOKEN"] == "ghp_abcdef123456"
    )
    remote = store.resolved(store.load().server("remote"))
    assert remote.http is not None and remote.http.headers["Authorization"] == "Bearer sk-remote-999"

    store.forget(loaded)
    assert backend.get_password(TOOLS_SERVICE, "github/env/GITHUB_PERSONAL_ACCESS_TOKEN") is None
    with pytest.raises(TrayaiError) as missing:
        store.resolved(loaded)
    assert missing.value.code is ErrorCode.TOOL_SERVER_FAILED
    assert "GITHUB_PERSONAL_ACCESS_TOKEN is not in the keychain" in missing.value.message


def test_round_trip_keeps_trayais_fields_and_other_apps_extras(store: ToolsStore) -> None:
    text = '{"mcpServers": {"t": {"command": "x", "timeout": 5, "tools": {"a": "allow", "b": "never"}, "icon": "t.png"}}}'
    server = parse_servers(text)[0]
    store.save(ToolsConfig({"t": server}))
    again = store.load().server("t")
    assert again == server
    assert again.timeout == 5 and again.policy("b") is ToolPolicy.NEVER and again.extra == {"icon": "t.png"}
    assert json.loads(store.path.read_text())["mcpServers"]["t"]["icon"] == "t.png"


def test_no_file_an_empty_one_and_the_last_server_removed(store: ToolsStore) -> None:
    assert store.load().servers == {}
    store.save(ToolsConfig({"t": ServerConfig("t", stdio=StdioLaunch("x"))}))
    store.update(lambda config: config.servers.clear())
    assert store.load().servers == {}
    assert json.loads(store.path.read_text()) == {"mcpServers": {}}
    store.path.write_text("", encoding="utf-8")
    assert store.load().servers == {}


def test_a_damaged_file_is_refused_never_replaced(store: ToolsStore, paths: AppPaths) -> None:
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    (paths.config_dir / MCP_FILE_NAME).write_text('{"mcpServers": {"t": {"command": ', encoding="utf-8")
    with pytest.raises(ConfigError) as damaged:
        store.load()
    assert "is not JSON" in str(damaged.value) and str(store.path) in str(damaged.value)
    assert store.path.read_text(encoding="utf-8").endswith('"command": ')


def test_unknown_server_names_the_configured_ones(store: ToolsStore) -> None:
    store.save(ToolsConfig({"time": ServerConfig("time", stdio=StdioLaunch("x"))}))
    with pytest.raises(ConfigError, match=r"No tool server named 'tiem' \(configured: time\)"):
        store.load().server("tiem")


@pytest.mark.expect_log("trayai.core.settings.secrets", "keys are session-only")
def test_keychain_for_this_session_only_is_said(paths: AppPaths) -> None:
    class Broken:
        def set_password(self, *args: str) -> None:
            raise RuntimeError("locked")

        def get_password(self, *args: str) -> None:
            return None

    store = ToolsStore.at(paths, SecretStore(Broken(), service=TOOLS_SERVICE))
    server = parse_servers('{"a": {"command": "x", "env": {"API_KEY": "sk-1234"}}}')[0]
    stored, notes = store.put(server)
    assert stored.stdio is not None and stored.stdio.env["API_KEY"] == KEYCHAIN_REF
    assert any("this session only" in note for note in notes)
    assert store.resolved(stored).stdio == StdioLaunch("x", (), {"API_KEY": "sk-1234"})
