"""``trayai serve``: the built-in llama.cpp server in the foreground (one model, or with
``--on-demand`` every library model loaded when asked for), its model listing, and the on-demand
start other commands (``ask``, ``batch``, ``bench``) use when the local endpoint is silent."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import time
from collections.abc import Iterator
from dataclasses import replace
from types import FrameType

from trayai.cli.context import EXIT_FAIL, EXIT_OK, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.core.embedded import EmbeddedServer, is_builtin_url
from trayai.core.errors import TrayaiError
from trayai.core.library.load_plans import LiveModelSettings
from trayai.core.library.ondemand import OnDemandOptions, build_front
from trayai.core.library.pool import DEFAULT_KEEP_ALIVE
from trayai.core.loopback import list_models_sync
from trayai.core.settings.resolve import ResolvedEndpoint


def register(sub: Subparsers, parents: Parents) -> None:
    _add_serve(sub, parents)


def _add_serve(sub: Subparsers, parents: Parents) -> None:
    serve = sub.add_parser(
        "serve",
        parents=[parents.endpoint],
        help="run the built-in llama.cpp server (SmolLM2) in the foreground",
    )
    serve.add_argument("--port", type=int, help="port on 127.0.0.1 (default 8080)")
    serve.add_argument("--model-file", metavar="GGUF", help="a GGUF model (default: bundled SmolLM2)")
    serve.add_argument(
        "--alias", help="model name to announce (default: ai/smollm2 for SmolLM2, else the file's name)"
    )
    serve.add_argument(
        "--ctx-size",
        type=int,
        help="context window in tokens, shared by parallel answers (with --on-demand: for each model "
        "without its own, instead of auto)",
    )
    serve.add_argument(
        "--threads",
        type=int,
        help="CPU threads (0 = automatic: physical cores but one; with --on-demand: for each model "
        "without its own)",
    )
    serve.add_argument("--parallel", type=int, help="answers generated at once (default 4)")
    serve.add_argument("--models-dir", metavar="DIR", help="folder of .gguf models to choose from")
    serve.add_argument("--list", action="store_true", help="list the models it can serve and exit")
    serve.add_argument("--json", action="store_true", help="with --list: JSON output")
    serve.add_argument(
        "--on-demand",
        action="store_true",
        help="serve every model of the library, each loaded when a request names it",
    )
    serve.add_argument(
        "--keep-alive",
        type=float,
        metavar="SECONDS",
        default=DEFAULT_KEEP_ALIVE,
        help="with --on-demand: unload a model idle this long (default 600; -1 = never)",
    )
    serve.add_argument(
        "--max-memory",
        type=float,
        metavar="GB",
        help="with --on-demand: memory the loaded models may need together (default: free RAM minus 1 GB)",
    )
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(ctx: Context) -> int:
    args = ctx.args
    settings = ctx.loaded.settings.builtin_server
    for flag, name in (
        ("port", "port"),
        ("model_file", "model_file"),
        ("ctx_size", "context_size"),
        ("threads", "threads"),
        ("parallel", "parallel"),
        ("models_dir", "models_dir"),
    ):
        if getattr(args, flag) is not None:
            setattr(settings, name, getattr(args, flag))
    server = EmbeddedServer(
        settings, ctx.paths.server_log_file, models_dir=ctx.paths.models_dir, alias=args.alias
    )
    if args.list:
        return _print_local_models(ctx, server)
    if args.on_demand:
        return _serve_on_demand(ctx)
    if args.model is not None:
        try:
            server.select_model(args.model)
        except TrayaiError as exc:
            return ctx.fail(exc)

    def on_signal(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt  # SIGTERM stops cleanly, exactly like Ctrl+C

    previous = signal.signal(signal.SIGTERM, on_signal)
    try:
        server.start()
        ctx.say(f"Starting the built-in server (log: {server.log_file})")
        server.wait_ready(progress=lambda message: ctx.say(f"  {message}"))
        ctx.out.write(
            serving_line(
                server.alias, server.base_url, settings.parallel, server.threads, settings.context_size
            )
        )
        ctx.out.write(f'Try: trayai ask --endpoint {server.base_url} "Hello"   (Ctrl+C stops)\n')
        ctx.out.flush()
        while server.is_running():
            time.sleep(0.5)
        ctx.say(f"The built-in server exited unexpectedly. Log ({server.log_file}):\n{server.log_tail(10)}")
        return EXIT_FAIL
    except TrayaiError as exc:
        return ctx.fail(exc)
    except KeyboardInterrupt:
        ctx.say("Stopping the built-in server…")
        server.stop()
        ctx.say("Stopped.")
        return EXIT_OK
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)


def _serve_on_demand(ctx: Context) -> int:
    """``trayai serve --on-demand``: one loopback endpoint, a child per model in use, until Ctrl+C."""
    args = ctx.args
    settings = replace(ctx.loaded.settings.builtin_server, on_demand=False)  # children: engines, not fronts
    budget = None if args.max_memory is None else int(args.max_memory * 1e9)
    try:
        front = build_front(
            settings,
            ctx.paths.log_dir,
            models_dir=ctx.paths.models_dir,
            options=OnDemandOptions(
                keep_alive=args.keep_alive,
                memory_budget=budget,
                context_size=args.ctx_size,
                threads=args.threads,
            ),
            on_event=lambda event: ctx.say(f"  {event.text}"),
            model_settings=LiveModelSettings(ctx.store, initial=ctx.loaded.settings).entry,
        )
    except TrayaiError as exc:
        return ctx.fail(exc)

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await front.start()
        names = [view.name for view in front.pool.models()]
        ctx.out.write(f"Serving {len(names)} models on demand at {front.base_url}: {', '.join(names)}\n")
        first = names[0] if names else "MODEL"
        try_it = f'trayai ask --endpoint {front.base_url} --model {first} "Hello"'
        ctx.out.write(f"Try: {try_it}   (Ctrl+C stops)\n")
        ctx.out.flush()
        await front.serve_until(stop.wait())

    try:
        asyncio.run(run())
    except TrayaiError as exc:
        return ctx.fail(exc)
    ctx.say("Stopped.")
    return EXIT_OK


def _print_local_models(ctx: Context, server: EmbeddedServer) -> int:
    """``trayai serve --list``: what the built-in server can serve (the models folder included)."""
    models = server.available_models()
    if ctx.args.json:
        rows = [{"name": m.name, "path": str(m.path), "size": m.size, "bundled": m.bundled} for m in models]
        json.dump({"models_dir": str(server.models_dir), "models": rows}, ctx.out, indent=2)
        ctx.out.write("\n")
        return EXIT_OK
    for model in models:
        where = "bundled" if model.bundled else str(model.path)
        ctx.out.write(f"{model.name}  {model.size / 1e6:,.0f} MB  {where}\n")
    ctx.say(f"Drop .gguf files into {server.models_dir} to add models; `trayai serve --model NAME`.")
    return EXIT_OK


@contextlib.contextmanager
def autostarted_server(ctx: Context, resolved: ResolvedEndpoint) -> Iterator[None]:
    """Local-first: start the built-in server for this command if the local endpoint is silent.

    Only for a loopback endpoint on the built-in server's port with ``builtin_server.autostart``
    on; the server is stopped again when the command ends (``trayai serve`` keeps one running).
    """
    builtin = ctx.loaded.settings.builtin_server
    wanted = not ctx.args.no_autostart and builtin.autostart and is_builtin_url(resolved.base_url, builtin)
    if not wanted or list_models_sync(resolved.base_url, timeout=1.0) is not None:
        yield
        return
    server = EmbeddedServer(builtin, ctx.paths.server_log_file, models_dir=ctx.paths.models_dir)
    try:
        server.start()
    except TrayaiError as exc:
        ctx.say(
            f"note: nothing answers at {resolved.base_url} and the built-in server cannot start: "
            f"{exc.message}"
        )
        yield
        return
    try:
        ctx.say(
            f"Nothing answers at {resolved.base_url}: starting the built-in server "
            f"(`trayai serve` keeps one running)…"
        )
        server.wait_ready(progress=lambda message: ctx.say(f"  {message}"))
        yield
    finally:
        server.stop()


def serving_line(alias: str, base_url: str, parallel: int, threads: int, context: int) -> str:
    """What `trayai serve` says once ready, in English on a 1-core machine too ("1 thread")."""
    answers = "1 answer at once" if parallel == 1 else f"{parallel} answers at once"
    cores = "1 thread" if threads == 1 else f"{threads} threads"
    return f"Serving {alias} at {base_url} ({answers}, {cores}, {context} tokens of context)\n"
