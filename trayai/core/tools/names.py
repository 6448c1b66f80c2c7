"""The names the model sees: ``server__tool``, within OpenAI's function-name rules (``[A-Za-z0-9_-]``,
at most 64 characters), so two servers' tools never clash and a name always leads back to one tool."""

from __future__ import annotations

import hashlib
import re

MAX_NAME = 64
SEPARATOR = "__"
_NOT_ALLOWED = re.compile(r"[^A-Za-z0-9_-]")


def qualified_name(server: str, tool: str, taken: set[str] | frozenset[str] = frozenset()) -> str:
    """``server__tool``, cleaned; a short hash of the originals is added when cleaning or cutting it
    to 64 characters made it ambiguous (or it is in ``taken`` already)."""
    plain = f"{server}{SEPARATOR}{tool}"
    name = _NOT_ALLOWED.sub("_", plain)
    if name == plain and len(name) <= MAX_NAME and name not in taken:
        return name
    digest = hashlib.sha256(f"{server}\0{tool}".encode()).hexdigest()
    for size in (6, 10, 16, 64):
        candidate = f"{name[: MAX_NAME - size - 1]}_{digest[:size]}"
        if candidate not in taken:
            return candidate
    raise ValueError(f"no free name for {plain!r}")  # pragma: no cover - a full SHA-256 collision
