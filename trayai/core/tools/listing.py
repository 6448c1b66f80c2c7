"""What a server offers: its tools as trayai keeps them (``ToolInfo``), read from an MCP ``Tool``
without importing the SDK, so the hub and the tray can hold them before any server is connected."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ToolInfo:
    """A tool as its server lists it; ``read_only`` is the server's own hint (never trusted to allow)."""

    server: str
    name: str
    description: str
    input_schema: Mapping[str, Any]
    read_only: bool = False


def tool_info(server: str, tool: Any) -> ToolInfo:
    """An MCP ``Tool`` (the SDK's model) as a :class:`ToolInfo`."""
    annotations = getattr(tool, "annotations", None)
    return ToolInfo(
        server=server,
        name=str(tool.name),
        description=str(tool.description or ""),
        input_schema=dict(tool.input_schema or {"type": "object"}),
        read_only=bool(getattr(annotations, "read_only_hint", False)),
    )
