"""The tools part of an answer: when the model ends a turn with tool calls, each one is shown, decided
(the tool's policy in ``mcp.json`` first — allow runs, never refuses — else the person is asked), run
through the hub, and answered to the model; :class:`Answer` then asks again, at most ``max_rounds`` times.

Tool output is untrusted model input. It reaches here capped (256 KB, core/tools/results.py) and with
known keys redacted (the hub); front ends must show it as plain text — never as HTML or Markdown that
acts (links, images) — and escape terminal controls (``ask`` does, through core/textsafe.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from trayai.core.errors import TrayaiError
from trayai.core.net.wire import ChatMessage
from trayai.core.strenum import StrEnum
from trayai.core.tools.calls import (
    ToolCall,
    assistant_message,
    check_arguments,
    error_content,
    pretty_arguments,
    refusal_for_arguments,
    result_content,
    tool_message,
)
from trayai.core.tools.config import ToolPolicy
from trayai.core.tools.hub import HubTool
from trayai.core.tools.policy import Approval, refusal_content
from trayai.core.tools.results import ToolResult

DEFAULT_ROUNDS = 8  # turns of tool calls in one answer; then the model is asked to answer without them
CANCELLED_CONTENT = "The call was cancelled by the user before it finished; there is no result."


class ToolSource(Protocol):
    """What the loop needs of :class:`~trayai.core.tools.hub.ToolHub` (a fake one in tests)."""

    def openai_tools(self) -> list[dict[str, Any]]: ...

    def lookup(self, name: str) -> HubTool | None: ...

    async def call(self, name: str, arguments: Mapping[str, Any]) -> ToolResult: ...


class CallOutcome(StrEnum):
    """What became of one call."""

    RAN = "ran"  # the tool answered (its result may say it failed: ``ToolResult.is_error``)
    FAILED = "failed"  # the call did not complete (timeout, crash, flood…): ``error``
    DENIED = "denied"  # the person said no
    REFUSED = "refused"  # the policy says never, or there was no one to ask
    INVALID = "invalid"  # the arguments do not fit the tool's input schema: not run
    UNKNOWN = "unknown"  # no connected tool has that name
    CANCELLED = "cancelled"  # Stop while it ran (or while the person was deciding)


@dataclass(frozen=True)
class RequestedCall:
    """One call as a front end shows it: which server and tool, the arguments pretty-printed."""

    call: ToolCall
    server: str  # "" when no connected tool has the name
    tool: str  # the tool's own name (the model's name when unknown)
    arguments: str
    policy: ToolPolicy | None  # None when unknown

    @property
    def title(self) -> str:
        return f"{self.server}/{self.tool}" if self.server else self.tool


@dataclass(frozen=True)
class ToolCallRequested:
    """The model asked for a call; its decision and result follow as :class:`ToolCallDone`."""

    request: RequestedCall


@dataclass(frozen=True)
class ToolCallDone:
    """A call decided and (maybe) run; ``content`` is what the model is told."""

    request: RequestedCall
    outcome: CallOutcome
    content: str
    result: ToolResult | None = None
    error: TrayaiError | None = None

    @property
    def truncated(self) -> bool:
        return self.result is not None and self.result.truncated


@dataclass(frozen=True)
class ToolLimitReached:
    """The model asked for another round past the limit: it is asked to answer without tools."""

    rounds: int

    @property
    def note(self) -> str:
        """The words every front end shows for it."""
        return (
            f"stopped after {self.rounds} rounds of tool calls (the limit): "
            "the model was asked to answer with what it has"
        )


ToolEvent = ToolCallRequested | ToolCallDone | ToolLimitReached
Approve = Callable[[RequestedCall], Awaitable[Approval]]
Remember = Callable[[HubTool], None]


@dataclass(frozen=True)
class ToolUse:
    """What a front end gives an answer so the model may call tools.

    ``approve`` is asked for every call whose policy is *ask* (None: such calls are refused — a front
    end with no one to ask runs only what ``mcp.json`` allows). ``remember`` saves "Always for this
    tool" (``policy.remember`` + ``hub.apply``); the answer itself stops asking for that tool at once.
    """

    hub: ToolSource
    approve: Approve | None = None
    remember: Remember | None = None
    max_rounds: int = DEFAULT_ROUNDS

    def tools(self) -> tuple[dict[str, Any], ...]:
        return tuple(self.hub.openai_tools())


class ToolRound:
    """One turn's calls, in order, each decided then run; the assistant message that made them and
    one tool message per call are appended to ``messages`` as they happen (kept after a Stop)."""

    def __init__(self, use: ToolUse, always: set[str]) -> None:
        self._use = use
        self._always = always  # tools the person allowed for the rest of this answer

    async def run(
        self, text: str, calls: Sequence[ToolCall], messages: list[ChatMessage]
    ) -> AsyncIterator[ToolEvent]:
        messages.append(assistant_message(text, calls))
        answered = 0
        try:
            for call in calls:
                request = self._request(call)
                yield ToolCallRequested(request)
                done = await self._settle(request)
                messages.append(tool_message(call, done.content))
                answered += 1
                yield done
        finally:  # Stop (a cancellation or the events closed): every call still gets its answer
            messages.extend(tool_message(call, CANCELLED_CONTENT) for call in calls[answered:])

    def _request(self, call: ToolCall) -> RequestedCall:
        tool = self._use.hub.lookup(call.name)
        if tool is None:
            return RequestedCall(call, "", call.name, pretty_arguments(call), None)
        return RequestedCall(call, tool.info.server, tool.info.name, pretty_arguments(call), tool.policy)

    async def _settle(self, request: RequestedCall) -> ToolCallDone:
        call = request.call
        tool = self._use.hub.lookup(call.name)
        if tool is None:
            words = f"Error: there is no tool called {call.name!r}; use one of the tools you were given."
            return ToolCallDone(request, CallOutcome.UNKNOWN, words)
        if tool.policy is ToolPolicy.NEVER:
            return ToolCallDone(request, CallOutcome.REFUSED, refusal_content(call.name, by_person=False))
        check = check_arguments(call, tool.info.input_schema)
        if check.arguments is None:
            assert check.problem is not None
            return ToolCallDone(request, CallOutcome.INVALID, refusal_for_arguments(call, check.problem))
        if tool.policy is ToolPolicy.ASK and call.name not in self._always:
            outcome = await self._ask(request, tool)
            if outcome is not None:
                return outcome
        return await self._call(request, check.arguments)

    async def _ask(self, request: RequestedCall, tool: HubTool) -> ToolCallDone | None:
        """The person's answer: None to run the call, else why it is not run."""
        name = request.call.name
        if self._use.approve is None:
            return ToolCallDone(request, CallOutcome.REFUSED, refusal_content(name, by_person=False))
        approval = await self._use.approve(request)
        if approval is Approval.DENY:
            return ToolCallDone(request, CallOutcome.DENIED, refusal_content(name, by_person=True))
        if approval is Approval.ALWAYS:
            self._always.add(name)
            if self._use.remember is not None:
                self._use.remember(tool)
        return None

    async def _call(self, request: RequestedCall, arguments: dict[str, Any]) -> ToolCallDone:
        """Run it; a Stop cancels the hub's call, which cancels the MCP request (core/tools/session.py)."""
        try:
            result = await self._use.hub.call(request.call.name, arguments)
        except TrayaiError as error:
            return ToolCallDone(request, CallOutcome.FAILED, error_content(error), error=error)
        return ToolCallDone(request, CallOutcome.RAN, result_content(result), result=result)


def without_orphans(messages: list[ChatMessage]) -> list[ChatMessage]:
    """``messages`` without the tool results whose call was trimmed away (a server refuses a ``tool``
    message that answers no call): trimming leaves out whole turns from the oldest, so the orphans
    are the tool messages right after the leading system ones."""
    start = 1 if messages and messages[0].get("role") == "system" else 0
    end = start
    while end < len(messages) - 1 and messages[end].get("role") == "tool":
        end += 1
    return messages[:start] + messages[end:] if end > start else messages
