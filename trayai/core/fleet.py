"""Every profile's server at a glance: one cheap look per server, each at its own pace, and the
back-off that keeps ten servers (seven of them down) from costing anything noticeable.

Qt-free: ``ui/fleet.py`` schedules the looks; ``trayai servers`` takes one look at all of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, TypedDict

from trayai.core.errors import AppError, TrayaiError
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.backends.records import ServerKind
from trayai.core.net.client import ModelClient
from trayai.core.net.urls import host_port
from trayai.core.settings.resolve import ResolvedEndpoint, resolve_endpoint
from trayai.core.status import ServerState, probe

if TYPE_CHECKING:
    from trayai.core.settings.secrets import SecretStore
    from trayai.core.settings.store import LoadedConfig

LOOK_CONNECT_TIMEOUT = 2.0  # a local server accepts at once; a remote one within this
LOOK_TIMEOUT = 5.0


class ServerLookDict(TypedDict):
    """One server in ``trayai servers --json``."""

    profile: str
    base_url: str
    state: str
    kind: str | None
    kind_label: str | None
    loaded: list[str] | None
    problem: str | None


@dataclass(frozen=True)
class ServerLook:
    """What one look at one profile's server found."""

    profile: str
    base_url: str
    state: ServerState
    kind: ServerKind | None = None
    loaded: list[str] | None = None  # None: this server cannot tell
    problem: str | None = None
    checked_at: float = field(default_factory=time.time)
    models: tuple[str, ...] = ()  # what it lists (the chat's server · model picker)

    @property
    def where(self) -> str:
        return host_port(self.base_url) if self.base_url else "?"

    @property
    def up(self) -> bool:
        return self.state not in (ServerState.UNREACHABLE, ServerState.ERROR, ServerState.STARTING)

    def to_dict(self) -> ServerLookDict:
        return {
            "profile": self.profile,
            "base_url": self.base_url,
            "state": self.state.value,
            "kind": None if self.kind is None else self.kind.value,
            "kind_label": None if self.kind is None else self.kind.label,
            "loaded": self.loaded,
            "problem": self.problem,
        }


def quick_endpoint(resolved: ResolvedEndpoint) -> ResolvedEndpoint:
    """The same endpoint with short deadlines: a look must not wait 10 s on a dead remote host."""
    endpoint = replace(resolved.endpoint, connect_timeout=LOOK_CONNECT_TIMEOUT, models_timeout=LOOK_TIMEOUT)
    return replace(resolved, endpoint=endpoint)


async def look(resolved: ResolvedEndpoint, client: ModelClient, manager: ModelManager) -> ServerLook:
    """Reachable? Which server? What is loaded? Never raises for server faults."""
    name = resolved.profile.name
    report = await probe(client, resolved.model, busy=False)
    if report.error is not None and report.state in (ServerState.UNREACHABLE, ServerState.ERROR):
        manager.forget()
        return ServerLook(name, resolved.base_url, report.state, problem=report.error.message)
    try:
        kind, loaded = await manager.loaded_names()
    except TrayaiError as exc:
        return ServerLook(
            name,
            resolved.base_url,
            report.state,
            manager.kind,
            problem=exc.message,
            models=tuple(report.models),
        )
    problem = report.error.message if report.error is not None else None
    return ServerLook(
        name, resolved.base_url, report.state, kind, loaded, problem, models=tuple(report.models)
    )


async def look_at_all(
    loaded: LoadedConfig,
    secrets: SecretStore,
    known: Callable[[ResolvedEndpoint], ResolvedEndpoint],
) -> list[ServerLook]:
    """One look at every profile's server, all at once (``trayai servers``)."""

    async def one(profile: str) -> ServerLook:
        try:
            resolved = quick_endpoint(known(resolve_endpoint(loaded, secrets, profile=profile)))
        except AppError as exc:
            return ServerLook(profile, "", ServerState.ERROR, problem=str(exc))
        async with ModelClient(resolved.endpoint) as client:
            return await look(resolved, client, ModelManager(client))

    return list(await asyncio.gather(*(one(p.name) for p in loaded.settings.profiles)))


@dataclass
class WatchPace:
    """How often to look at a server that is not the active one."""

    interval: float = 30.0
    max_backoff: float = 300.0


@dataclass
class Watch:
    """One watched server's timing and last look."""

    profile: str
    last: ServerLook | None = None
    failures: int = 0
    due: float = 0.0

    def record(self, seen: ServerLook, now: float, pace: WatchPace) -> bool:
        """Store the look and plan the next; True when the server went down or came back."""
        changed = self.last is not None and self.last.up != seen.up
        self.last = seen
        self.failures = 0 if seen.up else self.failures + 1
        delay = pace.interval if seen.up else min(pace.max_backoff, pace.interval * 2 ** (self.failures - 1))
        self.due = now + delay
        return changed


class FleetLogic:
    """Which servers are due, what changed, and the words for the Servers menu and notifications."""

    def __init__(self, pace: WatchPace | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.pace = pace or WatchPace()
        self.watches: dict[str, Watch] = {}
        self._clock = clock

    def set_profiles(self, names: list[str]) -> None:
        """Follow the settings: new profiles are due now, removed ones forgotten."""
        self.watches = {n: self.watches.get(n) or Watch(n) for n in names}

    def due(self) -> list[str]:
        now = self._clock()
        return [w.profile for w in self.watches.values() if w.due <= now]

    def next_delay(self) -> float:
        if not self.watches:
            return self.pace.interval
        return max(0.0, min(w.due for w in self.watches.values()) - self._clock())

    def record(self, seen: ServerLook) -> str | None:
        """Store a look; a notification text when the server went down or came back."""
        watch = self.watches.get(seen.profile)
        if watch is None:
            return None
        if not watch.record(seen, self._clock(), self.pace):
            return None
        if seen.up:
            return f"{seen.profile} ({seen.where}) is back: {seen.state.words}"
        return f"{seen.profile} ({seen.where}) is down: {seen.problem or seen.state.words}"

    def looks(self) -> list[ServerLook]:
        return [w.last for w in self.watches.values() if w.last is not None]
