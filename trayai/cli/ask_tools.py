"""``trayai ask --tools``: the terminal's side of the model's tool calls — the enabled MCP servers of
``mcp.json`` connected, each call shown as a block on stderr and asked about on the terminal
(``y`` once / ``a`` always for this tool / ``n``), ``--allow-tool`` for runs with no one to ask, and
results printed folded with their terminal controls escaped (tool output is untrusted).
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from trayai.cli.context import Context
from trayai.core.chat.tool_loop import (
    CallOutcome,
    RequestedCall,
    ToolCallDone,
    ToolCallRequested,
    ToolEvent,
    ToolLimitReached,
    ToolUse,
)
from trayai.core.settings.secrets import TOOLS_SERVICE, SecretStore
from trayai.core.textsafe import escape_line
from trayai.core.tools.config import ToolsStore
from trayai.core.tools.hub import HubTool, ToolHub, ToolServerState
from trayai.core.tools.policy import Approval, remember

CONNECT_TIMEOUT = 30.0  # seconds for the servers to start and list their tools
SHOWN_LINES = 8  # of a result; the rest is counted
LINE_CHARS = 200  # of one shown line
PROMPT = "Allow? [y]es once / [a]lways for this tool / [n]o: "
ANSWERS = {"y": Approval.ONCE, "yes": Approval.ONCE, "a": Approval.ALWAYS, "always": Approval.ALWAYS}

ReadLine = Callable[[], Awaitable[str]]


def can_ask() -> bool:
    """A person is at the terminal to answer: stdin is a TTY (a piped prompt leaves no one to ask)."""
    return sys.stdin is not None and sys.stdin.isatty()


def matches(allowed: str, tool: HubTool) -> bool:
    """``--allow-tool``'s NAME: the model's name (``server__tool``) or ``server/tool``."""
    return allowed in (tool.name, f"{tool.info.server}/{tool.info.name}")


@dataclass
class TerminalTools:
    """The hub, the store "Always" is saved to, and how the person is asked (``read_line`` is None
    when no one can be: only ``allowed`` tools and those ``mcp.json`` allows then run)."""

    ctx: Context
    hub: ToolHub
    store: ToolsStore
    allowed: Sequence[str] = ()
    read_line: ReadLine | None = None
    asked: int = field(default=0, init=False)

    @classmethod
    async def connect(cls, ctx: Context, allowed: Sequence[str], read_line: ReadLine | None) -> TerminalTools:
        """The enabled servers of ``mcp.json`` started (each failure said on stderr, never fatal)."""
        store = ToolsStore.at(ctx.paths, SecretStore(service=TOOLS_SERVICE))
        hub = ToolHub(store.resolved, redactor=ctx.redactor)
        hub.apply(store.load())
        tools = cls(ctx, hub, store, allowed, read_line)
        await hub.settled(CONNECT_TIMEOUT)
        for status in hub.statuses():
            if status.state in (ToolServerState.FAILED, ToolServerState.STARTING):
                why = status.reason or "did not start in time"
                ctx.say(f"note: tool server {escape_line(status.name)}: {ctx.line(why)}")
        names = [tool.name for tool in hub.tools()]
        for name in allowed:
            if not any(matches(name, tool) for tool in hub.tools()):
                ctx.say(f"note: --allow-tool {escape_line(name)}: no connected tool has that name")
        if not names:
            ctx.say("note: no tools are connected (trayai tools list): asking without them")
        return tools

    def use(self) -> ToolUse:
        return ToolUse(self.hub, self.approve, self.always)

    async def close(self) -> None:
        await self.hub.close()

    async def approve(self, request: RequestedCall) -> Approval:
        """``--allow-tool`` first; else the person, on the terminal; else no."""
        tool = self.hub.lookup(request.call.name)
        if tool is not None and any(matches(name, tool) for name in self.allowed):
            self.ctx.say("  (allowed by --allow-tool)")
            return Approval.ONCE
        if self.read_line is None:
            self.ctx.say("  not run: no terminal to ask (name it with --allow-tool to let it run)")
            return Approval.DENY
        self.asked += 1
        while True:
            self.ctx.err.write(PROMPT)
            self.ctx.err.flush()
            line = await self.read_line()
            if not line:  # end of input: nobody will say yes
                self.ctx.say("")
                return Approval.DENY
            word = line.strip().lower()
            if word in ANSWERS or word in ("n", "no"):
                return ANSWERS.get(word, Approval.DENY)

    def always(self, tool: HubTool) -> None:
        """ "Always for this tool": saved in ``mcp.json`` and followed by the hub at once."""
        self.hub.apply(remember(self.store, tool.info.server, tool.info.name))
        self.ctx.say(
            f"  (saved: {escape_line(tool.info.server)}/{escape_line(tool.info.name)} runs without asking)"
        )


def tool_event_text(event: ToolEvent) -> str:
    """What stderr shows for a tool event."""
    if isinstance(event, ToolCallRequested):
        return call_block(event.request)
    if isinstance(event, ToolLimitReached):
        return f"note: {event.note}"
    return done_block(event)


def call_block(request: RequestedCall) -> str:
    """A call as stderr shows it: server, tool, then the arguments (escaped, line by line)."""
    lines = [f"── tool call: {escape_line(request.title)} ──"]
    lines += [f"  {escape_line(line)}" for line in request.arguments.splitlines() or ["{}"]]
    return "\n".join(lines)


def done_block(done: ToolCallDone) -> str:
    """What became of a call: the result folded (first lines, then how many more), or why not run."""
    if done.outcome is CallOutcome.RAN and done.result is not None:
        result = done.result
        head = f"  → {'tool error' if result.is_error else 'result'} ({result.seconds:.1f} s)"
        if done.truncated:
            head += ", truncated"
        return "\n".join([head + ":", *folded(result.text)])
    if done.outcome is CallOutcome.FAILED and done.error is not None:
        return f"  → failed: {escape_line(done.error.message)}"
    words = {
        CallOutcome.DENIED: "not run (denied)",
        CallOutcome.REFUSED: "not run (mcp.json says never, or no one to ask)",
        CallOutcome.INVALID: "not run (arguments do not fit the tool's schema; the model was told why)",
        CallOutcome.UNKNOWN: "not run (no such tool)",
        CallOutcome.CANCELLED: "cancelled",
    }
    return f"  → {words.get(done.outcome, str(done.outcome))}"


def folded(text: str, shown: int = SHOWN_LINES) -> list[str]:
    """The first ``shown`` lines of ``text``, each escaped and cut, then "… N more lines"."""
    lines = text.splitlines() or [""]
    out = [f"    {_cut(escape_line(line))}" for line in lines[:shown]]
    if len(lines) > shown:
        out.append(f"    … {len(lines) - shown} more lines")
    return out


def _cut(line: str) -> str:
    return line if len(line) <= LINE_CHARS else line[: LINE_CHARS - 1] + "…"


async def stdin_line() -> str:
    """One line of the terminal, read without a blocked thread where the loop can watch stdin (so
    Ctrl+C never waits for Enter); a thread elsewhere (Windows)."""
    loop = asyncio.get_running_loop()
    try:
        fd = sys.stdin.fileno()
        ready: asyncio.Future[None] = loop.create_future()
        loop.add_reader(fd, lambda: None if ready.done() else ready.set_result(None))
    except (AttributeError, OSError, NotImplementedError, ValueError):
        return await asyncio.to_thread(sys.stdin.readline)
    try:
        await ready
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(fd)
    return sys.stdin.readline()  # a TTY in canonical mode is readable once a whole line is there
