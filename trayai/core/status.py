"""One call that says what state a server is in: the tray icon's and ``trayai status``'s source.

``starting`` and ``generating`` are set by the app and never come out of a probe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import partial
from typing import TypedDict

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.modelmatch import ModelMatch, match_model
from trayai.core.net.backends.records import ModelState, ServerSnapshot
from trayai.core.net.classify import not_loaded_error
from trayai.core.net.client import ModelClient, ModelListing
from trayai.core.net.urls import host_port
from trayai.core.net.wire import JSONObject
from trayai.core.strenum import StrEnum


class ServerState(StrEnum):
    STARTING = "starting"
    UNREACHABLE = "unreachable"
    AUTH_ERROR = "auth_error"
    NO_MODELS = "no_models"
    MODEL_MISSING = "model_missing"
    MODEL_NOT_LOADED = "model_not_loaded"  # listed, not in memory, and the server will not load it
    READY = "ready"
    GENERATING = "generating"
    ERROR = "error"

    @property
    def words(self) -> str:
        return _WORDS[self]


_WORDS = {
    ServerState.STARTING: "starting",
    ServerState.UNREACHABLE: "unreachable",
    ServerState.AUTH_ERROR: "API key rejected",
    ServerState.NO_MODELS: "no models loaded",
    ServerState.MODEL_MISSING: "model missing",
    ServerState.MODEL_NOT_LOADED: "model not loaded",
    ServerState.READY: "ready",
    ServerState.GENERATING: "generating",
    ServerState.ERROR: "error",
}

_UNREACHABLE_CODES = {
    ErrorCode.CONNECTION_REFUSED,
    ErrorCode.DNS,
    ErrorCode.CONNECT_TIMEOUT,
    ErrorCode.NETWORK,
    ErrorCode.TLS,
}
_AUTH_CODES = {ErrorCode.AUTH, ErrorCode.FORBIDDEN}


class StatusDict(TypedDict):
    """``trayai status --json``'s ``status`` (and the doctor's)."""

    state: str
    summary: str
    base_url: str
    model: str
    resolved_model: str | None
    match: str | None
    suggestions: list[str]
    models: list[str]
    latency_ms: float | None
    server: str | None
    busy_slots: int | None
    kind: str | None
    loaded: list[str] | None
    error: JSONObject | None


@dataclass
class StatusReport:
    """What one probe found. ``error`` holds the typed error for every state but READY."""

    state: ServerState
    base_url: str
    model: str
    models: list[str] = field(default_factory=list)
    match: ModelMatch | None = None
    latency: float | None = None
    server: str | None = None
    error: TrayaiError | None = None
    busy_slots: int | None = None  # answers a llama.cpp server is generating (for any client)
    snapshot: ServerSnapshot | None = None  # the server's own model API: kind, loaded models, busy
    listing: ModelListing | None = field(default=None, repr=False)  # reused by the model API's look
    checked_at: float = field(default_factory=time.time)

    @property
    def resolved_model(self) -> str | None:
        """The server's own spelling of the configured model, when it is there."""
        return self.match.resolved if self.match else None

    @property
    def reachable(self) -> bool:
        """The server answered (whatever it said): worth asking its model API too."""
        return self.state not in (ServerState.UNREACHABLE, ServerState.ERROR)

    def with_snapshot(self, snapshot: ServerSnapshot) -> StatusReport:
        """This report plus the model API's look; its busy flag is the real "generating" signal.

        The listing alone says "ready" for a model that is only on disk; on a server that loads
        nothing on request (llama.cpp router, ``--no-models-autoload``) every answer would fail.
        """
        self.snapshot = snapshot
        if snapshot.busy is not None:
            self.busy_slots = int(snapshot.busy)
        record = snapshot.find(self.resolved_model) if self.resolved_model else None
        if (
            self.state is ServerState.READY
            and not snapshot.autoload
            and record is not None
            and record.state in (ModelState.AVAILABLE, ModelState.FAILED)
        ):
            self.state = ServerState.MODEL_NOT_LOADED
            self.error = not_loaded_error(host_port(self.base_url), record.id, status=None)
        return self

    @property
    def summary(self) -> str:
        """One line for a tooltip or a terminal: state in words, where, and the key fact."""
        where = host_port(self.base_url)
        if self.state is ServerState.READY:
            latency = f" ({self.latency * 1000:.0f} ms)" if self.latency is not None else ""
            return f"{self.resolved_model} ready on {where}{latency}"
        if self.error is not None:
            return self.error.message
        return f"{self.state.words} — {where}"

    def to_dict(self) -> StatusDict:
        return {
            "state": self.state.value,
            "summary": self.summary,
            "base_url": self.base_url,
            "model": self.model,
            "resolved_model": self.resolved_model,
            "match": None if self.match is None else self.match.how,
            "suggestions": [] if self.match is None else self.match.suggestions,
            "models": self.models,
            "latency_ms": None if self.latency is None else round(self.latency * 1000, 1),
            "server": self.server,
            "busy_slots": self.busy_slots,
            "kind": None if self.snapshot is None else self.snapshot.kind.value,
            "loaded": None
            if self.snapshot is None or not self.snapshot.caps.loaded_state
            else [m.id for m in self.snapshot.loaded],
            "error": None if self.error is None else self.error.to_dict(),
        }


async def probe(client: ModelClient, model: str, *, busy: bool = True) -> StatusReport:
    """List the server's models once and classify the result (never raises for server faults).

    ``busy`` also takes the model API's look (:meth:`StatusReport.with_snapshot`): its busy signal
    and loaded states come from calls that never load or wake a model (``/slots`` would). Callers
    with their own model manager pass False and add its look themselves.
    """
    # lazy: the model API's manager stays off the tray's start-up path
    from trayai.core.net.backends.manager import ModelManager

    base_url = client.base_url
    try:
        listing = await client.list_models()
    except TrayaiError as exc:
        return StatusReport(state=state_for_error(exc), base_url=base_url, model=model, error=exc)
    report = report_from_listing(listing, base_url, model)
    report.listing = listing
    if busy:
        report.with_snapshot(await ModelManager(client).snapshot(listing))
    return report


def report_from_listing(listing: ModelListing, base_url: str, model: str) -> StatusReport:
    ids = listing.ids
    report = partial(
        StatusReport,
        base_url=base_url,
        model=model,
        models=ids,
        latency=listing.latency,
        server=listing.server,
    )
    if not ids:
        return report(
            state=ServerState.NO_MODELS,
            error=make_error(ErrorCode.NO_MODELS, f"{host_port(base_url)} lists no models"),
        )
    found = match_model(model, ids)
    if not found.found:
        near = f" — did you mean {', '.join(found.suggestions)}?" if found.suggestions else ""
        return report(
            state=ServerState.MODEL_MISSING,
            match=found,
            error=make_error(
                ErrorCode.MODEL_MISSING,
                f"Model {model!r} is not on {host_port(base_url)}{near}",
                suggestions=found.suggestions or ids[:5],
            ),
        )
    return report(state=ServerState.READY, match=found)


def state_for_error(error: TrayaiError) -> ServerState:
    if error.code in _UNREACHABLE_CODES:
        return ServerState.UNREACHABLE
    if error.code in _AUTH_CODES:
        return ServerState.AUTH_ERROR
    return ServerState.ERROR
