"""One server's models: fingerprint it once (again after an error), then list, load, unload and
pull through its adapter, checking that the server did what it said (docs/model-management.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncGenerator, Callable
from typing import TYPE_CHECKING

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.modelmatch import match_model
from trayai.core.net.backends.base import Backend, Unsupported
from trayai.core.net.backends.fingerprint import Fingerprint, fingerprint
from trayai.core.net.backends.http import ServerHttp
from trayai.core.net.backends.records import (
    Capabilities,
    ModelRecord,
    ModelState,
    PullProgress,
    ServerKind,
    ServerSnapshot,
    loaded_first,
)
from trayai.core.net.client import within

if TYPE_CHECKING:
    from trayai.core.net.client import ModelClient, ModelListing

# Each kind's adapter as (module, class): only the module of the server found is imported, so a
# tray watching one llama.cpp server does not hold the code of eight others.
ADAPTERS: dict[ServerKind, tuple[str, str]] = {
    ServerKind.OLLAMA: ("ollama", "OllamaBackend"),
    ServerKind.LLAMACPP: ("llamacpp", "LlamaCppBackend"),
    ServerKind.LLAMACPP_ROUTER: ("llamacpp", "LlamaRouterBackend"),
    ServerKind.LMSTUDIO: ("lmstudio", "LmStudioBackend"),
    ServerKind.LMSTUDIO_V0: ("lmstudio", "LmStudioV0Backend"),
    ServerKind.DMR: ("dmr", "DmrBackend"),
    ServerKind.LOCALAI: ("localai", "LocalAiBackend"),
    ServerKind.VLLM: ("others", "VllmBackend"),
    ServerKind.JAN: ("others", "JanBackend"),
    ServerKind.GENERIC: ("base", "Backend"),
}


def adapter_class(kind: ServerKind) -> type[Backend]:
    """The adapter for ``kind``, its module imported now."""
    # lazy: importlib is loaded only when used: start-up time and memory
    import importlib

    module, name = ADAPTERS[kind]
    found = getattr(importlib.import_module(f"trayai.core.net.backends.{module}"), name)
    assert isinstance(found, type) and issubclass(found, Backend)
    return found


LOAD_DEADLINE = 300.0  # seconds for a load to finish unless the caller gives its own
UNLOAD_DEADLINE = 30.0
REFINGERPRINT_AFTER = 600.0  # a server may be replaced by another on the same port
STATE_POLL_SECONDS = 0.25


class ModelManager:
    """Model management for one endpoint; the adapter is chosen on first use."""

    def __init__(
        self,
        client: ModelClient,
        *,
        backend: Backend | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.client = client
        self.http = ServerHttp(client)
        self._fixed = backend  # the built-in server's adapter, which fingerprinting must not replace
        self._backend = backend
        self._found_at = clock()
        self._clock = clock

    @property
    def fixed(self) -> bool:
        """True when the adapter was given (the built-in server), not found by fingerprinting."""
        return self._fixed is not None

    @property
    def kind(self) -> ServerKind | None:
        return None if self._backend is None else self._backend.kind

    def forget(self) -> None:
        """Fingerprint again on next use (after an error: another server may answer now)."""
        self._backend = self._fixed

    async def backend(self, listing: ModelListing | None = None) -> Backend:
        stale = self._clock() - self._found_at > REFINGERPRINT_AFTER
        if self._backend is None or (stale and self._fixed is None):
            owners = None if listing is None else {m.owned_by for m in listing.models if m.owned_by}
            found: Fingerprint = await fingerprint(self.http, owners)
            self._backend = adapter_class(found.kind)(self.http, found.version, found.props)
            self._found_at = self._clock()
        return self._backend

    # ------------------------------------------------------------------ reading

    async def snapshot(self, listing: ModelListing | None = None) -> ServerSnapshot:
        """Everything one look can say; never raises for server faults (they are in ``error``).

        ``listing``: the OpenAI listing the caller has just read, so it is not asked for again.
        """
        backend: Backend | None = None
        try:
            backend = await self.backend(listing)
            models = await backend.models(None if listing is None else listing.ids)
            busy = await backend.busy() if backend.caps.busy else None
        except TrayaiError as exc:
            self.forget()
            kind = backend.kind if backend is not None else ServerKind.GENERIC
            caps = backend.caps if backend is not None else Capabilities()
            return ServerSnapshot(kind, caps, error=exc)
        return ServerSnapshot(
            backend.kind, backend.caps, loaded_first(models), busy, backend.version, backend.autoload
        )

    async def loaded_names(self) -> tuple[ServerKind, list[str] | None]:
        """The cheap look for watching many servers: the kind and the models in memory."""
        try:
            backend = await self.backend()
            return backend.kind, await backend.loaded_names()
        except TrayaiError:
            self.forget()
            raise

    async def find(self, name: str) -> tuple[Backend, ModelRecord]:
        """The server's record for ``name`` (tolerant: tags, registry prefixes, case)."""
        backend = await self.backend()
        models = await backend.models()
        exact = next((m for m in models if m.id == name), None)
        if exact is not None:
            return backend, exact
        found = match_model(name, [m.id for m in models])
        if found.resolved is None:
            near = f" — did you mean {', '.join(found.suggestions)}?" if found.suggestions else ""
            raise make_error(
                ErrorCode.MODEL_NOT_FOUND,
                f"{self.http.where} ({backend.kind.label}) has no model {name!r}{near}",
                "Run `trayai models` for the names it has"
                + (", or `trayai pull NAME` to fetch one." if backend.caps.pull else "."),
                suggestions=found.suggestions,
            )
        return backend, next(m for m in models if m.id == found.resolved)

    # ------------------------------------------------------------------ actions

    async def load(
        self,
        name: str,
        *,
        keep_alive: float | None = None,
        deadline: float = LOAD_DEADLINE,
        on_state: Callable[[ModelRecord], None] | None = None,
    ) -> ModelRecord:
        """Load ``name`` and wait until the server lists it as loaded (or ``deadline`` passes)."""
        backend = await self.backend()
        if not backend.caps.load:
            raise Unsupported(backend.kind, "load models", backend.no_load_hint())
        _, record = await self.find(name)
        if record.remote:
            raise Unsupported(
                backend.kind, f"load {record.id!r}", "It is a cloud model: it runs remotely, never here."
            )
        if record.state is ModelState.LOADED and (keep_alive is None or not backend.caps.keep_alive):
            return record  # (a new keep-alive for a loaded Ollama model is sent: it resets the expiry)
        started = self._clock()
        try:
            if record.state is ModelState.SLEEPING:
                # Loaded but asleep ("model is already running"): woken because the user asked to
                # load it; where it cannot be, it stays loaded-but-asleep and that is the answer.
                if on_state is not None:
                    on_state(record)
                if not await within(backend.wake(record), deadline):
                    return record
                return await within(
                    self._until(record.id, loaded=True, awake=True, on_state=on_state),
                    deadline - (self._clock() - started),
                )
            await within(backend.load(record, keep_alive), deadline)
            return await within(
                self._until(record.id, loaded=True, on_state=on_state), deadline - (self._clock() - started)
            )
        except asyncio.TimeoutError as exc:
            raise make_error(
                ErrorCode.LOAD_TIMEOUT,
                f"{record.id!r} did not finish loading on {self.http.where} within {deadline:g} s",
                detail=None,
            ) from exc

    async def unload(self, name: str) -> ModelRecord | None:
        """Unload ``name``; None when it was not loaded (nothing to do). Checks it really left."""
        backend = await self.backend()
        if not backend.caps.unload:
            raise Unsupported(backend.kind, "unload models", backend.no_load_hint())
        _, record = await self.find(name)
        if not record.state.in_memory:
            return None
        await backend.unload(record)
        try:
            return await within(self._until(record.id, loaded=False), UNLOAD_DEADLINE)
        except asyncio.TimeoutError as exc:
            raise self._still_listed([record.id]) from exc

    async def unload_all(self) -> list[str]:
        """Unload every model in memory; returns their names once the server lists none of them in
        memory (the llama.cpp router answers at once and its children exit later), as ``unload``."""
        backend = await self.backend()
        if not backend.caps.unload:
            raise Unsupported(backend.kind, "unload models", backend.no_load_hint())
        loaded = [m for m in await backend.models() if m.state.in_memory and not m.remote]
        if not loaded:
            return []
        await backend.unload_all(loaded)
        names = [m.id for m in loaded]
        try:
            await within(self._until_gone(names), UNLOAD_DEADLINE)
        except asyncio.TimeoutError as exc:
            listed = {m.id: m for m in await backend.models()}
            raise self._still_listed([n for n in names if n in listed and listed[n].state.in_memory]) from exc
        return names

    def _still_listed(self, names: list[str]) -> TrayaiError:
        which = ", ".join(repr(n) for n in names) or "the models"
        return make_error(
            ErrorCode.SERVER_ERROR,
            f"{self.http.where} accepted the unload of {which} but still lists "
            f"{'it' if len(names) == 1 else 'them'} as loaded after {UNLOAD_DEADLINE:g} s",
            "It may be answering a request (Docker Model Runner unloads only idle runners); try again.",
        )

    async def _until_gone(self, names: list[str]) -> None:
        """Poll the listing until none of ``names`` is in memory (a model no longer listed is gone)."""
        backend = await self.backend()
        while any(m.id in names and m.state.in_memory for m in await backend.models()):
            await asyncio.sleep(STATE_POLL_SECONDS)

    async def pull(self, name: str) -> AsyncGenerator[PullProgress, None]:
        """Download ``name`` with progress; cancelling (closing the iterator) tells the server."""
        backend = await self.backend()
        if not backend.caps.pull:
            raise Unsupported(backend.kind, "pull models", backend.no_pull_hint())
        try:
            async with contextlib.aclosing(backend.pull(name)) as steps:
                async for step in steps:
                    yield step
                    if step.done:
                        return
        except (asyncio.CancelledError, GeneratorExit):
            # Stopped by the user (Ctrl+C, Cancel, quitting): the server is told; a pull that failed
            # on its own has nothing to cancel.
            with contextlib.suppress(TrayaiError, asyncio.CancelledError):
                await asyncio.shield(backend.cancel_pull(name))
            raise

    async def _until(
        self,
        model_id: str,
        *,
        loaded: bool,
        awake: bool = False,
        on_state: Callable[[ModelRecord], None] | None = None,
    ) -> ModelRecord:
        """Poll the listing until ``model_id`` is (not) in memory; a failed load raises.

        Loaded-but-asleep counts as loaded (a model may fall asleep before the first look), unless
        ``awake``: then only a model the server lists as awake does.
        """
        backend = await self.backend()
        while True:
            record = next((m for m in await backend.models() if m.id == model_id), None)
            if record is None:
                if not loaded:
                    return ModelRecord(model_id, ModelState.AVAILABLE)
                raise make_error(
                    ErrorCode.MODEL_NOT_FOUND,
                    f"{self.http.where} accepted the load of {model_id!r}, then stopped listing it",
                    "The server may have removed it; run `trayai models`.",
                )
            if on_state is not None:
                on_state(record)
            if record.state is ModelState.FAILED:
                raise make_error(
                    ErrorCode.SERVER_ERROR,
                    f"{self.http.where} could not load {model_id!r}: {record.detail or 'the load failed'}",
                    "Read the server's log (not enough memory is the usual cause).",
                )
            if loaded and (
                record.state is ModelState.LOADED or (record.state is ModelState.SLEEPING and not awake)
            ):
                return record
            if not loaded and not record.state.in_memory:
                return record
            await asyncio.sleep(STATE_POLL_SECONDS)
