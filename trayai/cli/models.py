"""``trayai models`` (with each model's state), ``load``, ``unload``, ``pull`` and ``servers`` (every
profile at a glance): model management across backends (docs/model-management.md).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import replace
from typing import Any, TextIO, TypedDict

from trayai.cli.context import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.embedded import is_builtin_url
from trayai.core.errors import TrayaiError
from trayai.core.fleet import ServerLook, ServerLookDict, look, look_at_all, quick_endpoint
from trayai.core.modelmatch import match_model
from trayai.core.net.backends.base import Unsupported
from trayai.core.net.backends.describe import progress_text, record_facts
from trayai.core.net.backends.manager import LOAD_DEADLINE, ModelManager
from trayai.core.net.backends.records import ModelRecord, ModelState, PullProgress, ServerKind
from trayai.core.net.backends.timefmt import parse_duration
from trayai.core.net.client import ModelClient
from trayai.core.settings.resolve import ResolvedEndpoint


def register(sub: Subparsers, parents: Parents) -> None:
    models = sub.add_parser(
        "models",
        parents=[parents.endpoint, parents.json],
        help="the server's models with their state (loaded first)",
    )
    models.add_argument("--loaded", action="store_true", help="only the models in memory")
    models.set_defaults(handler=cmd_models)

    load = sub.add_parser("load", parents=[parents.endpoint], help="load a model into the server's memory")
    load.add_argument("name", metavar="MODEL", help="the model, as `trayai models` lists it")
    load.add_argument(
        "--keep-alive",
        metavar="D",
        help="how long the server keeps it loaded when idle: 30m, 1h, 300 (seconds), -1 = until unloaded "
        "(Ollama; other servers keep their own policy)",
    )
    load.add_argument(
        "--timeout", type=float, default=LOAD_DEADLINE, metavar="S", help="give up after S seconds (300)"
    )
    load.set_defaults(handler=cmd_load)

    unload = sub.add_parser("unload", parents=[parents.endpoint], help="free a model's memory")
    target = unload.add_mutually_exclusive_group(required=True)
    target.add_argument("name", nargs="?", metavar="MODEL", help="the model to unload")
    target.add_argument("--all", action="store_true", help="every loaded model")
    unload.set_defaults(handler=cmd_unload)

    pull = sub.add_parser("pull", parents=[parents.endpoint], help="download a model (Ctrl+C cancels)")
    pull.add_argument("name", metavar="MODEL", help="as the server's registry spells it, e.g. llama3.2:1b")
    pull.set_defaults(handler=cmd_pull)

    servers = sub.add_parser(
        "servers",
        parents=[parents.endpoint, parents.json],
        help="every profile's server: kind, state, loaded models",
        description="Every profile's server at a glance. With --endpoint (or --model) also the server "
        "they select, as `trayai ask` would use it; the exit code is then that server's (0 up, 1 down).",
    )
    servers.set_defaults(handler=cmd_servers)


# ---------------------------------------------------------------------- models


def cmd_models(ctx: Context) -> int:
    resolved = ctx.resolve()

    async def run() -> int:
        async with ModelClient(resolved.endpoint) as client:
            try:
                listing = await client.list_models()
            except TrayaiError as exc:
                return ctx.fail(exc)
            snapshot = await ModelManager(client).snapshot()
        owners = {m.id: m.owned_by for m in listing.models}
        records = list(snapshot.models) if snapshot.error is None and snapshot.models else []
        if not records:
            records = [ModelRecord(i, ModelState.UNKNOWN) for i in listing.ids]
            if snapshot.error is not None:
                ctx.say(f"note: the model states could not be read: {ctx.line(snapshot.error.message)}")
        match = match_model(resolved.model, listing.ids)
        if ctx.args.loaded:
            if not snapshot.caps.loaded_state:
                ctx.say(
                    f"this server ({snapshot.kind.label}) does not say which models are loaded; "
                    "`trayai models` lists everything it offers."
                )
                return EXIT_FAIL
            records = [r for r in records if r.state.in_memory]
        if ctx.args.json:
            rows = [{**r.to_dict(), "owned_by": owners.get(r.id)} for r in records]
            _dump(
                ctx,
                {
                    "base_url": resolved.base_url,
                    "server": listing.server,
                    "kind": snapshot.kind.value,
                    "configured": resolved.model,
                    "resolved": match.resolved,
                    "models": rows,
                },
            )
            return EXIT_OK
        if not records and not ctx.args.loaded:
            ctx.say(f"{resolved.base_url} lists no models — pull or load one first.")
            return EXIT_FAIL
        now = time.time()
        for record in records:
            mark = "*" if record.id == match.resolved else " "
            facts = (["cloud"] if record.remote else []) + record_facts(record, now)[1:]  # state: its column
            owner = owners.get(record.id)
            if not facts and owner:
                facts = [f"({owner})"]
            tail = f"  {ctx.line(' · '.join(facts))}" if facts else ""
            ctx.out.write(f"{mark} {record.state.value:<11} {ctx.line(record.id)}{tail}\n")
        if ctx.args.loaded and not records:
            ctx.say(f"nothing is loaded on {resolved.base_url} ({snapshot.kind.label})")
        elif match.resolved is None:
            ctx.say(f"note: the configured model {resolved.model!r} is not among them")
        return EXIT_OK

    return asyncio.run(run())


class _EveryServer(TypedDict):
    active: str
    servers: list[ServerLookDict]


class ServersDict(_EveryServer, total=False):
    """``trayai servers --json``: every profile's server, and ``--endpoint``'s when one was given."""

    endpoint: ServerLookDict


def _dump(ctx: Context, value: Any) -> None:
    json.dump(ctx.data(value), ctx.out, indent=2)
    ctx.out.write("\n")


def _unsupported(ctx: Context, resolved: ResolvedEndpoint, exc: Unsupported) -> int:
    """The refusal, with the built-in server's own way when that is the endpoint."""
    if is_builtin_url(resolved.base_url, ctx.loaded.settings.builtin_server):
        exc = Unsupported(
            ServerKind.BUILTIN,
            exc.message.split(" cannot ", 1)[1],
            "The built-in server serves one model at a time: choose it in the tray (Model ▸) or run "
            "`trayai serve --model NAME` (`trayai serve --list` shows what it can serve).",
        )
    return ctx.fail(exc)


# ---------------------------------------------------------------------- load / unload


def cmd_load(ctx: Context) -> int:
    resolved = ctx.resolve()
    keep_alive = None
    if ctx.args.keep_alive is not None:
        try:
            keep_alive = parse_duration(ctx.args.keep_alive)
        except ValueError as exc:
            ctx.say(f"error: {exc}")
            return EXIT_USAGE
    if ctx.args.timeout <= 0:
        ctx.say("error: --timeout must be more than 0 seconds")
        return EXIT_USAGE

    async def run() -> int:
        started = time.monotonic()
        async with ModelClient(resolved.endpoint) as client:
            manager = ModelManager(client)
            shown: list[ModelState] = []

            def progress(record: ModelRecord) -> None:
                if not shown or shown[-1] is not record.state:
                    shown.append(record.state)
                    ctx.say(f"{ctx.line(record.id)}: {record.state.value}…")

            try:
                record = await manager.load(
                    ctx.args.name, keep_alive=keep_alive, deadline=ctx.args.timeout, on_state=progress
                )
            except Unsupported as exc:
                return _unsupported(ctx, resolved, exc)
            except TrayaiError as exc:
                return ctx.fail(exc)
        took = time.monotonic() - started
        if record.state is ModelState.SLEEPING:  # could not be woken on purpose (router with --no-slots)
            ctx.out.write(
                f"{ctx.line(record.id)} is loaded but asleep on {ctx.line(manager.http.where)}: "
                "its next request wakes it\n"
            )
            return EXIT_OK
        facts = " · ".join(record_facts(record, time.time())[1:])
        ctx.out.write(
            f"loaded {ctx.line(record.id)} in {took:.1f} s"
            + (f" — {ctx.line(facts)}" if facts else "")
            + "\n"
        )
        if keep_alive is not None and manager.kind is not ServerKind.OLLAMA:
            ctx.say(f"note: {manager.kind.label if manager.kind else 'this server'} ignores --keep-alive")
        return EXIT_OK

    return asyncio.run(run())


def cmd_unload(ctx: Context) -> int:
    resolved = ctx.resolve()

    async def run() -> int:
        async with ModelClient(resolved.endpoint) as client:
            manager = ModelManager(client)
            try:
                if ctx.args.all:
                    names = await manager.unload_all()
                    if not names:
                        ctx.out.write("nothing was loaded\n")
                    for name in names:
                        ctx.out.write(f"unloaded {ctx.line(name)}\n")
                    return EXIT_OK
                record = await manager.unload(ctx.args.name)
            except Unsupported as exc:
                return _unsupported(ctx, resolved, exc)
            except TrayaiError as exc:
                return ctx.fail(exc)
        if record is None:
            ctx.out.write(f"{ctx.line(ctx.args.name)} was not loaded — nothing to do\n")
        else:
            ctx.out.write(f"unloaded {ctx.line(record.id)}\n")
        return EXIT_OK

    return asyncio.run(run())


# ---------------------------------------------------------------------- pull


class PullReporter:
    """A bar redrawn in place on a terminal; otherwise a line per phase and per 10%."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self.stream = stream
        self.name = name
        self.tty = stream.isatty()
        self._last = ("", -1)

    def update(self, step: PullProgress) -> None:
        text = progress_text(step)
        if self.tty:
            fraction = step.fraction
            bar = (
                ""
                if fraction is None
                else "[" + "#" * int(fraction * 30) + "." * (30 - int(fraction * 30)) + "] "
            )
            self.stream.write(f"\r\x1b[K{bar}{text}")
            self.stream.flush()
            return
        tenth = -1 if step.fraction is None else int(step.fraction * 10)
        if (step.phase, tenth) != self._last:
            self._last = (step.phase, tenth)
            print(text, file=self.stream, flush=True)

    def finish(self) -> None:
        if self.tty:
            self.stream.write("\r\x1b[K")
            self.stream.flush()


def cmd_pull(ctx: Context) -> int:
    resolved = ctx.resolve()
    name = ctx.args.name
    reporter = PullReporter(ctx.err, ctx.line(name))

    async def run() -> int:
        async with ModelClient(resolved.endpoint) as client:
            manager = ModelManager(client)
            try:
                async for step in manager.pull(name):
                    reporter.update(replace(step, phase=ctx.line(step.phase)))
            except Unsupported as exc:
                reporter.finish()
                return _unsupported(ctx, resolved, exc)
            except TrayaiError as exc:
                reporter.finish()
                return ctx.fail(exc)
        reporter.finish()
        ctx.out.write(f"pulled {ctx.line(name)} — `trayai load {ctx.line(name)}` to load it\n")
        return EXIT_OK

    try:
        return asyncio.run(run())
    except KeyboardInterrupt:
        reporter.finish()
        ctx.say(f"pull of {ctx.line(name)} cancelled (the server may keep what it fetched and resume later)")
        return EXIT_INTERRUPTED


# ---------------------------------------------------------------------- servers


def cmd_servers(ctx: Context) -> int:
    """Every profile's server; with ``--endpoint``/``--model``, also the one they select.

    Someone who adds ``--endpoint URL`` wants that server looked at (the README says every command
    takes it), so it gets its own row, labelled by the flag, and decides the exit code.
    """
    args, settings = ctx.args, ctx.loaded.settings
    selected = ctx.resolve() if args.endpoint or args.model or args.profile else None
    label = "--endpoint" if args.endpoint else f"--model {args.model}"
    extra = selected if args.endpoint or args.model else None

    async def run() -> tuple[list[ServerLook], ServerLook | None]:
        if extra is None:
            return await look_at_all(ctx.loaded, ctx.secrets, ctx.known), None
        quick = quick_endpoint(extra)

        async def one() -> ServerLook:
            async with ModelClient(quick.endpoint) as client:
                return replace(await look(quick, client, ModelManager(client)), profile=label)

        return await asyncio.gather(look_at_all(ctx.loaded, ctx.secrets, ctx.known), one())

    looks, extra_look = asyncio.run(run())
    if ctx.args.json:
        data: ServersDict = {"active": settings.active().name, "servers": [x.to_dict() for x in looks]}
        if extra_look is not None:
            data["endpoint"] = extra_look.to_dict()
        _dump(ctx, data)
    else:
        for one_look in looks:
            _write_look(ctx, one_look, "*" if one_look.profile == settings.active().name else " ")
        if extra_look is not None:
            _write_look(ctx, extra_look, ">")
    if extra_look is not None:
        return EXIT_OK if extra_look.up else EXIT_FAIL
    if selected is not None:  # --profile alone: that profile's server decides
        return EXIT_OK if any(x.up for x in looks if x.profile == selected.profile.name) else EXIT_FAIL
    return EXIT_OK if any(x.up for x in looks) else EXIT_FAIL


def _write_look(ctx: Context, seen: ServerLook, mark: str) -> None:
    kind = seen.kind.label if seen.kind else "?"
    loaded = "" if seen.loaded is None else f" · {len(seen.loaded)} loaded"
    names = f": {', '.join(seen.loaded)}" if seen.loaded else ""
    ctx.out.write(
        f"{mark} {ctx.line(seen.profile)}  {seen.state.words} — {ctx.line(seen.where)} ({kind}){loaded}"
        f"{ctx.line(names)}\n"
    )
    if seen.problem:
        ctx.out.write(f"      {ctx.line(seen.problem)}\n")


__all__ = ["PullReporter", "register"]
