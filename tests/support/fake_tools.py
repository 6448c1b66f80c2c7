"""A ToolHub stand-in for fast tests of the tool loop: tools with real input schemas and policies,
answered by the test's own coroutines (or held until the test lets them go), each call recorded.

Why: the loop's decisions (ask, allow, never, invalid arguments, deny, Stop mid-call) are the
pipeline's, not the MCP connection's; tests/integration/test_ask_tools_real.py runs the real server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trayai.core.tools.config import ToolPolicy
from trayai.core.tools.hub import HubTool
from trayai.core.tools.listing import ToolInfo
from trayai.core.tools.results import ToolResult, cap_text

Handler = Callable[[Mapping[str, Any]], Awaitable[str]]

TIME_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"timezone": {"type": "string"}},
    "required": ["timezone"],
}


@dataclass
class FakeToolHub:
    """``tools`` by model-facing name; ``calls`` as run (name, arguments); ``started`` set when a call
    begins, ``cancelled`` counts calls cancelled mid-way."""

    tools: dict[str, HubTool] = field(default_factory=dict)
    handlers: dict[str, Handler] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    cancelled: int = 0

    def add(
        self,
        server: str,
        tool: str,
        handler: Handler,
        *,
        schema: Mapping[str, Any] | None = None,
        policy: ToolPolicy = ToolPolicy.ASK,
    ) -> str:
        name = f"{server}__{tool}"
        info = ToolInfo(server, tool, f"{tool} (a fake tool)", dict(schema or {"type": "object"}))
        self.tools[name] = HubTool(name, info, policy)
        self.handlers[name] = handler
        return name

    def set_policy(self, name: str, policy: ToolPolicy) -> None:
        held = self.tools[name]
        self.tools[name] = HubTool(held.name, held.info, policy)

    def openai_tools(self) -> list[dict[str, Any]]:
        return [
            {
                "type": "function",
                "function": {
                    "name": t.name,
                    "description": t.info.description,
                    "parameters": dict(t.info.input_schema),
                },
            }
            for t in self.tools.values()
            if t.policy is not ToolPolicy.NEVER
        ]

    def lookup(self, name: str) -> HubTool | None:
        return self.tools.get(name)

    async def call(self, name: str, arguments: Mapping[str, Any]) -> ToolResult:
        tool = self.tools[name]
        self.calls.append((name, dict(arguments)))
        self.started.set()
        try:
            text = await self.handlers[name](arguments)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        capped, truncated = cap_text(text)
        return ToolResult(tool.info.server, tool.info.name, capped, truncated=truncated)


def answering(text: str) -> Handler:
    """A handler that answers ``text`` at once."""

    async def handler(_arguments: Mapping[str, Any]) -> str:
        return text

    return handler


def held_until(release: asyncio.Event, text: str = "late") -> Handler:
    """A handler that answers only once ``release`` is set (a slow tool, for Stop)."""

    async def handler(_arguments: Mapping[str, Any]) -> str:
        await release.wait()
        return text

    return handler
