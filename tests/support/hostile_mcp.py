"""A stdio MCP server that misbehaves on demand, written without the SDK so it can break the protocol.

Each tool is one way a server goes wrong during a call:

* ``echo``  — answers at once (the control case; also what works again after a restart)
* ``hang``  — never answers and stops reading stdin (a ping after the timeout goes unanswered)
* ``flood`` — writes one endless line to stdout (64 MB, no newline) and then waits
* ``crash`` — says why on stderr and exits with status 3 mid-call
* ``junk``  — prints a line that is not JSON-RPC to stdout
* ``bad``   — answers with a result MCP does not allow (``content`` is not a list)
* ``big``   — answers with 1 MB of text (over the 256 KB result cap)

Start-up faults: ``--exit-at-start`` (exits before answering ``initialize``), ``--junk-at-start``
(a banner on stdout first), ``--silent-at-start`` (never answers ``initialize``).

    python tests/support/hostile_mcp.py [--exit-at-start | --junk-at-start | --silent-at-start]
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

ARGV = [sys.executable, str(Path(__file__).resolve())]
TOOLS = ("echo", "hang", "flood", "crash", "junk", "bad", "big")
FLOOD_BYTES = 64 * 1024 * 1024


def _send(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _result(request_id: object, result: dict[str, Any]) -> None:
    _send({"jsonrpc": "2.0", "id": request_id, "result": result})


def _tool(name: str) -> dict[str, Any]:
    return {
        "name": name,
        "description": f"misbehaves: {name}",
        "inputSchema": {"type": "object", "properties": {"text": {"type": "string"}}},
    }


def _call(request_id: object, name: str, arguments: dict[str, Any]) -> None:
    if name == "echo":
        _result(request_id, {"content": [{"type": "text", "text": str(arguments.get("text", ""))}]})
    elif name == "hang":
        time.sleep(3600)
    elif name == "flood":
        chunk = "x" * (1024 * 1024)
        for _ in range(FLOOD_BYTES // len(chunk)):
            sys.stdout.write(chunk)
        sys.stdout.flush()
        time.sleep(3600)
    elif name == "crash":
        print("hostile: crashing on purpose mid-call", file=sys.stderr, flush=True)
        sys.exit(3)
    elif name == "junk":
        sys.stdout.write("Hello! This banner is not JSON-RPC.\n")
        sys.stdout.flush()
    elif name == "bad":
        _result(request_id, {"content": "not a list"})
    elif name == "big":
        _result(request_id, {"content": [{"type": "text", "text": "y" * (1024 * 1024)}]})
    else:
        _send({"jsonrpc": "2.0", "id": request_id, "error": {"code": -32602, "message": f"no tool {name}"}})


def main(argv: list[str]) -> int:
    if "--exit-at-start" in argv:
        print("hostile: refusing to start", file=sys.stderr, flush=True)
        return 2
    if "--junk-at-start" in argv:
        print("Welcome to the hostile server v1.0 (a banner on stdout)", flush=True)
    for line in sys.stdin:
        message = json.loads(line)
        method, request_id = message.get("method"), message.get("id")
        if request_id is None:
            continue  # notifications (initialized, cancelled): nothing to answer
        if method == "initialize":
            if "--silent-at-start" in argv:
                time.sleep(3600)
            _result(
                request_id,
                {
                    "protocolVersion": message["params"]["protocolVersion"],
                    "capabilities": {"tools": {}},
                    "serverInfo": {"name": "hostile", "version": "1.0"},
                },
            )
        elif method == "tools/list":
            _result(request_id, {"tools": [_tool(name) for name in TOOLS]})
        elif method == "tools/call":
            _call(request_id, message["params"]["name"], message["params"].get("arguments") or {})
        elif method == "ping":
            _result(request_id, {})
        else:
            _send(
                {"jsonrpc": "2.0", "id": request_id, "error": {"code": -32601, "message": "no such method"}}
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
