"""Settings ▸ Tools saved without dropping a change made elsewhere: what the page changed (against the
file as it was when the dialog opened) is applied, field by field and tool policy by tool policy, onto
``mcp.json`` as it is now (the CLI or the tray may have written it meanwhile). Qt-free.
"""

from __future__ import annotations

from dataclasses import replace

from trayai.core.tools.config import ServerConfig, ToolsConfig


def merge_servers(
    base: ToolsConfig, mine: list[ServerConfig], origins: dict[str, str], now: ToolsConfig
) -> None:
    """Apply to ``now`` (in place) what changed from ``base`` to ``mine``.

    ``origins`` maps a server's name in ``mine`` to its name in ``base`` (a renamed server; absent for
    a new one). A server of ``base`` the page no longer has was removed; one it did not change keeps
    whatever the other writer did to it, and so does each field the page left alone.
    """
    kept_origins = set(origins.values())
    for name in base.servers:
        if name not in kept_origins:
            now.servers.pop(name, None)  # removed on the page
    for server in mine:
        origin = origins.get(server.name)
        before = base.servers.get(origin) if origin is not None else None
        if before is None:  # new on the page
            now.servers[server.name] = server
            continue
        theirs = now.servers.get(origin) if origin is not None else None
        if origin != server.name and origin is not None:
            now.servers.pop(origin, None)
        if theirs is None:
            if _differs(before, server) or origin != server.name:
                now.servers[server.name] = server  # removed elsewhere, but edited (or renamed) here
            continue
        now.servers[server.name] = _merged(before, server, theirs)


def _differs(before: ServerConfig, mine: ServerConfig) -> bool:
    return (before.stdio, before.http, before.enabled, before.timeout, before.policies, before.extra) != (
        mine.stdio,
        mine.http,
        mine.enabled,
        mine.timeout,
        mine.policies,
        mine.extra,
    )


def _merged(before: ServerConfig, mine: ServerConfig, theirs: ServerConfig) -> ServerConfig:
    """``theirs`` with each field the page changed taken from ``mine``."""
    launch_changed = (before.stdio, before.http) != (mine.stdio, mine.http)
    policies = dict(theirs.policies)
    for tool in set(before.policies) | set(mine.policies):
        if before.policies.get(tool) != mine.policies.get(tool):
            if tool in mine.policies:
                policies[tool] = mine.policies[tool]
            else:
                policies.pop(tool, None)
    return replace(
        theirs,
        name=mine.name,
        stdio=mine.stdio if launch_changed else theirs.stdio,
        http=mine.http if launch_changed else theirs.http,
        enabled=mine.enabled if mine.enabled != before.enabled else theirs.enabled,
        timeout=mine.timeout if mine.timeout != before.timeout else theirs.timeout,
        policies=policies,
        extra=mine.extra if mine.extra != before.extra else theirs.extra,
    )


__all__ = ["merge_servers"]
