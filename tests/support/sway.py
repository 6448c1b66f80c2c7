"""sway's IPC spoken directly (the i3 protocol): its tree and its window events, for tests and benchmarks.

A tree read over the socket costs about a millisecond, a ``swaymsg`` run about ten: fine-grained
waits and the benchmark's timings read it here.
"""

from __future__ import annotations

import json
import socket
import struct
from dataclasses import dataclass
from typing import Any

_IPC_MAGIC = b"i3-ipc"
_IPC_HEADER = struct.Struct("=6sII")
RUN_COMMAND, GET_TREE, SUBSCRIBE, GET_OUTPUTS, GET_INPUTS = 0, 4, 2, 3, 100
WINDOW_EVENT = 0x80000003


@dataclass(frozen=True)
class View:
    """A window as sway sees it (a leaf of ``swaymsg -t get_tree``).

    ``width``/``height`` are its container's (title bar and borders included); ``content`` is the
    client's own surface on the output (x, y, width, height): what the application was told to fill.
    """

    name: str
    app_id: str
    focused: bool
    floating: bool
    visible: bool
    width: int
    height: int
    con_id: int = 0
    content: tuple[int, int, int, int] = (0, 0, 0, 0)

    @classmethod
    def from_node(cls, node: dict[str, Any]) -> View:
        return cls(
            name=str(node.get("name") or ""),
            app_id=str(node.get("app_id") or ""),
            focused=bool(node.get("focused")),
            floating=node.get("type") == "floating_con",
            visible=bool(node.get("visible")),
            width=int(node["rect"]["width"]),
            height=int(node["rect"]["height"]),
            con_id=int(node.get("id") or 0),
            content=(
                int(node["rect"]["x"]) + int(node["window_rect"]["x"]),
                int(node["rect"]["y"]) + int(node["window_rect"]["y"]),
                int(node["window_rect"]["width"]),
                int(node["window_rect"]["height"]),
            ),
        )


class SwayIpc:
    """sway's IPC socket spoken directly: a tree read costs ~1 ms (a ``swaymsg`` run costs ~10)."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)

    def call(self, kind: int, payload: str = "") -> Any:
        data = payload.encode()
        self.sock.sendall(_IPC_HEADER.pack(_IPC_MAGIC, len(data), kind) + data)
        return self.receive()[1]

    def command(self, text: str) -> None:
        """Run sway commands (``;``/``,`` separated); a refused one raises with sway's reason."""
        failed = [r.get("error", "refused") for r in self.call(RUN_COMMAND, text) if not r.get("success")]
        if failed:
            raise RuntimeError(f"sway refused {text!r}: {'; '.join(failed)}")

    def receive(self) -> tuple[int, Any]:
        """The next message: (type, decoded JSON). Blocks up to the socket's timeout."""
        magic, length, kind = _IPC_HEADER.unpack(self._read(_IPC_HEADER.size))
        if magic != _IPC_MAGIC:
            raise RuntimeError("not a sway IPC reply")
        return kind, json.loads(self._read(length))

    def _read(self, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            chunk = self.sock.recv(size - len(chunks))
            if not chunk:
                raise ConnectionError("sway closed its IPC socket")
            chunks += chunk
        return bytes(chunks)

    def close(self) -> None:
        self.sock.close()


def views_in(tree: dict[str, Any]) -> list[View]:
    """Every mapped client window in a sway tree (the nodes that have a shell)."""
    found: list[View] = []
    stack = [tree]
    while stack:
        node = stack.pop()
        if "shell" in node:
            found.append(View.from_node(node))
        stack.extend(node.get("nodes", []) + node.get("floating_nodes", []))
    return found


__all__ = [
    "GET_INPUTS",
    "GET_OUTPUTS",
    "GET_TREE",
    "RUN_COMMAND",
    "SUBSCRIBE",
    "WINDOW_EVENT",
    "SwayIpc",
    "View",
    "views_in",
]
