"""MCP tool servers' configuration: ``mcp.json`` in the config folder, in the ``mcpServers`` shape Claude
Desktop, Cursor and LM Studio use (so a file can be copied across), plus trayai's own fields (enabled,
timeout, a policy per tool). Secrets in ``env``/``headers`` live in the keychain; the file says where.

A server in the file::

    "time":   {"command": "uvx", "args": ["mcp-server-time"], "tools": {"get_current_time": "allow"}}
    "remote": {"url": "https://mcp.example.com/mcp", "headers": {"Authorization": "${keychain}"},
               "enabled": false, "timeout": 120}
    "older":  {"type": "sse", "url": "http://127.0.0.1:3001/sse"}
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import urlsplit

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import ConfigError, make_error
from trayai.core.filelock import FileLockedError, exclusive_lock
from trayai.core.files import atomic_write_text
from trayai.core.paths import AppPaths, ensure_private_dir
from trayai.core.settings.secrets import SecretStore
from trayai.core.strenum import StrEnum

MCP_FILE_NAME = "mcp.json"
KEYCHAIN_REF = "${keychain}"  # the value in the file of a secret kept in the keychain
DEFAULT_TIMEOUT = 60.0
MAX_TIMEOUT = 3600.0
LOCK_WAIT = 2.0  # seconds to wait for another writer of mcp.json
# Names whose values are secrets: *KEY*, *TOKEN*, *SECRET*, *PASSWORD*, Authorization (and the like).
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|AUTHORIZATION|COOKIE|CREDENTIAL", re.IGNORECASE)
_NAME = re.compile(r"[^\x00-\x1f\x7f/]{1,64}")
# What the other apps' files may say, beside command/args/env/cwd/url/headers/type, that we read.
_OWN_KEYS = frozenset(
    {"command", "args", "env", "cwd", "url", "serverUrl", "headers", "type", "transport", "enabled"}
    | {"disabled", "timeout", "tools", "autoApprove"}
)
Section = Literal["env", "headers"]
T = TypeVar("T")


class ToolPolicy(StrEnum):
    """What happens when the model calls a tool: ask the person first (the default), run it, refuse it."""

    ASK = "ask"
    ALLOW = "allow"
    NEVER = "never"


class TransportKind(StrEnum):
    """How trayai talks to the server: a child process on stdio, Streamable HTTP, or the older
    HTTP+SSE transport (a GET event stream plus POSTs) that servers made before MCP 2025-03-26 offer."""

    STDIO = "stdio"
    HTTP = "http"
    SSE = "sse"


@dataclass(frozen=True)
class StdioLaunch:
    """A stdio server: an argv list (never a shell string) and what its environment adds."""

    command: str
    args: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: str | None = None

    @property
    def argv(self) -> list[str]:
        return [self.command, *self.args]


@dataclass(frozen=True)
class HttpEndpoint:
    """A server over HTTP: its URL, the headers sent with every request, and whether it speaks the
    older SSE transport rather than Streamable HTTP."""

    url: str
    headers: Mapping[str, str] = field(default_factory=dict)
    sse: bool = False


@dataclass(frozen=True)
class SecretRef:
    """Where one secret of a server is in the keychain (service ``trayai-tools``)."""

    server: str
    section: Section
    name: str

    @property
    def account(self) -> str:
        return f"{self.server}/{self.section}/{self.name}"


@dataclass
class ServerConfig:
    """One MCP server as configured. ``env``/``headers`` values may be :data:`KEYCHAIN_REF`;
    :meth:`ToolsStore.resolved` gives the copy with the real values, used only to connect."""

    name: str
    stdio: StdioLaunch | None = None
    http: HttpEndpoint | None = None
    enabled: bool = True
    timeout: float = DEFAULT_TIMEOUT
    policies: dict[str, ToolPolicy] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)  # other apps' fields, written back untouched

    def __post_init__(self) -> None:
        check_name(self.name)
        if (self.stdio is None) == (self.http is None):
            raise ConfigError(f"Tool server {self.name!r} needs either a command or a url (not both)")

    @property
    def kind(self) -> TransportKind:
        if self.stdio is not None:
            return TransportKind.STDIO
        return TransportKind.SSE if self.http is not None and self.http.sse else TransportKind.HTTP

    def policy(self, tool: str) -> ToolPolicy:
        return self.policies.get(tool, ToolPolicy.ASK)

    def where(self) -> str:
        """The command line or URL, for a listing (secrets are never part of either)."""
        if self.stdio is not None:
            return " ".join(self.stdio.argv)
        assert self.http is not None
        return self.http.url

    def secret_refs(self) -> list[SecretRef]:
        """The keychain entries this server's file entry points at."""
        return [
            SecretRef(self.name, section, key)
            for section, values in self._sections()
            for key, value in values.items()
            if value == KEYCHAIN_REF
        ]

    def _sections(self) -> list[tuple[Section, Mapping[str, str]]]:
        if self.stdio is not None:
            return [("env", self.stdio.env)]
        assert self.http is not None
        return [("headers", self.http.headers)]

    def with_values(self, section: Section, values: Mapping[str, str]) -> ServerConfig:
        """A copy whose ``env`` (stdio) or ``headers`` (http) are ``values``."""
        if section == "env" and self.stdio is not None:
            return replace(self, stdio=replace(self.stdio, env=dict(values)))
        if section == "headers" and self.http is not None:
            return replace(self, http=replace(self.http, headers=dict(values)))
        return self

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = dict(self.extra)
        if self.stdio is not None:
            data["command"] = self.stdio.command
            data["args"] = list(self.stdio.args)
            if self.stdio.env:
                data["env"] = dict(self.stdio.env)
            if self.stdio.cwd:
                data["cwd"] = self.stdio.cwd
        elif self.http is not None:
            data["type"] = "sse" if self.http.sse else "http"
            data["url"] = self.http.url
            if self.http.headers:
                data["headers"] = dict(self.http.headers)
        data["enabled"] = self.enabled
        if self.timeout != DEFAULT_TIMEOUT:
            data["timeout"] = self.timeout
        if self.policies:
            data["tools"] = {tool: policy.value for tool, policy in sorted(self.policies.items())}
        return data

    @classmethod
    def from_json(cls, name: str, data: object) -> ServerConfig:
        """Read one ``mcpServers`` entry (trayai's, Claude Desktop's, Cursor's, LM Studio's, VS Code's,
        Cline's ``disabled``/``autoApprove``); a :class:`ConfigError` says what is wrong and where."""
        where = f"tool server {name!r}"
        if not isinstance(data, dict):
            raise ConfigError(f"{where}: expected an object, got {type(data).__name__}")
        kind = data.get("type", data.get("transport"))
        url = data.get("url", data.get("serverUrl"))
        stdio = http = None
        if kind == "sse" and url is None:
            raise ConfigError(
                f"{where}: type sse needs the server's url",
                'Give its SSE endpoint, e.g. "url": "http://127.0.0.1:3001/sse".',
            )
        if "command" in data:
            stdio = StdioLaunch(
                command=_text(data["command"], f"{where}: command"),
                args=tuple(_texts(data.get("args", []), f"{where}: args")),
                env=_text_map(data.get("env", {}), f"{where}: env"),
                cwd=_text(data["cwd"], f"{where}: cwd") if data.get("cwd") else None,
            )
        if url is not None:
            http = HttpEndpoint(
                url=_http_url(url, f"{where}: url"),
                headers=_text_map(data.get("headers", {}), f"{where}: headers"),
                sse=kind == "sse",
            )
        enabled = data.get("enabled", not data.get("disabled", False))
        if not isinstance(enabled, bool):
            raise ConfigError(f"{where}: enabled must be true or false")
        return cls(
            name=name,
            stdio=stdio,
            http=http,
            enabled=enabled,
            timeout=_timeout(data.get("timeout", DEFAULT_TIMEOUT), where),
            policies=_policies(data, where),
            extra={k: v for k, v in data.items() if k not in _OWN_KEYS},
        )


@dataclass
class ToolsConfig:
    """Every configured server by name, in the file's order."""

    servers: dict[str, ServerConfig] = field(default_factory=dict)

    def server(self, name: str) -> ServerConfig:
        """The server named so; a :class:`ConfigError` naming the ones there are otherwise."""
        try:
            return self.servers[name]
        except KeyError:
            known = ", ".join(self.servers) or "none yet"
            raise ConfigError(f"No tool server named {name!r} (configured: {known})") from None

    def to_json(self) -> dict[str, Any]:
        return {"mcpServers": {name: server.to_json() for name, server in self.servers.items()}}


def check_name(name: str) -> str:
    """A server name trayai can use as a keychain account part and in a tool's name space."""
    if not isinstance(name, str) or not _NAME.fullmatch(name) or name != name.strip():
        raise ConfigError(
            f"Tool server name {name!r} cannot be used",
            "Use 1–64 characters without '/' or control characters, and no spaces at the ends.",
        )
    return name


def is_secret_name(name: str) -> bool:
    """True for an env variable or header whose value is a secret (``GITHUB_TOKEN``, ``Authorization``)."""
    return bool(_SECRET_NAME.search(name))


def parse_servers(text: str, source: str = "the text", *, empty_ok: bool = False) -> list[ServerConfig]:
    """The servers in another app's JSON: ``{"mcpServers": {…}}`` (Claude Desktop, Cursor, LM Studio),
    ``{"servers": {…}}`` (VS Code), or the inner ``{name: {command…}}`` alone. None at all is an
    error unless ``empty_ok`` (trayai's own file, after the last server was removed)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source} is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a JSON object with mcpServers")
    servers = data.get("mcpServers", data.get("servers", data))
    if not isinstance(servers, dict) or not (servers or empty_ok):
        raise ConfigError(f"{source} names no MCP server (expected an mcpServers object)")
    return [ServerConfig.from_json(check_name(name), entry) for name, entry in servers.items()]


class ToolsStore:
    """``mcp.json`` read and written whole (user-only, atomic), and the keychain entries it points at.

    The file is never written with a secret in it: :meth:`put` moves secret values to the keychain
    first; :meth:`resolved` puts them back into a copy, for the connection only.
    """

    def __init__(self, path: Path, secrets: SecretStore) -> None:
        self.path = path
        self.secrets = secrets

    @classmethod
    def at(cls, paths: AppPaths, secrets: SecretStore) -> ToolsStore:
        return cls(paths.config_dir / MCP_FILE_NAME, secrets)

    def load(self) -> ToolsConfig:
        """The file's servers; none when there is no file. A damaged file is refused, never replaced."""
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return ToolsConfig()
        except OSError as exc:
            raise ConfigError(f"Cannot read {self.path}: {exc.strerror or exc}") from None
        if not text.strip():
            return ToolsConfig()
        servers = parse_servers(text, str(self.path), empty_ok=True)
        return ToolsConfig({server.name: server for server in servers})

    def save(self, config: ToolsConfig) -> None:
        atomic_write_text(self.path, json.dumps(config.to_json(), indent=2, ensure_ascii=False) + "\n")

    def update(self, change: Callable[[ToolsConfig], T]) -> T:
        """Apply ``change`` to the file as it is now and save it, under a lock: the CLI, the tray and
        Settings never interleave a read-modify-write (each holds it for milliseconds)."""
        lock = self.path.with_name(f".{self.path.name}.lock")
        ensure_private_dir(lock.parent)
        os.close(os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600))  # user-only before it is locked
        try:
            with exclusive_lock(lock, what="another trayai", wait=LOCK_WAIT, poll=0.01):
                config = self.load()
                value = change(config)
                self.save(config)
        except FileLockedError:
            raise ConfigError(
                f"{self.path} is being saved by another trayai process ({lock} is locked)",
                "Try again; if it lasts, end the trayai process that hangs.",
            ) from None
        return value

    def put(self, server: ServerConfig) -> tuple[ServerConfig, list[str]]:
        """``server`` with every secret value moved to the keychain (the file keeps :data:`KEYCHAIN_REF`),
        and notes for the person (what went where; a keychain that keeps them only for this session)."""
        notes: list[str] = []
        for section, values in server._sections():  # noqa: SLF001 - the same module's helper
            kept = dict(values)
            for name, value in values.items():
                if value == KEYCHAIN_REF or not value or not is_secret_name(name):
                    continue
                outcome = self.secrets.set(SecretRef(server.name, section, name).account, value)
                kept[name] = KEYCHAIN_REF
                notes.append(f"{server.name}: {section} {name} stored in {outcome.backend}, not in the file")
                if outcome.warning:
                    notes.append(outcome.warning)
            server = server.with_values(section, kept)
        return server, notes

    def needs_keychain(self, server: ServerConfig) -> bool:
        """True when :meth:`put` would move a value of ``server`` to the keychain."""
        return any(
            value and value != KEYCHAIN_REF and is_secret_name(name)
            for _section, values in server._sections()  # noqa: SLF001 - the same module's helper
            for name, value in values.items()
        )

    def forget(self, server: ServerConfig) -> None:
        """Delete the keychain entries of a server that is removed."""
        for ref in server.secret_refs():
            self.secrets.delete(ref.account)

    def resolved(self, server: ServerConfig) -> ServerConfig:
        """A copy with the keychain's values in place of the references (to connect, never to save)."""
        for section, values in server._sections():  # noqa: SLF001 - the same module's helper
            filled = dict(values)
            for name, value in values.items():
                if value != KEYCHAIN_REF:
                    continue
                secret = self.secrets.get(SecretRef(server.name, section, name).account)
                if secret is None:
                    raise make_error(
                        ErrorCode.TOOL_SERVER_FAILED,
                        f"Tool server {server.name!r}: {section} {name} is not in the keychain",
                        f"Import its JSON again, or add it back with `trayai tools add {server.name}`.",
                    )
                filled[name] = secret
            server = server.with_values(section, filled)
        return server


def _text(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where} must be a non-empty string")
    return value


def _texts(value: object, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ConfigError(f"{where} must be a list of strings (an argv list, not a shell command)")
    return list(value)


def _text_map(value: object, where: str) -> dict[str, str]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} must be an object of names to strings")
    out: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, (int, float)) and not isinstance(item, bool):
            out[key] = str(item)  # `"PORT": 8080` is common in hand-written files
        elif isinstance(item, str):
            out[key] = item
        else:
            raise ConfigError(f"{where}: {key} must be a string")
    return out


def _http_url(value: object, where: str) -> str:
    url = _text(value, where)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ConfigError(f"{where}: {url!r} is not an http(s) URL")
    return url


def _timeout(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value <= MAX_TIMEOUT:
        raise ConfigError(f"{where}: timeout must be a number of seconds between 0 and {MAX_TIMEOUT:g}")
    return float(value)


def _policies(data: Mapping[str, Any], where: str) -> dict[str, ToolPolicy]:
    policies: dict[str, ToolPolicy] = {}
    approve = data.get("autoApprove", [])  # Cline's list of tools that run without asking
    if isinstance(approve, list):
        policies.update({tool: ToolPolicy.ALLOW for tool in approve if isinstance(tool, str)})
    tools = data.get("tools", {})
    if not isinstance(tools, dict):
        raise ConfigError(f"{where}: tools must map tool names to ask, allow or never")
    for tool, value in tools.items():
        try:
            policies[tool] = ToolPolicy(value)
        except ValueError:
            raise ConfigError(f"{where}: tool {tool!r}: {value!r} is not ask, allow or never") from None
    return policies
