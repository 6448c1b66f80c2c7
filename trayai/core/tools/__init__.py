"""MCP tools, Qt-free: the servers' configuration (``mcp.json``), their connections, the model's calls
and the person's policy for each tool. The chat, the quick prompt and ``trayai tools`` build on it."""
