"""The ``trayai`` command: the tray app by default, and everything scriptable from a terminal.

Every command shares ``--endpoint``, ``--model`` and ``--profile`` over the configuration and the
``LOCAL_MODEL_*`` environment. Failures print the typed error's one-line message and hint on stderr
and exit non-zero (1 for a failure, 2 for bad usage, 130 when interrupted).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from trayai import __version__
from trayai.core.client import GenerationOptions, ModelClient
from trayai.core.config import ConfigError, ConfigStore, LoadedConfig, Settings
from trayai.core.embedded import EmbeddedServer, is_builtin_url, list_models_sync
from trayai.core.errors import TrayaiError
from trayai.core.logs import setup_logging
from trayai.core.paths import AppPaths
from trayai.core.redact import Redactor
from trayai.core.resolve import ResolvedEndpoint, resolve_endpoint
from trayai.core.secrets import SecretStore
from trayai.core.textsafe import (
    TerminalSanitizer,
    escape_line,
    json_safe,
    strip_controls,
    valid_data,
    valid_text,
)

if TYPE_CHECKING:
    from trayai.core.batch import BatchItem
    from trayai.core.history import HistoryStore

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


class Context:
    """What every command needs, built once from the arguments (no globals).

    Server strings are untrusted: printed through :meth:`line` / :meth:`fail` (keys redacted,
    controls shown visibly) or, for answers, :class:`~trayai.core.textsafe.TerminalSanitizer`.
    """

    def __init__(
        self, args: argparse.Namespace, stdout: TextIO, stderr: TextIO, redactor: Redactor | None = None
    ) -> None:
        self.args = args
        self.out = stdout
        self.err = stderr
        self.redactor = redactor if redactor is not None else Redactor()
        self.paths = AppPaths.from_env()
        self.store = ConfigStore(self.paths)
        self.loaded: LoadedConfig = self.store.load()
        self._secrets: SecretStore | None = None
        for warning in self.loaded.warnings:
            self.say(f"warning: {warning}")

    @property
    def secrets(self) -> SecretStore:
        if self._secrets is None:
            self._secrets = SecretStore()
        return self._secrets

    def say(self, text: str) -> None:
        print(text, file=self.err, flush=True)

    def resolve(self) -> ResolvedEndpoint:
        args = self.args
        return self.known(
            resolve_endpoint(
                self.loaded, self.secrets, profile=args.profile, base_url=args.endpoint, model=args.model
            )
        )

    def known(self, resolved: ResolvedEndpoint) -> ResolvedEndpoint:
        """Register the endpoint's key with the redactor: a server may echo it back."""
        if resolved.has_real_key:
            self.redactor.add_secret(resolved.endpoint.api_key)
        return resolved

    def line(self, text: str) -> str:
        """A server string for one line of output: no key, no control characters."""
        return escape_line(self.redactor.redact(text))

    def data(self, value: Any) -> Any:
        """Server data for ``--json``: keys redacted (json.dumps escapes the controls)."""
        return self.redactor.redact_data(value)

    def fail(self, error: TrayaiError) -> int:
        error = error.redacted(self.redactor.redact)
        self.say(f"error: {escape_line(error.message)}")
        if error.detail and error.detail not in error.message:
            self.say(f"  server said: {escape_line(error.detail)}")
        self.say(f"  → {escape_line(error.hint)}")
        return EXIT_FAIL


# ---------------------------------------------------------------------------- commands


def cmd_ask(ctx: Context) -> int:
    args = ctx.args
    prompt = " ".join(args.prompt).strip() if args.prompt else ""
    if not prompt or prompt == "-":
        if sys.stdin is None or sys.stdin.isatty():
            ctx.say("error: no prompt — pass it as an argument or pipe it on stdin")
            return EXIT_USAGE
        prompt = sys.stdin.read().strip()
        if not prompt:
            ctx.say("error: the prompt read from stdin is empty")
            return EXIT_USAGE
    resolved = ctx.resolve()
    params = resolved.profile.generation
    system = args.system if args.system is not None else params.system_prompt
    messages: list[dict[str, str]] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": prompt})
    options = GenerationOptions(
        temperature=args.temperature if args.temperature is not None else params.temperature,
        top_p=params.top_p,
        max_tokens=args.max_tokens if args.max_tokens is not None else params.max_tokens,
    )
    with _autostarted_server(ctx, resolved):
        return asyncio.run(_ask(ctx, resolved, messages, options))


async def _ask(
    ctx: Context, resolved: ResolvedEndpoint, messages: list[dict[str, str]], options: GenerationOptions
) -> int:
    async with ModelClient(resolved.endpoint) as client:
        model = resolved.model
        if not ctx.args.no_resolve:
            # Send the server's own spelling of the model (e.g. docker.io/ai/smollm2:latest).
            with contextlib.suppress(TrayaiError):
                from trayai.core.modelmatch import match_model

                listing = await client.list_models()
                match = match_model(model, listing.ids)
                if match.resolved:
                    model = match.resolved
                elif listing.ids and ctx.args.model is None:
                    hint = f" — did you mean {', '.join(match.suggestions)}?" if match.suggestions else ""
                    ctx.say(ctx.line(f"warning: {model!r} is not listed by the server{hint}"))
        clean = _answer_filter(ctx)
        if not resolved.profile.generation.stream:
            try:
                result = await client.complete(messages, model=model, options=options)
            except TrayaiError as exc:
                return ctx.fail(exc)
            text = clean(result.text)
            ctx.out.write(text + ("" if text.endswith("\n") else "\n"))
            ctx.out.flush()
            if ctx.args.stats:
                ctx.say(ctx.line(_stats_line(result.to_dict())))
            return EXIT_OK
        stream = client.stream_chat(messages, model=model, options=options)
        wrote_newline = True
        try:
            async with stream:
                async for delta in stream:
                    text = clean(delta)
                    if not text:
                        continue
                    ctx.out.write(text)
                    ctx.out.flush()
                    wrote_newline = text.endswith("\n")
        except TrayaiError as exc:
            if not wrote_newline:
                ctx.out.write("\n")
            if stream.text:
                ctx.say("(the partial answer above was kept)")
            return ctx.fail(exc)
        if not wrote_newline:
            ctx.out.write("\n")
            ctx.out.flush()
        final = stream.result
        if final is not None:
            if final.cut_at_max_tokens:
                ctx.say("(answer cut at max tokens — raise --max-tokens for more)")
            if ctx.args.stats:
                ctx.say(ctx.line(_stats_line(final.to_dict())))
    return EXIT_OK


def _answer_filter(ctx: Context) -> Callable[[str], str]:
    """Answer text → stdout: terminal controls removed (also split across deltas), unless ``--raw``
    asks for the server's text as sent and stdout is not a terminal (a pipe, a file)."""
    if ctx.args.raw and not ctx.out.isatty():
        return valid_text
    return TerminalSanitizer().feed


def _stats_line(stats: dict[str, Any]) -> str:
    parts = [
        str(stats["model"]),
        f"{stats['completion_tokens']} tokens" + (" (counted)" if stats["usage_estimated"] else ""),
    ]
    if stats["tokens_per_second"]:
        parts.append(f"{stats['tokens_per_second']:.1f} tok/s")
    if stats["ttft_s"] is not None:
        parts.append(f"first token {stats['ttft_s'] * 1000:.0f} ms")
    parts.append(f"finish: {stats['finish_reason']}")
    return "[" + " · ".join(parts) + "]"


def cmd_models(ctx: Context) -> int:
    resolved = ctx.resolve()

    async def run() -> int:
        async with ModelClient(resolved.endpoint) as client:
            try:
                listing = await client.list_models()
            except TrayaiError as exc:
                return ctx.fail(exc)
        from trayai.core.modelmatch import match_model

        match = match_model(resolved.model, listing.ids)
        if ctx.args.json:
            json.dump(
                ctx.data(
                    {
                        "base_url": resolved.base_url,
                        "server": listing.server,
                        "configured": resolved.model,
                        "resolved": match.resolved,
                        "models": [m.__dict__ for m in listing.models],
                    }
                ),
                ctx.out,
                indent=2,
            )
            ctx.out.write("\n")
            return EXIT_OK
        if not listing.models:
            ctx.say(f"{resolved.base_url} lists no models — pull or load one first.")
            return EXIT_FAIL
        for info in listing.models:
            mark = "*" if info.id == match.resolved else " "
            owner = f"  ({ctx.line(info.owned_by)})" if info.owned_by else ""
            ctx.out.write(f"{mark} {ctx.line(info.id)}{owner}\n")
        if match.resolved is None:
            ctx.say(f"note: the configured model {resolved.model!r} is not among them")
        return EXIT_OK

    return asyncio.run(run())


def cmd_status(ctx: Context) -> int:
    from trayai.core.doctor import diagnose

    resolved = ctx.resolve()

    async def run() -> int:
        async with ModelClient(resolved.endpoint) as client:
            report = await diagnose(client, resolved, generate=not ctx.args.quick)
        if ctx.args.json:
            json.dump(ctx.data(report.to_dict()), ctx.out, indent=2)
            ctx.out.write("\n")
            return EXIT_OK if report.ok else EXIT_FAIL
        out = ctx.out
        out.write(f"trayai status — profile {ctx.line(repr(resolved.profile.name))}\n")
        for check in report.checks:
            mark = {True: "✓", False: "✗", None: "–"}[check.ok]
            out.write(f"  {mark} {check.name}: {ctx.line(check.detail)}\n")
            if check.hint:
                out.write(f"      → {ctx.line(check.hint)}\n")
        out.write(f"State: {report.status.state.words} — {ctx.line(report.status.summary)}\n")
        return EXIT_OK if report.ok else EXIT_FAIL

    return asyncio.run(run())


def cmd_batch(ctx: Context) -> int:
    from pathlib import Path

    from trayai.core.batch import completed_ids, read_items
    from trayai.core.filelock import FileLockedError, exclusive_lock

    args = ctx.args
    source, output = Path(args.input), Path(args.output)
    if not source.is_file():
        ctx.say(f"error: the input file {source} does not exist")
        return EXIT_USAGE
    if output.exists() and not (args.resume or args.force):
        ctx.say(f"error: {output} exists — add --resume to continue it, or --force to overwrite it")
        return EXIT_USAGE
    try:
        items = read_items(source, system=args.system or "")
    except (OSError, UnicodeDecodeError) as exc:
        ctx.say(f"error: cannot read {source}: {exc}")
        return EXIT_USAGE
    with contextlib.ExitStack() as held:
        try:  # for the whole run: a second batch on the same file would answer every line again
            lock = held.enter_context(exclusive_lock(output, what="another `trayai batch` run"))
        except FileLockedError as exc:
            ctx.say(f"error: {exc.message}\n  → {exc.hint}")
            return EXIT_FAIL
        except OSError as exc:
            ctx.say(f"error: cannot write {output}: {exc.strerror or exc}")
            return EXIT_FAIL
        if not args.resume:
            os.ftruncate(lock, 0)  # only now: truncating first would wipe a running batch's work
        return _run_batch(ctx, items, output, completed_ids(output) if args.resume else set())


def _run_batch(ctx: Context, items: list[BatchItem], output: Path, skip: set[str]) -> int:
    from trayai.core.batch import BatchStats, run_batch

    args = ctx.args
    resolved = ctx.resolve()
    params = resolved.profile.generation
    options = GenerationOptions(
        temperature=args.temperature if args.temperature is not None else params.temperature,
        top_p=params.top_p,
        max_tokens=args.max_tokens if args.max_tokens is not None else params.max_tokens,
    )
    written = 0
    progress = _Progress(ctx.err)

    with _autostarted_server(ctx, resolved), output.open("a", encoding="utf-8") as sink:

        def write(record: dict[str, Any]) -> None:
            nonlocal written
            clean = ctx.redactor.redact_data(valid_data(record), patterns=False)  # no echoed key
            sink.write(json_safe(json.dumps(clean, ensure_ascii=False)) + "\n")
            sink.flush()  # what is on disk is always complete lines of finished work
            written += 1

        async def run() -> BatchStats:
            async with ModelClient(resolved.endpoint) as client:
                return await run_batch(
                    client,
                    items,
                    write,
                    default_model=resolved.model,
                    default_options=options,
                    concurrency=args.concurrency,
                    ordered=not args.unordered,
                    skip_ids=skip,
                    stream=params.stream,
                    on_progress=progress.update,
                )

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


def cmd_bench(ctx: Context) -> int:
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
    with _autostarted_server(ctx, targets[0]):
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
        from trayai.ui.chart import save_bench_chart

        save_bench_chart(reports, args.plot)
        ctx.say(f"chart written to {args.plot}")
    failed = sum(r.failed_runs for r in reports)
    if failed:
        ctx.say(f"error: {failed} run(s) failed; the figures above count only the runs that completed")
        return EXIT_FAIL
    return EXIT_OK


def cmd_config(ctx: Context) -> int:
    from trayai.core import config_edit

    args, settings = ctx.args, ctx.loaded.settings
    if args.action == "path":
        ctx.out.write(
            f"config file: {ctx.paths.config_file}\nconfig dir:  {ctx.paths.config_dir}\n"
            f"data dir:    {ctx.paths.data_dir}\nlog dir:     {ctx.paths.log_dir}\n"
        )
        return EXIT_OK
    if args.action == "show":
        defaults = Settings()
        rows = []
        for key in config_edit.setting_keys():
            value = config_edit.get_setting(settings, key, args.profile)
            base = config_edit.get_setting(defaults, key) if not key.startswith("profile.") else None
            source = "default" if value == base else "config file"
            short = key.removeprefix("profile.")
            if key.startswith("profile.") and short in ctx.loaded.overrides and args.profile is None:
                override = ctx.loaded.overrides[short]
                value, source = override.value, f"{override.variable} ({override.source}), not saved"
            rows.append((key, value, source))
        key_override = ctx.loaded.env_api_key
        profile = settings.profile(args.profile) if args.profile else settings.active()
        key_state = (
            f"from {key_override.variable} ({key_override.source})"
            if key_override
            else "in the keychain"
            if profile.key_in_keychain
            else "none (local servers need none)"
        )
        if args.json:
            json.dump(
                {
                    "profile": profile.name,
                    "settings": {k: v for k, v, _ in rows},
                    "sources": {k: s for k, _, s in rows},
                    "api_key": key_state,
                },
                ctx.out,
                indent=2,
            )
            ctx.out.write("\n")
            return EXIT_OK
        ctx.out.write(f"# {ctx.paths.config_file} — profile {profile.name!r}\n")
        width = max(len(k) for k, _, _ in rows)
        for key, value, source in rows:
            ctx.out.write(f"{key.ljust(width)} = {json.dumps(value, ensure_ascii=False)}   ({source})\n")
        ctx.out.write(f"{'api key'.ljust(width)} : {key_state}\n")
        return EXIT_OK
    if args.action == "get":
        value = config_edit.get_setting(settings, args.key, args.profile)
        ctx.out.write((value if isinstance(value, str) else json.dumps(value)) + "\n")
        return EXIT_OK
    notes = config_edit.set_setting(settings, args.key, args.value, args.profile)
    ctx.store.save(settings)
    if args.key == "start_at_login":
        from trayai.core.autostart import apply_autostart

        notes.append(apply_autostart(settings.start_at_login))
    for note in notes:
        ctx.say(note)
    short = args.key.removeprefix("profile.")
    if short in ctx.loaded.overrides and args.profile is None:
        override = ctx.loaded.overrides[short]
        ctx.say(f"note: {override.variable} ({override.source}) overrides this while it is set")
    ctx.say(f"saved {args.key} to {ctx.paths.config_file}")
    return EXIT_OK


def cmd_profile(ctx: Context) -> int:
    from trayai.core import config_edit

    args, settings = ctx.args, ctx.loaded.settings
    if args.action == "list":
        for profile in settings.profiles:
            mark = "*" if profile.name == settings.active().name else " "
            key = "  [key in keychain]" if profile.key_in_keychain else ""
            ctx.out.write(f"{mark} {profile.name}: {profile.base_url}  model {profile.model}{key}\n")
        return EXIT_OK
    if args.action == "add":
        notes = config_edit.add_profile(settings, args.name, args.base_url, args.model)
        for note in notes:
            ctx.say(note)
    elif args.action == "remove":
        had_key = settings.profile(args.name).key_in_keychain if settings.has_profile(args.name) else False
        config_edit.remove_profile(settings, args.name)
        if had_key:
            ctx.secrets.delete(args.name)
    else:
        config_edit.use_profile(settings, args.name)
    ctx.store.save(settings)
    verb = {"add": "added", "remove": "removed", "use": "now using"}[args.action]
    ctx.say(f"{verb} profile {args.name!r}")
    return EXIT_OK


def cmd_key(ctx: Context) -> int:
    import getpass

    args, settings = ctx.args, ctx.loaded.settings
    if not settings.has_profile(args.profile_name):
        ctx.say(f"error: no profile named {args.profile_name!r} (see `trayai profile list`)")
        return EXIT_USAGE
    profile = settings.profile(args.profile_name)
    if args.action == "delete":
        found = ctx.secrets.delete(profile.name)
        profile.key_in_keychain = False
        ctx.store.save(settings)
        ctx.say(f"deleted the key of {profile.name!r}" if found else f"{profile.name!r} had no stored key")
        return EXIT_OK
    if sys.stdin is not None and sys.stdin.isatty():
        key = getpass.getpass(f"API key for {profile.name!r} (not echoed): ")
    else:
        key = (sys.stdin.readline() if sys.stdin is not None else "").strip()
    if not key:
        ctx.say("error: no key given (type it at the prompt, or pipe it on stdin — never as an argument)")
        return EXIT_USAGE
    outcome = ctx.secrets.set(profile.name, key)
    if not outcome.persistent:
        ctx.say(f"error: {outcome.warning}")
        ctx.say("  → for now, set LOCAL_API_KEY in the environment or a .env file instead")
        return EXIT_FAIL
    profile.key_in_keychain = True
    ctx.store.save(settings)
    ctx.say(f"stored the key of {profile.name!r} in {outcome.backend}")
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

    def finish(self) -> None:
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def cmd_history(ctx: Context) -> int:
    """``trayai history list|search|export``: the chat window's history, from the shell."""
    from trayai.core.history import HistoryError, HistoryStore

    try:
        history = HistoryStore.in_dir(ctx.paths.data_dir)
    except HistoryError as exc:
        try:  # a read-only/full data dir can still be read: listing must not need a write
            if not exc.storage:
                raise
            history = HistoryStore.in_dir(ctx.paths.data_dir, read_only=True)
        except HistoryError:
            ctx.say(f"error: {exc.message}\n  → {exc.hint}")
            return EXIT_FAIL
        ctx.say(f"note: {exc.message} Reading the history without changing it.")
    if history.recovered_from is not None:
        ctx.say(f"warning: the history database was damaged; it was moved to {history.recovered_from}")
    try:
        return _history_action(ctx, history)
    except HistoryError as exc:
        ctx.say(f"error: {exc.message}\n  → {exc.hint}")
        return EXIT_FAIL


def _history_action(ctx: Context, history: HistoryStore) -> int:
    from datetime import datetime

    from trayai.core.history import MATCH_END, MATCH_START, ConversationNotFound

    args = ctx.args
    with history:
        if args.action == "list":
            conversations = history.list_conversations(limit=args.limit)
            if args.json:
                rows = [
                    {
                        "id": c.id,
                        "title": c.title,
                        "updated": datetime.fromtimestamp(c.updated).isoformat(timespec="seconds"),
                        "messages": c.message_count,
                        "model": c.model,
                    }
                    for c in conversations
                ]
                ctx.out.write(json_safe(json.dumps(rows, indent=2, ensure_ascii=False)) + "\n")
                return EXIT_OK
            if not conversations:
                ctx.say("no conversations yet (open the chat window with: trayai chat)")
            for c in conversations:
                when = datetime.fromtimestamp(c.updated).strftime("%Y-%m-%d %H:%M")
                ctx.out.write(f"{c.id:>5}  {when}  {c.message_count:>4} msgs  {escape_line(c.title)}\n")
            return EXIT_OK
        if args.action == "search":
            hits = history.search(" ".join(args.query), limit=args.limit)
            if args.json:
                rows = [
                    {
                        "conversation": h.conversation_id,
                        "title": h.title,
                        "message": h.message_id,
                        "index": h.index,
                        "role": h.role,
                        "snippet": h.snippet.replace(MATCH_START, "").replace(MATCH_END, ""),
                    }
                    for h in hits
                ]
                ctx.out.write(json_safe(json.dumps(rows, indent=2, ensure_ascii=False)) + "\n")
                return EXIT_OK
            if not hits:
                ctx.say("no matches")
                return EXIT_FAIL
            colour = ctx.out.isatty()
            start, end = ("\033[1;33m", "\033[0m") if colour else ("[", "]")
            for h in hits:
                # Stored text may hold a server's control sequences: shown escaped, around our markers.
                snippet = (
                    MATCH_START.join(
                        MATCH_END.join(escape_line(part) for part in piece.split(MATCH_END))
                        for piece in h.snippet.split(MATCH_START)
                    )
                    .replace(MATCH_START, start)
                    .replace(MATCH_END, end)
                )
                where = "title" if h.message_id is None else h.role
                ctx.out.write(f"{h.conversation_id:>5}  {escape_line(h.title)}\n       {where}: {snippet}\n")
            return EXIT_OK
        try:
            conversation = history.conversation(args.id, include_deleted=False)
        except ConversationNotFound:
            ctx.say(f"error: no conversation {args.id}\n  → list them with: trayai history list")
            return EXIT_FAIL
        if args.format == "json":
            exported = history.export_json(conversation.id)
            text = json_safe(json.dumps(exported, indent=2, ensure_ascii=False)) + "\n"
        else:
            text = history.export_markdown(conversation.id)
    if args.output:
        target = Path(args.output)
        if target.exists() and not args.force:
            ctx.say(f"error: {target} exists\n  → choose another name or add --force")
            return EXIT_USAGE
        try:
            target.write_text(text, encoding="utf-8")
        except OSError as exc:
            ctx.say(f"error: could not write {target}: {exc.strerror or exc}")
            return EXIT_FAIL
        ctx.say(f"exported conversation {args.id} to {target}")
    else:
        ctx.out.write(text if args.format == "json" else strip_controls(text))
    return EXIT_OK


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
            f"Serving {server.alias} at {server.base_url} ({settings.parallel} answers at once, "
            f"{server.threads} threads, {settings.context_size} tokens of context)\n"
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
def _autostarted_server(ctx: Context, resolved: ResolvedEndpoint) -> Iterator[None]:
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


# ---------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("endpoint selection")
    group.add_argument("--endpoint", metavar="URL", help="base URL of an OpenAI-compatible server")
    group.add_argument("--model", metavar="NAME", help="model name (as the server lists it)")
    group.add_argument("--profile", metavar="NAME", help="endpoint profile from the configuration")
    common.add_argument("--debug", action="store_true", help="verbose logging on stderr")

    parser = argparse.ArgumentParser(
        prog="trayai",
        usage="trayai [-h] [--version] [--debug] [COMMAND] …   (no command: start the tray app)",
        description="A system-tray assistant for local AI models behind an OpenAI-compatible API.",
        epilog="Environment: LOCAL_MODEL_BASE_URL, LOCAL_MODEL_NAME, LOCAL_API_KEY (also read from "
        "./.env and the config directory's .env). Run `trayai COMMAND --help` for details.",
    )
    parser.add_argument("--version", action="version", version=f"trayai {__version__}")
    parser.add_argument("--debug", action="store_true", help="verbose logging on stderr")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    ask = sub.add_parser("ask", parents=[common], help="ask a question; the answer streams to stdout")
    ask.add_argument("prompt", nargs="*", help="the prompt (or '-' / nothing to read stdin)")
    ask.add_argument("--system", help="system prompt (default: the profile's)")
    ask.add_argument("--temperature", type=float, help="sampling temperature")
    ask.add_argument("--max-tokens", type=int, help="longest answer in tokens")
    ask.add_argument("--stats", action="store_true", help="print tokens, speed and timings on stderr")
    ask.add_argument(
        "--raw",
        action="store_true",
        help="write the answer exactly as the server sent it when stdout is not a terminal "
        "(by default terminal control sequences are removed; a terminal always gets them removed)",
    )
    ask.add_argument(
        "--no-autostart",
        action="store_true",
        help="do not start the built-in server when the local endpoint is silent",
    )
    ask.add_argument(
        "--no-resolve",
        action="store_true",
        help="send the model name as given, without matching it against /models",
    )
    ask.set_defaults(handler=cmd_ask)

    models = sub.add_parser("models", parents=[common], help="list the server's models")
    models.add_argument("--json", action="store_true", help="machine-readable output")
    models.set_defaults(handler=cmd_models)

    status = sub.add_parser(
        "status", parents=[common], help="check the endpoint: what was checked, what is wrong, what to do"
    )
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.add_argument("--quick", action="store_true", help="skip the test generation")
    status.set_defaults(handler=cmd_status)

    batch = sub.add_parser("batch", parents=[common], help="answer a JSONL file of prompts into a JSONL file")
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
    batch.add_argument(
        "--no-autostart",
        action="store_true",
        help="do not start the built-in server when the local endpoint is silent",
    )
    batch.set_defaults(handler=cmd_batch)

    bench = sub.add_parser(
        "bench",
        parents=[common],
        help="time to first token, tokens/s and a concurrency sweep (optionally vs another endpoint)",
    )
    bench.add_argument("--runs", type=int, default=5, help="sequential runs for the percentiles (default 5)")
    bench.add_argument("--max-tokens", type=int, default=64, help="tokens generated per run (default 64)")
    bench.add_argument("--levels", default="1,2,4,8", help="concurrent streams to sweep (default 1,2,4,8)")
    bench.add_argument("--compare", metavar="PROFILE|URL", help="measure a second endpoint side by side")
    bench.add_argument("--compare-model", metavar="NAME", help="model for --compare URL (default: the same)")
    bench.add_argument("--json", action="store_true", help="machine-readable output")
    bench.add_argument("--plot", metavar="PNG", help="also draw the concurrency sweep as a chart")
    bench.add_argument(
        "--no-autostart",
        action="store_true",
        help="do not start the built-in server when the local endpoint is silent",
    )
    bench.set_defaults(handler=cmd_bench)

    config = sub.add_parser("config", help="show, read or change settings (config path|show|get|set)")
    config_sub = config.add_subparsers(dest="action", metavar="ACTION", required=True)
    config_sub.add_parser("path", help="where the config, data and logs live")
    for name, text in (
        ("show", "every setting with its value and where it comes from"),
        ("get", "print one setting"),
        ("set", "change one setting (validated, then saved)"),
    ):
        action = config_sub.add_parser(name, help=text)
        if name in ("get", "set"):
            action.add_argument("key", help="e.g. poll_interval, builtin_server.port, profile.model")
        if name == "set":
            action.add_argument("value")
        if name == "show":
            action.add_argument("--json", action="store_true")
        action.add_argument("--profile", help="for profile.* keys: this profile instead of the active one")
    config.set_defaults(handler=cmd_config)

    profile = sub.add_parser("profile", help="endpoint profiles (profile list|add|remove|use)")
    profile_sub = profile.add_subparsers(dest="action", metavar="ACTION", required=True)
    profile_sub.add_parser("list", help="all profiles; * marks the active one")
    add = profile_sub.add_parser("add", help="add a profile")
    add.add_argument("name")
    add.add_argument("--base-url", required=True, help="normalised as in the settings dialog")
    add.add_argument("--model", help="model name (default ai/smollm2)")
    for name, text in (("remove", "remove a profile (and its stored key)"), ("use", "make a profile active")):
        profile_sub.add_parser(name, help=text).add_argument("name")
    profile.set_defaults(handler=cmd_profile)

    key = sub.add_parser("key", help="API keys in the OS keychain (key set|delete PROFILE)")
    key_sub = key.add_subparsers(dest="action", metavar="ACTION", required=True)
    key_sub.add_parser(
        "set", help="store a key: typed at a prompt or read from stdin, never from argv"
    ).add_argument("profile_name", metavar="PROFILE")
    key_sub.add_parser("delete", help="forget a stored key").add_argument("profile_name", metavar="PROFILE")
    key.set_defaults(handler=cmd_key)

    history = sub.add_parser("history", help="chat history (history list|search|export)")
    history_sub = history.add_subparsers(dest="action", metavar="ACTION", required=True)
    hlist = history_sub.add_parser("list", help="conversations, newest first")
    hlist.add_argument("--limit", type=int, default=50, help="how many (default 50)")
    hlist.add_argument("--json", action="store_true", help="machine-readable output")
    hsearch = history_sub.add_parser("search", help="full-text search over every message and title")
    hsearch.add_argument("query", nargs="+", help="words to find (all must match; the last may be a prefix)")
    hsearch.add_argument("--limit", type=int, default=20, help="how many hits (default 20)")
    hsearch.add_argument("--json", action="store_true", help="machine-readable output")
    hexport = history_sub.add_parser("export", help="one conversation as Markdown or JSON")
    hexport.add_argument("id", type=int, help="the conversation's number (see: trayai history list)")
    hexport.add_argument("--format", choices=("md", "json"), default="md", help="md (default) or json")
    hexport.add_argument("-o", "--output", help="write to this file instead of stdout")
    hexport.add_argument("--force", action="store_true", help="overwrite an existing output file")
    history.set_defaults(handler=cmd_history)

    serve = sub.add_parser(
        "serve", parents=[common], help="run the built-in llama.cpp server (SmolLM2) in the foreground"
    )
    serve.add_argument("--port", type=int, help="port on 127.0.0.1 (default 8080)")
    serve.add_argument("--model-file", metavar="GGUF", help="a GGUF model (default: bundled SmolLM2)")
    serve.add_argument(
        "--alias", help="model name to announce (default: ai/smollm2 for SmolLM2, else the file's name)"
    )
    serve.add_argument("--ctx-size", type=int, help="context window in tokens, shared by parallel answers")
    serve.add_argument("--threads", type=int, help="CPU threads (0 = automatic: the physical cores)")
    serve.add_argument("--parallel", type=int, help="answers generated at once (default 4)")
    serve.add_argument("--models-dir", metavar="DIR", help="folder of .gguf models to choose from")
    serve.add_argument("--list", action="store_true", help="list the models it can serve and exit")
    serve.add_argument("--json", action="store_true", help="with --list: JSON output")
    serve.set_defaults(handler=cmd_serve)

    for name, text in (
        ("chat", "open the chat window of the running trayai (starting it if needed)"),
        ("prompt", "open the quick prompt (bind this command to a key in your desktop's settings)"),
        ("settings", "open the settings of the running trayai"),
        ("quit", "quit the running trayai (and the built-in server it started)"),
    ):
        gui = sub.add_parser(name, help=text)
        gui.add_argument("--debug", action="store_true", help="verbose logging on stderr")
        gui.set_defaults(gui_command=name)
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None
) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    if args.command is None or getattr(args, "gui_command", None):
        from trayai.ui.app import run_app  # PySide6 is loaded only for the GUI

        return run_app(getattr(args, "gui_command", None) or "show", debug=getattr(args, "debug", False))
    redactor = Redactor()  # one per run: the keys this command resolves, for logs and output alike
    if getattr(args, "debug", False):
        setup_logging(None, debug=True, stderr=True, redactor=redactor)
    ctx: Context | None = None
    try:
        ctx = Context(args, out, err, redactor)
        code: int = args.handler(ctx)
        return code
    except TrayaiError as exc:
        if ctx is not None:
            return ctx.fail(exc)
        print(f"error: {escape_line(exc.message)}\n  → {escape_line(exc.hint)}", file=err)
        return EXIT_FAIL
    except ConfigError as exc:
        print(f"error: {exc}", file=err)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=err)
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `trayai ask … | head` closed the pipe: not an error
        with contextlib.suppress(Exception):
            sys.stdout = None
        return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
