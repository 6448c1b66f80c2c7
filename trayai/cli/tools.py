"""``trayai tools list|add|remove|enable|disable|import|test``: the MCP tool servers in ``mcp.json``
(secrets moved to the keychain), and a connection test that lists what a server offers."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from trayai.cli.context import EXIT_FAIL, EXIT_OK, EXIT_USAGE, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.errors import ConfigError, TrayaiError
from trayai.core.settings.secrets import TOOLS_SERVICE, SecretStore
from trayai.core.textsafe import escape_line, strip_controls
from trayai.core.tools.config import (
    ServerConfig,
    ToolsConfig,
    ToolsStore,
    TransportKind,
    check_name,
    parse_servers,
)


def register(sub: Subparsers, parents: Parents) -> None:
    tools = sub.add_parser(
        "tools",
        help="MCP tool servers the assistant can use (tools list|add|remove|enable|disable|import|test)",
    )
    actions = tools.add_subparsers(dest="action", metavar="ACTION", required=True)
    _add_list(actions, parents)
    _add_add(actions)
    _add_remove(actions)
    _add_switch(actions, "enable", enabled=True)
    _add_switch(actions, "disable", enabled=False)
    _add_import(actions, parents)
    _add_test(actions, parents)


def _store(ctx: Context) -> ToolsStore:
    return ToolsStore.at(ctx.paths, SecretStore(service=TOOLS_SERVICE))


def _name_argument(action: argparse.ArgumentParser) -> None:
    action.add_argument("name", help="the server's name in mcp.json")


# ---------------------------------------------------------------------------- list


def _add_list(actions: Subparsers, parents: Parents) -> None:
    list_ = actions.add_parser(
        "list", help="the configured servers (not connected: see `tools test`)", parents=[parents.json]
    )
    list_.set_defaults(handler=cmd_list)


def cmd_list(ctx: Context) -> int:
    store = _store(ctx)
    config = store.load()
    if ctx.args.json:
        servers = [_server_json(server) for server in config.servers.values()]
        json.dump({"file": str(store.path), "servers": servers}, ctx.out, indent=2, ensure_ascii=False)
        ctx.out.write("\n")
        return EXIT_OK
    if not config.servers:
        ctx.say(f"no tool servers yet ({store.path}): `trayai tools add` or `trayai tools import`")
        return EXIT_OK
    for server in config.servers.values():
        state = "enabled " if server.enabled else "disabled"
        sse = " (SSE)" if server.kind is TransportKind.SSE else ""
        ctx.out.write(f"{state}  {escape_line(server.name)}: {escape_line(server.where())}{sse}\n")
        for tool, policy in sorted(server.policies.items()):
            ctx.out.write(f"          {escape_line(tool)}: {policy}\n")
        for ref in server.secret_refs():
            ctx.out.write(f"          {ref.section} {escape_line(ref.name)}: in the keychain\n")
    return EXIT_OK


def _server_json(server: ServerConfig) -> dict[str, Any]:
    return {
        "name": server.name,
        "transport": server.kind.value,
        "enabled": server.enabled,
        "where": server.where(),
        "timeout": server.timeout,
        "policies": {tool: policy.value for tool, policy in server.policies.items()},
        "keychain": [f"{ref.section}.{ref.name}" for ref in server.secret_refs()],
    }


# ---------------------------------------------------------------------------- add / remove / enable


def _add_add(actions: Subparsers) -> None:
    add = actions.add_parser(
        "add",
        help="add a server: `tools add NAME --command COMMAND ARG…` (stdio) or `tools add NAME --url URL "
        "[--sse]`",
    )
    _name_argument(add)
    add.add_argument("--url", help="a Streamable HTTP server's URL instead of a command")
    add.add_argument(
        "--sse", action="store_true", help="the --url server speaks the older HTTP+SSE transport (…/sse)"
    )
    add.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME[=VALUE]",
        help="an environment variable for the server; NAME alone asks for its value (not in argv)",
    )
    add.add_argument(
        "--header", action="append", default=[], metavar="NAME[=VALUE]", help="an HTTP header, as --env"
    )
    add.add_argument("--timeout", type=float, help="seconds a call may take (default 60)")
    add.add_argument("--disabled", action="store_true", help="add it switched off")
    add.add_argument("--replace", action="store_true", help="replace a server of the same name")
    # Last, taking every word after it (`-` options included): an argv list, never a shell string.
    add.add_argument(
        "--command",
        dest="argv",
        nargs=argparse.REMAINDER,
        default=[],
        metavar="COMMAND ARG",
        help="the stdio server's command and its arguments: everything after --command, so give it last",
    )
    add.set_defaults(handler=cmd_add)


def cmd_add(ctx: Context) -> int:
    args = ctx.args
    if bool(args.argv) == bool(args.url):
        ctx.say("error: give either --command COMMAND ARG… (last) or --url URL, not both")
        return EXIT_USAGE
    if args.sse and not args.url:
        ctx.say("error: --sse goes with --url URL (the server's SSE endpoint)")
        return EXIT_USAGE
    values = {"env": _pairs(args.env, "env"), "headers": _pairs(args.header, "header")}
    entry: dict[str, Any] = {"enabled": not args.disabled}
    if args.url:
        entry.update(url=args.url, headers=values["headers"])
        if args.sse:
            entry["type"] = "sse"
    else:
        entry.update(command=args.argv[0], args=args.argv[1:], env=values["env"])
    if args.timeout is not None:
        entry["timeout"] = args.timeout
    server = ServerConfig.from_json(check_name(args.name), entry)
    return _put(ctx, [server], replace=args.replace, verb="added")


def _pairs(items: list[str], what: str) -> dict[str, str]:
    # lazy: getpass is loaded only when used: start-up time and memory
    import getpass

    out: dict[str, str] = {}
    for item in items:
        name, given, value = item.partition("=")
        if not given:
            if sys.stdin is not None and sys.stdin.isatty():
                value = getpass.getpass(f"{what} {name} (not echoed): ")
            else:
                value = (sys.stdin.readline() if sys.stdin is not None else "").rstrip("\n")
        out[name] = value
    return out


def _put(ctx: Context, servers: list[ServerConfig], *, replace: bool, verb: str) -> int:
    store = _store(ctx)
    config = store.load()
    taken = [s.name for s in servers if s.name in config.servers and not replace]
    if taken and not getattr(ctx.args, "skip_existing", False):
        ctx.say(f"error: already configured: {', '.join(taken)} (--replace to replace)")
        return EXIT_FAIL
    if any(store.needs_keychain(server) for server in servers) and not store.secrets.persistent:
        ctx.say(
            f"error: no working keychain ({store.secrets.backend_name}): the secrets of these servers "
            "would be forgotten when this command ends, and they never go in mcp.json"
        )
        ctx.say("  → install and unlock a keyring (e.g. gnome-keyring), or export them in your environment")
        return EXIT_FAIL
    added: list[str] = []

    def change(now: ToolsConfig) -> None:
        for server in servers:
            if server.name in now.servers and not replace:
                continue
            old = now.servers.get(server.name)
            stored, notes = store.put(server)
            if old is not None:
                keep = {ref.account for ref in stored.secret_refs()}
                for ref in old.secret_refs():
                    if ref.account not in keep:
                        store.secrets.delete(ref.account)
            now.servers[server.name] = stored
            added.append(server.name)
            for note in notes:
                ctx.say(note)

    store.update(change)
    if getattr(ctx.args, "json", False):
        json.dump({"file": str(store.path), verb: added, "skipped": taken}, ctx.out, indent=2)
        ctx.out.write("\n")
    for name in added:
        ctx.say(f"{verb} tool server {name!r} to {store.path}")
    for name in taken:
        ctx.say(f"skipped {name!r}: already configured (--replace to replace)")
    return EXIT_OK


def _add_remove(actions: Subparsers) -> None:
    remove = actions.add_parser("remove", help="remove a server (and its secrets in the keychain)")
    _name_argument(remove)
    remove.set_defaults(handler=cmd_remove)


def cmd_remove(ctx: Context) -> int:
    store = _store(ctx)

    def change(config: ToolsConfig) -> ServerConfig:
        return config.servers.pop(config.server(ctx.args.name).name)

    store.forget(store.update(change))
    ctx.say(f"removed tool server {ctx.args.name!r}")
    return EXIT_OK


def _add_switch(actions: Subparsers, word: str, *, enabled: bool) -> None:
    switch = actions.add_parser(word, help=f"{word} a server (the tray follows)")
    _name_argument(switch)
    switch.set_defaults(handler=cmd_enable if enabled else cmd_disable)


def cmd_enable(ctx: Context) -> int:
    return _switch(ctx, enabled=True)


def cmd_disable(ctx: Context) -> int:
    return _switch(ctx, enabled=False)


def _switch(ctx: Context, *, enabled: bool) -> int:
    def change(config: ToolsConfig) -> None:
        config.server(ctx.args.name).enabled = enabled

    _store(ctx).update(change)
    ctx.say(f"{'enabled' if enabled else 'disabled'} tool server {ctx.args.name!r}")
    return EXIT_OK


# ---------------------------------------------------------------------------- import


def _add_import(actions: Subparsers, parents: Parents) -> None:
    import_ = actions.add_parser(
        "import",
        help="add the servers of another app's mcpServers JSON (Claude Desktop, Cursor, LM Studio, VS Code)",
        parents=[parents.json],
    )
    import_.add_argument("file", metavar="FILE", help="the JSON file, or - for stdin (a pasted text)")
    import_.add_argument("--replace", action="store_true", help="replace servers of the same name")
    import_.set_defaults(handler=cmd_import, skip_existing=True)


def cmd_import(ctx: Context) -> int:
    source = ctx.args.file
    try:
        text = sys.stdin.read() if source == "-" else Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"Cannot read {source}: {exc.strerror or exc}") from None
    servers = parse_servers(text, "stdin" if source == "-" else source)
    return _put(ctx, servers, replace=ctx.args.replace, verb="imported")


# ---------------------------------------------------------------------------- test


def _add_test(actions: Subparsers, parents: Parents) -> None:
    test = actions.add_parser(
        "test",
        help="connect to a server, list its tools with their descriptions, time it",
        parents=[parents.json],
    )
    _name_argument(test)
    test.add_argument("--timeout", type=float, default=30.0, help="seconds to start and list (default 30)")
    test.set_defaults(handler=cmd_test)


def cmd_test(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.tools.session import ServerConnection

    store = _store(ctx)
    server = store.resolved(store.load().server(ctx.args.name))
    for values in (server.stdio.env if server.stdio else {}, server.http.headers if server.http else {}):
        for value in values.values():
            ctx.redactor.add_secret(value)
    connection = ServerConnection(server, connect_timeout=ctx.args.timeout)

    async def run() -> float:
        started = time.perf_counter()
        try:
            await connection.start()
            return time.perf_counter() - started
        finally:
            await connection.close()

    try:
        seconds = asyncio.run(run())
    except TrayaiError as error:
        if ctx.args.json:
            json.dump(
                {"name": server.name, "ok": False, "error": ctx.data(error.to_dict())}, ctx.out, indent=2
            )
            ctx.out.write("\n")
        return ctx.fail(error)
    if ctx.args.json:
        tools = [
            {"name": t.name, "description": t.description, "read_only": t.read_only} for t in connection.tools
        ]
        data = {
            "name": server.name,
            "ok": True,
            "server": connection.server_version,
            "seconds": seconds,
            "tools": tools,
        }
        json.dump(ctx.data(data), ctx.out, indent=2, ensure_ascii=False)
        ctx.out.write("\n")
        return EXIT_OK
    count = len(connection.tools)
    ctx.out.write(
        f"{escape_line(server.name)}: connected to {ctx.line(connection.server_version)} "
        f"in {seconds * 1000:.0f} ms, {count} tool{'s' if count != 1 else ''}\n"
    )
    for tool in connection.tools:
        mark = "  (read-only)" if tool.read_only else ""
        ctx.out.write(f"  {ctx.line(tool.name)}{mark}\n")
        for line in strip_controls(ctx.redactor.redact(tool.description)).strip().splitlines():
            ctx.out.write(f"      {line}\n")
    return EXIT_OK
