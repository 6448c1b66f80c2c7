"""What the chat needs of whoever owns the app's MCP tools: the hub as it is now, and "Always for this
tool" saved and applied. A Protocol so the chat never depends on that owner (ui/tools_keeper.py in
the app, a small wrapper over a real ToolHub in the tests); None given to the chat means no tools.
"""

from __future__ import annotations

from typing import Protocol

from trayai.core.chat.tool_loop import ToolSource
from trayai.core.tools.hub import HubTool


class ToolAccess(Protocol):
    """The tools a chat may offer its model."""

    def current_hub(self) -> ToolSource | None:
        """The hub to offer now; None when no enabled MCP server has tools."""
        ...

    def remember(self, tool: HubTool) -> None:
        """ "Always for this tool": saved in mcp.json and applied to the hub."""
        ...


__all__ = ["ToolAccess"]
