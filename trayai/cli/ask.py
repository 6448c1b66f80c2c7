"""``trayai ask`` (one answer streamed to stdout; with ``--tools`` the model may call MCP tools, each
asked about on the terminal — cli/ask_tools.py) and ``status`` (the doctor's checks)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import time
from collections.abc import Callable
from typing import TextIO

from trayai.cli.ask_tools import TerminalTools, can_ask, stdin_line, tool_event_text
from trayai.cli.context import EXIT_FAIL, EXIT_OK, EXIT_USAGE, Context
from trayai.cli.parents import Parents, Subparsers
from trayai.cli.progress_line import PromptProgressLine
from trayai.cli.serve import autostarted_server
from trayai.core.chat.answer import (
    Answer,
    AnswerTarget,
    Done,
    Failed,
    FellBack,
    Reading,
    Text,
    Thinking,
    Trimmed,
)
from trayai.core.chat.fallback import fallback_chain, fallback_note
from trayai.core.chat.modelcheck import answered_by_note
from trayai.core.chat.tool_loop import ToolCallDone, ToolCallRequested, ToolLimitReached, ToolUse
from trayai.core.net.client import GenerationOptions, ModelClient
from trayai.core.net.wire import AnswerRecord, ChatMessage
from trayai.core.settings.prompt_presets import find_preset, request_options
from trayai.core.settings.resolve import ResolvedEndpoint
from trayai.core.textsafe import TerminalSanitizer, valid_text
from trayai.core.tools.support import tools_supported


def register(sub: Subparsers, parents: Parents) -> None:
    _add_ask(sub, parents)
    _add_status(sub, parents)


def _add_ask(sub: Subparsers, parents: Parents) -> None:
    ask = sub.add_parser(
        "ask",
        parents=[parents.endpoint, parents.no_autostart],
        help="ask a question; the answer streams to stdout",
    )
    ask.add_argument("prompt", nargs="*", help="the prompt (or '-' / nothing to read stdin)")
    ask.add_argument("--system", help="system prompt (default: the preset's, else the profile's)")
    ask.add_argument(
        "--preset",
        metavar="NAME",
        help="a prompt preset (`trayai preset list`): its system prompt and parameters, unless "
        "--system/--temperature/--max-tokens give them",
    )
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
        "--no-thinking",
        action="store_true",
        help="hide a reasoning model's thinking (by default it goes to stderr, dimmed on a terminal)",
    )
    ask.add_argument(
        "--no-resolve",
        action="store_true",
        help="send the model name as given, without matching it against /models",
    )
    ask.add_argument(
        "--tools",
        action="store_true",
        help="let the model call the tools of the enabled MCP servers (`trayai tools list`); each call is "
        "shown on stderr and asked about on the terminal unless mcp.json allows the tool",
    )
    ask.add_argument(
        "--allow-tool",
        action="append",
        default=[],
        metavar="NAME",
        help="a tool that may run without asking in this run (server__tool or server/tool; repeatable; "
        "implies --tools) — without a terminal only these (and those mcp.json allows) run",
    )
    ask.set_defaults(handler=cmd_ask)


def cmd_ask(ctx: Context) -> int:
    args = ctx.args
    args.tools = args.tools or bool(args.allow_tool)
    if args.tools and not args.allow_tool and not can_ask():
        ctx.say(
            "error: --tools asks before each tool call, and there is no terminal to ask on "
            "(stdin is not a TTY)\n"
            "  → name the tools that may run with --allow-tool NAME (server__tool or server/tool), "
            "or run it in a terminal"
        )
        return EXIT_USAGE
    preset = find_preset(ctx.loaded.settings.presets, args.preset) if args.preset else None
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
    system, options = request_options(
        resolved.profile.generation,
        preset,
        system=args.system,
        temperature=args.temperature,
        max_tokens=args.max_tokens,
    )
    messages: list[ChatMessage] = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.append({"role": "user", "content": prompt})
    with autostarted_server(ctx, resolved):
        return asyncio.run(_ask(ctx, resolved, messages, options))


async def _ask(
    ctx: Context, resolved: ResolvedEndpoint, messages: list[ChatMessage], options: GenerationOptions
) -> int:
    """The answer streamed to stdout; when the profile's server fails before answering, its fallbacks
    in order (each said on stderr). The events come from the one answer pipeline (core/chat/answer.py)."""
    args = ctx.args
    chain = fallback_chain(
        ctx.loaded, ctx.secrets, resolved, ctx.known, explicit=bool(args.endpoint or args.model)
    )
    targets = [
        AnswerTarget(
            ModelClient(r.endpoint),
            r.model,
            r.own_profile,
            stream=r.profile.generation.stream,
            context_tokens=r.profile.context_tokens,
        )
        for r in chain.endpoints
    ]
    tools = (
        await TerminalTools.connect(ctx, args.allow_tool, stdin_line if can_ask() else None)
        if args.tools
        else None
    )
    try:
        use = await _tool_use(ctx, tools, targets[0]) if tools is not None else None
        answer = Answer(targets, messages, options, check_models=not args.no_resolve, tools=use)
        return await _print_answer(ctx, answer, chain.skipped)
    finally:
        for target in targets:
            await target.client.aclose()
        if tools is not None:
            await tools.close()


async def _tool_use(ctx: Context, tools: TerminalTools, target: AnswerTarget) -> ToolUse | None:
    """The tools, unless the server says the model cannot call them (llama.cpp, Ollama say so)."""
    if not tools.hub.tools():
        return None
    if await tools_supported(target.client, target.model) is False:
        ctx.say(ctx.line(f"note: {target.name} says {target.model} cannot call tools: asking without them"))
        return None
    return tools.use()


async def _print_answer(ctx: Context, answer: Answer, skipped: list[str]) -> int:
    clean = _answer_filter(ctx)
    thoughts = _ThinkingWriter(ctx.err, shown=not ctx.args.no_thinking)
    wrote_newline, told_skipped = True, False
    first_failure: FellBack | None = None
    reading = PromptProgressLine(ctx.err)  # a terminal only: "Reading the prompt… 45 %"
    async with contextlib.aclosing(answer.events()) as events:
        async for event in events:
            if isinstance(event, Reading):
                reading.show(event.progress)
                continue
            reading.clear()
            if isinstance(event, Thinking):
                thoughts.write(event.text)
            elif isinstance(event, Text):
                thoughts.end()
                text = clean(event.text)
                if text:
                    ctx.out.write(text)
                    ctx.out.flush()
                    wrote_newline = text.endswith("\n")
            elif isinstance(event, FellBack):
                first_failure = first_failure or event
                if not told_skipped:
                    told_skipped = True
                    _say_skipped(ctx, skipped)
                ctx.say(ctx.line(f"note: {event.note}"))
            elif isinstance(event, Trimmed):
                ctx.say(f"note: {event.note}")
            elif isinstance(event, (ToolCallRequested, ToolCallDone, ToolLimitReached)):
                thoughts.end()
                # the text said before a call ends its line
                wrote_newline = _end_line(ctx, wrote_newline=wrote_newline)
                ctx.say(tool_event_text(event))
            elif isinstance(event, (Done, Failed)):
                thoughts.end()
                _end_line(ctx, wrote_newline=wrote_newline)
                if not told_skipped and isinstance(event, Failed):
                    _say_skipped(ctx, skipped)  # why no (other) fallback was tried
                if isinstance(event, Failed):
                    if event.partial:
                        ctx.say("(the partial answer above was kept)")
                    return ctx.fail(event.error)
                _say_done(ctx, event, first_failure)
    return EXIT_OK


def _end_line(ctx: Context, *, wrote_newline: bool) -> bool:
    """End the answer's line on stdout unless it ended; True (it has now)."""
    if not wrote_newline:
        ctx.out.write("\n")
        ctx.out.flush()
    return True


def _say_done(ctx: Context, done: Done, first_failure: FellBack | None) -> None:
    """stderr after an answer: who answered when it was not the one asked, the cut, the stats."""
    if first_failure is not None:
        note = fallback_note(first_failure.source.name, done.target.name, first_failure.why)
        ctx.say(ctx.line(f"({note})"))
    if done.other_model is not None:
        ctx.say(ctx.line(f"note: {answered_by_note(done.sent, done.other_model)}"))
    if done.result.cut_at_max_tokens:
        ctx.say("(answer cut at max tokens — raise --max-tokens for more)")
    if ctx.args.stats:
        ctx.say(ctx.line(_stats_line(done.result.to_dict())))


def _say_skipped(ctx: Context, skipped: list[str]) -> None:
    for note in skipped:
        ctx.say(ctx.line(f"note: fallback {note}"))


class _ThinkingWriter:
    """A reasoning model's thinking on stderr (dimmed on a terminal), closed by how long it took."""

    def __init__(self, stream: TextIO, *, shown: bool) -> None:
        self._stream = stream
        self._shown = shown
        self._tty = stream.isatty()
        self._clean = TerminalSanitizer()
        self._started: float | None = None
        self._ended = False

    def write(self, text: str) -> None:
        if self._started is None:
            self._started = time.perf_counter()
            if self._shown:
                self._stream.write("\x1b[2mThinking…\n" if self._tty else "Thinking…\n")
        if self._shown:
            self._stream.write(self._clean.feed(text))
            self._stream.flush()

    def end(self) -> None:
        if self._started is None or self._ended:
            return
        self._ended = True
        took = f"(thought for {time.perf_counter() - self._started:.1f} s)"
        if self._shown:
            self._stream.write(f"\n{took}" + ("\x1b[0m\n" if self._tty else "\n"))
        else:
            self._stream.write(took + "\n")
        self._stream.flush()


def _answer_filter(ctx: Context) -> Callable[[str], str]:
    """Answer text → stdout: terminal controls removed (also split across deltas), unless ``--raw``
    asks for the server's text as sent and stdout is not a terminal (a pipe, a file)."""
    if ctx.args.raw and not ctx.out.isatty():
        return valid_text
    return TerminalSanitizer().feed


def _stats_line(stats: AnswerRecord) -> str:
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


def _add_status(sub: Subparsers, parents: Parents) -> None:
    status = sub.add_parser(
        "status",
        parents=[parents.endpoint, parents.json],
        help="check the endpoint: what was checked, what is wrong, what to do",
    )
    status.add_argument("--quick", action="store_true", help="skip the test generation")
    status.set_defaults(handler=cmd_status)


def cmd_status(ctx: Context) -> int:
    # lazy: loaded when this command runs: `trayai --help` and forwarding stay fast
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
        out.write(f"trayai status — {ctx.line(resolved.where)}\n")
        for check in report.checks:
            mark = {True: "✓", False: "✗", None: "–"}[check.ok]
            out.write(f"  {mark} {check.name}: {ctx.line(check.detail)}\n")
            if check.hint:
                out.write(f"      → {ctx.line(check.hint)}\n")
        out.write(f"State: {report.status.state.words} — {ctx.line(report.status.summary)}\n")
        return EXIT_OK if report.ok else EXIT_FAIL

    return asyncio.run(run())
