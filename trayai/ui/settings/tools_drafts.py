"""A tool server as Settings ▸ Tools edits it (``ServerDraft``): text fields a person types into, turned
back into a checked ``ServerConfig`` — argv one argument per line (never a shell string), ``NAME=value``
lines for env or headers, where ``${keychain}`` keeps the value already in the keychain. Qt-free.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trayai.core.errors import ConfigError
from trayai.core.tools.config import (
    DEFAULT_TIMEOUT,
    ServerConfig,
    ToolPolicy,
    TransportKind,
)


@dataclass
class ServerDraft:
    """One server on the page; ``origin`` is its name in the file when the page was opened (None: new)."""

    name: str
    kind: TransportKind = TransportKind.STDIO
    command: str = ""
    args: str = ""  # one argument per line
    values: str = ""  # env (stdio) or headers (http, sse): NAME=value per line
    url: str = ""
    cwd: str = ""
    enabled: bool = True
    timeout: float = DEFAULT_TIMEOUT
    policies: dict[str, ToolPolicy] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    origin: str | None = None

    @classmethod
    def of(cls, server: ServerConfig) -> ServerDraft:
        """The draft of a configured server (secrets stay ``${keychain}``)."""
        if server.stdio is not None:
            launch = server.stdio
            return cls(
                server.name,
                TransportKind.STDIO,
                command=launch.command,
                args="\n".join(launch.args),
                values=_lines(launch.env),
                cwd=launch.cwd or "",
                enabled=server.enabled,
                timeout=server.timeout,
                policies=dict(server.policies),
                extra=dict(server.extra),
                origin=server.name,
            )
        assert server.http is not None
        return cls(
            server.name,
            server.kind,
            url=server.http.url,
            values=_lines(server.http.headers),
            enabled=server.enabled,
            timeout=server.timeout,
            policies=dict(server.policies),
            extra=dict(server.extra),
            origin=server.name,
        )

    def config(self) -> ServerConfig:
        """The server this draft describes; a :class:`ConfigError` names the first thing wrong."""
        values = parse_values(self.values, "environment" if self.kind is TransportKind.STDIO else "headers")
        entry: dict[str, Any] = {**self.extra, "enabled": self.enabled, "timeout": self.timeout}
        entry["tools"] = {tool: policy.value for tool, policy in self.policies.items()}
        if self.kind is TransportKind.STDIO:
            args = [line for line in self.args.splitlines() if line.strip()]
            entry.update(command=self.command.strip(), args=args, env=values)
            if self.cwd.strip():
                entry["cwd"] = self.cwd.strip()
        else:
            entry.update(type=self.kind.value, url=self.url.strip(), headers=values)
        if self.kind is TransportKind.STDIO and not self.command.strip():
            raise ConfigError(f"Tool server {self.name!r}: the command is empty")
        if self.kind is not TransportKind.STDIO and not self.url.strip():
            raise ConfigError(f"Tool server {self.name!r}: the URL is empty")
        return ServerConfig.from_json(self.name, entry)


def parse_values(text: str, what: str) -> dict[str, str]:
    """``NAME=value`` lines (blank lines skipped); a line without ``=`` is a :class:`ConfigError`."""
    values: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        name, equals, value = line.partition("=")
        if not equals or not name.strip():
            raise ConfigError(f"{what} line {number}: expected NAME=value, got {line.strip()[:40]!r}")
        values[name.strip()] = value
    return values


def _lines(values: Any) -> str:
    return "\n".join(f"{name}={value}" for name, value in dict(values).items())


__all__ = ["ServerDraft", "parse_values"]
