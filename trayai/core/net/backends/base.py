"""What every backend adapter offers, with the "this server cannot" answers as defaults.

An adapter maps one server's own API to :class:`~.records.ModelRecord`; it switches a capability off
(``self.caps``) when the optional call behind it answers 404/405/501 or something that is not JSON,
so a missing feature is never an error the user sees.
"""

from __future__ import annotations

import re
from collections.abc import AsyncGenerator
from typing import Any

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.backends.http import HttpReply, ServerHttp
from trayai.core.net.backends.records import Capabilities, ModelRecord, ModelState, PullProgress, ServerKind
from trayai.core.net.classify import classify_status
from trayai.core.net.wire import JSONObject


class Unsupported(TrayaiError):
    """This server (KIND) cannot do that: the message says what to do instead."""

    def __init__(self, kind: ServerKind, action: str, instead: str) -> None:
        super().__init__(
            ErrorCode.UNSUPPORTED,
            f"this server ({kind.label}) cannot {action}",
            instead,
        )


class Backend:
    """The generic adapter: ``/v1/models`` only, every model "unknown", no actions."""

    kind = ServerKind.GENERIC
    caps = Capabilities()

    def __init__(self, http: ServerHttp, version: str | None = None, props: Any = None) -> None:
        self.http = http
        self.version = version
        self.props = props
        self.caps = type(self).caps

    # ------------------------------------------------------------------ reading

    async def models(self, listed: list[str] | None = None) -> list[ModelRecord]:
        """Every model the server knows, with its state (the full listing).

        ``listed``: the OpenAI listing's ids when the caller has just read them (spares a request).
        """
        if listed is not None:
            return [ModelRecord(i, ModelState.UNKNOWN) for i in listed]
        reply = await self.http.get(f"{self.http.base}/models")
        data = self.checked(reply, "/models")
        return [ModelRecord(i, ModelState.UNKNOWN) for i in openai_ids(data)]

    async def loaded_names(self) -> list[str] | None:
        """The models in memory, from the cheapest side-effect-free call (None: cannot tell)."""
        if not self.caps.loaded_state:
            return None
        return [m.id for m in await self.models() if m.state.in_memory]

    async def busy(self) -> bool | None:
        """Whether the server is generating now, for anyone; None where it gives no such signal.

        Only from calls that neither load, wake nor restart a model's idle clock: a look never does.
        """
        return None

    @property
    def autoload(self) -> bool:
        """Whether a request for a model not in memory loads it (the llama.cpp router can refuse)."""
        return True

    # ------------------------------------------------------------------ actions

    async def load(self, record: ModelRecord, keep_alive: float | None) -> None:
        raise Unsupported(self.kind, "load models", self.no_load_hint())

    async def wake(self, record: ModelRecord) -> bool:
        """Wake a sleeping model because the user asked to load it; False where it cannot be done."""
        return False

    async def unload(self, record: ModelRecord) -> None:
        raise Unsupported(self.kind, "unload models", self.no_load_hint())

    async def unload_all(self, loaded: list[ModelRecord]) -> int:
        """Unload everything in memory; servers without a native call get a loop."""
        for record in loaded:
            await self.unload(record)
        return len(loaded)

    async def pull(self, name: str) -> AsyncGenerator[PullProgress, None]:
        """Download ``name``, yielding progress; the last item has ``done`` set, failures raise."""
        raise Unsupported(self.kind, "pull models", self.no_pull_hint())
        yield PullProgress("")  # type: ignore[unreachable]  # makes this an async generator

    async def cancel_pull(self, name: str) -> None:
        """Called when the user cancels: closing the stream is enough for most servers."""

    def no_load_hint(self) -> str:
        return "It loads the model it serves on its own; use that server's own tools to change it."

    def no_pull_hint(self) -> str:
        return "Download the model with that server's own tools, then pick it in trayai."

    # ------------------------------------------------------------------ helpers

    def checked(self, reply: HttpReply, path: str) -> Any:
        """The JSON of a required call; a failure status or a non-JSON body raises the typed error."""
        if not reply.ok:
            raise classify_status(reply.status, reply.text, reply.content_type, base_url=self.http.base)
        data = reply.json()
        if data is None:
            raise make_error(
                ErrorCode.MALFORMED_RESPONSE, f"{self.http.where} answered {path} with something not JSON"
            )
        return data

    def optional(self, reply: HttpReply, flag: str) -> Any:
        """The JSON of an optional call, or None with capability ``flag`` switched off when absent."""
        if reply.absent or (reply.ok and reply.json() is None):
            self.caps = self.caps.without(**{flag: False})
            return None
        if not reply.ok:
            raise classify_status(reply.status, reply.text, reply.content_type, base_url=self.http.base)
        return reply.json()

    def refused(self, reply: HttpReply, action: str, model: str) -> TrayaiError:
        """A load/unload the server turned down, worded with the server's own reason."""
        said = server_words(reply)
        if reply.status == 404 or re.search(r"not (?:be )?found|no such|unknown model", said, re.I):
            return make_error(
                ErrorCode.MODEL_NOT_FOUND,
                f"{self.http.where} does not know the model {model!r}",
                "Run `trayai models` to see the names this server has.",
                detail=said or None,
                status=reply.status,
            )
        return make_error(
            ErrorCode.SERVER_ERROR if reply.status >= 500 else ErrorCode.BAD_REQUEST,
            f"{self.http.where} refused to {action} {model!r}: {said or f'HTTP {reply.status}'}",
            "Check the server's log; `trayai models` shows its current state.",
            detail=said or None,
            status=reply.status,
        )


def server_words(reply: HttpReply) -> str:
    """The server's own error message from a JSON or text body, short and on one line."""
    data = reply.json()
    said: Any = None
    if isinstance(data, dict):
        said = data.get("error") or data.get("message") or data.get("detail")
        if isinstance(said, dict):
            said = said.get("message")
    if said is None:
        said = reply.text
    return " ".join(str(said).split())[:300]


def openai_ids(data: Any) -> list[str]:
    rows = data.get("data") if isinstance(data, dict) else data
    if not isinstance(rows, list):
        return []
    return [str(r["id"]) for r in rows if isinstance(r, dict) and r.get("id") is not None]


def as_dict(value: object) -> JSONObject:
    """``value`` when it is a JSON object, else an empty one (servers omit and null fields)."""
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)) and value >= 0:
        return int(value)
    return None


def pull_error(where: str, name: str, said: str) -> TrayaiError:
    return make_error(
        ErrorCode.PULL_FAILED,
        f"Pulling {name!r} from {where} failed: {said}",
        "Check the name (as the server's registry spells it) and the server's network access.",
        detail=said,
    )


__all__ = ["Backend", "Unsupported", "as_dict", "as_int", "openai_ids", "pull_error", "server_words"]
