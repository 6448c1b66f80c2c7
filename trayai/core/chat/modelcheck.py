"""Never substitute a model: the name asked for is checked against the server's list before sending,
and an answer whose own ``model`` field names another model is said to be from that model.

A server that serves one model (llama.cpp single, vLLM) answers whatever name is sent; without this
check ``--model gpt-4o`` would print SmolLM2's answer as if GPT-4o had given it. ``ask``, ``batch``,
the chat and the quick prompt all go through here, so the rule and its words are the same in each.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.modelmatch import canonical_model_name, match_model
from trayai.core.net.urls import host_port

if TYPE_CHECKING:
    from collections.abc import Sequence

    from trayai.core.net.client import ModelClient

MAX_NAMES_SAID = 8  # a server with hundreds of models: the closest ones, then "and N more"


@dataclass(frozen=True)
class ModelCheck:
    """What to send for the name asked: the server's own spelling, or the name as given when the
    server lists nothing to check against (its list failed or is empty: the request itself tells)."""

    asked: str
    send: str
    checked: bool  # False: the server gave no list, the name goes as given


def missing_model_error(asked: str, available: Sequence[str], base_url: str) -> TrayaiError:
    """The refusal: which name is not there, the names that are (closest first), how to pick one."""
    found = match_model(asked, available)
    near = [n for n in found.suggestions if n in available]
    rest = [n for n in available if n not in near]
    names = (near + rest)[:MAX_NAMES_SAID]
    more = len(available) - len(names)
    listed = ", ".join(names) + (f" and {more} more" if more > 0 else "")
    guess = f"Did you mean {near[0]!r}? " if near else ""
    return make_error(
        ErrorCode.MODEL_MISSING,
        f"Model {asked!r} is not on {host_port(base_url)} — it has: {listed}",
        f"Nothing was sent. {guess}Pick one of its models (`--model NAME`, the chat's model picker, "
        "or the profile's model in the settings).",
        suggestions=names,
    )


def check_listed(asked: str, available: Sequence[str], base_url: str) -> ModelCheck:
    """``asked`` against a list already read: the server's spelling, or MODEL_MISSING (raised)."""
    if not available:
        return ModelCheck(asked, asked, checked=False)
    found = match_model(asked, available)
    if found.resolved is None:
        raise missing_model_error(asked, available, base_url)
    return ModelCheck(asked, found.resolved, checked=True)


class ServerModels:
    """One server's list for the check, read when first needed and kept ``keep`` seconds (a batch
    keeps it for the run: a thousand lines are not a thousand listings; the chat reads it afresh)."""

    def __init__(self, client: ModelClient, *, keep: float = 0.0) -> None:
        self._client = client
        self._keep = keep
        self._ids: list[str] | None = None
        self._read_at = 0.0
        self._lock = asyncio.Lock()

    async def check(self, asked: str) -> ModelCheck:
        async with self._lock:
            if self._ids is None or time.monotonic() - self._read_at > self._keep:
                try:
                    self._ids = (await self._client.list_models()).ids
                except TrayaiError:
                    return ModelCheck(asked, asked, checked=False)  # the request itself will tell
                self._read_at = time.monotonic()
            ids = self._ids
        return check_listed(asked, ids, self._client.base_url)


def other_model(sent: str, answered: str | None) -> str | None:
    """The model that answered when its name is not the one sent (tolerantly compared), else None."""
    if not answered or not sent:
        return None
    if answered == sent or canonical_model_name(answered) == canonical_model_name(sent):
        return None
    if match_model(sent, [answered]).found or match_model(answered, [sent]).found:
        return None  # a registry spelling or a tag of the same model
    if _stem(sent) == _stem(answered):
        return None  # llama.cpp names the file it serves: /models/smollm2.gguf is "smollm2"
    return answered


def _stem(name: str) -> str:
    """A model file's or id's last segment without ``.gguf``, compared case-blind."""
    last = canonical_model_name(name).replace("\\", "/").rsplit("/", 1)[-1]
    return last.removesuffix(".gguf")


def answered_by_note(sent: str, answered: str) -> str:
    """The words wherever an answer came from another model than the one asked for."""
    return f"answered by {answered!r}, not {sent!r}: the server chose another model"


__all__ = [
    "ModelCheck",
    "ServerModels",
    "answered_by_note",
    "check_listed",
    "missing_model_error",
    "other_model",
]
