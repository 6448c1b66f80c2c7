"""``trayai batch`` (a JSONL file of prompts answered into a JSONL file, with a progress bar) and
``trayai bench`` (TTFT, tokens/s, a concurrency sweep)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from trayai.cli.context import EXIT_FAIL, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.cli.serve import autostarted_server
from trayai.core.errors import TrayaiError
from trayai.core.net.client import ModelClient
from trayai.core.settings.precedence import options_over_profile
from trayai.core.settings.resolve import ResolvedEndpoint, resolve_endpoint
from trayai.core.textsafe import json_safe, strip_controls, valid_data

if TYPE_CHECKING:
    from trayai.core.chat.batch import BatchItem, BatchRecord


def register(sub: Subparsers, parents: Parents) -> None:
    _add_batch(sub, parents)
    _add_bench(sub, parents)


def _add_batch(sub: Subparsers, parents: Parents) -> None:
    batch = sub.add_parser(
        "batch",
        parents=[parents.endpoint, parents.no_autostart],
        help="answer a JSONL file of prompts into a JSONL file",
    )
    batch.add_argument(
        "input",
        metavar="IN.jsonl",
        help='one JSON object a line: {"id"?, "prompt" | "messages", "model"?, params…}',
    )
    batch.add_argument("-o", "--output", metavar="OUT.jsonl", required=True, help="where answers go")
    batch.add_argument("--concurrency", type=int, default=4, help="requests at once (default 4)")
    batch.add_argument(
        "--unordered", action="store_true", help="write each answer as it completes instead of in input order"
    )
    batch.add_argument(
        "--resume",
        action="store_true",
        help="append to OUT, skipping ids already answered there (failed ones are retried)",
    )
    batch.add_argument("--force", action="store_true", help="overwrite an existing OUT")
    batch.add_argument("--system", help="system prompt for lines without their own")
    batch.add_argument("--temperature", type=float, help="default sampling temperature")
    batch.add_argument("--max-tokens", type=int, help="default longest answer in tokens")
    batch.set_defaults(handler=cmd_batch)


def cmd_batch(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.chat.batch import completed_ids, read_items

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.filelock import FileLockedError, exclusive_lock

    args = ctx.args
    source, output = Path(args.input), Path(args.output)
    if not source.is_file():
        ctx.say(f"error: the input file {source} does not exist")
        return EXIT_USAGE
    if output.exists() and not (args.resume or args.force):
        # Exit 1, not 2: the command line is right, the disk holds an earlier run's answers (the
        # same command succeeds once the file is gone); 2 is for words argparse would refuse.
        ctx.say(f"error: {output} exists (an earlier run's answers)")
        ctx.say("  → add --resume to continue it, or --force to overwrite it")
        return EXIT_FAIL
    try:
        items = read_items(source, system=args.system or "")
    except (OSError, UnicodeDecodeError) as exc:
        ctx.say(f"error: cannot read {source}: {exc}")
        return EXIT_USAGE
    with contextlib.ExitStack() as held:
        try:  # for the whole run: a second batch on the same file would answer every line again
            lock = held.enter_context(exclusive_lock(output, what="another `trayai batch` run"))
        except FileLockedError as exc:
            return ctx.fail(exc)
        except OSError as exc:
            ctx.say(f"error: cannot write {output}: {exc.strerror or exc}")
            return EXIT_FAIL
        if not args.resume:
            os.ftruncate(lock, 0)  # only now: truncating first would wipe a running batch's work
        return _run_batch(ctx, items, output, completed_ids(output) if args.resume else set())


def _run_batch(ctx: Context, items: list[BatchItem], output: Path, skip: set[str]) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.chat.batch import BatchStats, BatchTarget, run_batch

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.chat.fallback import fallback_chain

    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.chat.modelcheck import answered_by_note

    args = ctx.args
    resolved = ctx.resolve()
    params = resolved.profile.generation
    options = options_over_profile(params, temperature=args.temperature, max_tokens=args.max_tokens)
    written = 0
    progress = _Progress(ctx.err)

    with autostarted_server(ctx, resolved), output.open("a", encoding="utf-8") as sink:
        told_other: set[tuple[str, str]] = set()

        def write(record: BatchRecord) -> None:
            nonlocal written
            asked, answered = record.get("asked_model"), record.get("model")
            if asked and answered and (asked, answered) not in told_other:
                told_other.add((asked, answered))  # once per pair of names, not once per line
                progress.note(ctx.line(f"note: {answered_by_note(asked, answered)}"))
            clean = ctx.redactor.redact_data(valid_data(record), patterns=False)  # no echoed key
            sink.write(json_safe(json.dumps(clean, ensure_ascii=False)) + "\n")
            sink.flush()  # what is on disk is always complete lines of finished work
            written += 1

        chain = fallback_chain(
            ctx.loaded, ctx.secrets, resolved, ctx.known, explicit=bool(args.endpoint or args.model)
        )
        noted: set[str] = set()
        for skipped in chain.skipped:  # said up front: lines will never go there
            ctx.say(ctx.line(f"note: fallback {skipped}"))

        def say_note(note: str) -> None:
            if note not in noted:  # once per pair of profiles (or trim), not once per line
                noted.add(note)
                progress.note(ctx.line(f"note: {note}"))

        async def run() -> BatchStats:
            targets = [BatchTarget(r.own_profile, ModelClient(r.endpoint), r.model) for r in chain.endpoints]
            try:
                return await run_batch(
                    targets,
                    items,
                    write,
                    default_model=resolved.model,
                    default_options=options,
                    concurrency=args.concurrency,
                    ordered=not args.unordered,
                    skip_ids=skip,
                    stream=params.stream,
                    on_progress=progress.update,
                    on_note=say_note,
                )
            finally:
                for target in targets:
                    await target.client.aclose()

        try:
            stats = asyncio.run(run())
        except KeyboardInterrupt:
            progress.finish()
            ctx.say(
                f"interrupted: {written} finished line(s) are in {output}; "
                "run the same command with --resume to do the rest"
            )
            return EXIT_INTERRUPTED
    progress.finish()
    ctx.say(
        f"{stats.done} answered, {stats.failed} failed, {stats.skipped} already done "
        f"in {time.monotonic() - stats.started:.1f} s → {output}"
    )
    if stats.failed:
        ctx.say('  → failed lines carry an "error" record with a hint; fix and rerun with --resume')
        return EXIT_FAIL
    return EXIT_OK


class _Progress:
    """A progress bar with rate and ETA on a terminal; a quiet line every few seconds otherwise."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self._last = 0.0
        self._drawn = False

    def update(self, stats: Any) -> None:
        now = time.monotonic()
        complete = stats.pending == 0
        if not complete and now - self._last < (0.1 if self.tty else 5.0):
            return
        self._last = now
        total = max(1, stats.total - stats.skipped)
        eta = stats.eta()
        text = f"{stats.finished}/{total} ({stats.failed} failed) {stats.rate():.1f}/s" + (
            f" ETA {eta:.0f} s" if eta is not None and not complete else ""
        )
        if self.tty:
            width = 24
            filled = int(width * stats.finished / total)
            self.stream.write(f"\r[{'#' * filled}{'-' * (width - filled)}] {text}\033[K")
            self._drawn = True
        else:
            self.stream.write(f"batch: {text}\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        """A line of its own, above the bar (which is redrawn on the next update)."""
        if self._drawn:
            self.stream.write("\r\033[K")
            self._drawn = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _add_bench(sub: Subparsers, parents: Parents) -> None:
    bench = sub.add_parser(
        "bench",
        parents=[parents.endpoint, parents.json, parents.no_autostart],
        help="time to first token, tokens/s and a concurrency sweep (optionally vs another endpoint)",
    )
    bench.add_argument("--runs", type=int, default=5, help="sequential runs for the percentiles (default 5)")
    bench.add_argument("--max-tokens", type=int, default=64, help="tokens generated per run (default 64)")
    bench.add_argument("--levels", default="1,2,4,8", help="concurrent streams to sweep (default 1,2,4,8)")
    bench.add_argument("--compare", metavar="PROFILE|URL", help="measure a second endpoint side by side")
    bench.add_argument("--compare-model", metavar="NAME", help="model for --compare URL (default: the same)")
    bench.add_argument("--plot", metavar="PNG", help="also draw the concurrency sweep as a chart")
    bench.set_defaults(handler=cmd_bench)


def cmd_bench(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
    from trayai.core.bench import BenchReport, format_reports, run_bench

    args = ctx.args
    try:
        levels = [int(v) for v in args.levels.split(",") if v.strip()]
        if not levels or min(levels) < 1:
            raise ValueError
    except ValueError:
        ctx.say("error: --levels takes positive whole numbers, e.g. 1,2,4,8")
        return EXIT_USAGE
    targets = [ctx.resolve()]
    if args.compare:
        if ctx.loaded.settings.has_profile(args.compare):
            other = resolve_endpoint(ctx.loaded, ctx.secrets, profile=args.compare)
        else:
            other = resolve_endpoint(
                ctx.loaded, ctx.secrets, base_url=args.compare, model=args.compare_model or targets[0].model
            )
        targets.append(ctx.known(other))

    async def measure(resolved: ResolvedEndpoint) -> BenchReport:
        async with ModelClient(resolved.endpoint) as client:
            model = resolved.model
            with contextlib.suppress(TrayaiError):
                # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
                from trayai.core.modelmatch import match_model

                model = match_model(model, (await client.list_models()).ids).resolved or model
            return await run_bench(
                client,
                model,
                runs=args.runs,
                max_tokens=args.max_tokens,
                levels=levels,
                progress=lambda m: ctx.say(ctx.line(f"  {resolved.base_url}: {m}")),
            )

    reports = []
    with autostarted_server(ctx, targets[0]):
        for resolved in targets:
            try:
                reports.append(asyncio.run(measure(resolved)))
            except TrayaiError as exc:
                ctx.say(f"{resolved.base_url}:")
                return ctx.fail(exc)
    if args.json:
        json.dump(ctx.data([r.to_dict() for r in reports]), ctx.out, indent=2)
        ctx.out.write("\n")
    else:
        ctx.out.write(strip_controls(ctx.redactor.redact(format_reports(reports))) + "\n")
    if args.plot:
        # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
        from trayai.ui.chart import save_bench_chart

        save_bench_chart(reports, args.plot)
        ctx.say(f"chart written to {args.plot}")
    failed = sum(r.failed_runs for r in reports)
    if failed:
        ctx.say(f"error: {failed} run(s) failed; the figures above count only the runs that completed")
        return EXIT_FAIL
    return EXIT_OK
