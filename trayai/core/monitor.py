"""The status monitor's decisions without Qt: state shown, back-off, which transitions notify.

``ui/monitor.py`` only schedules polls (docs/architecture.md, "The tray app").
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from trayai.core.status import ServerState, StatusReport

Clock = Callable[[], float]


@dataclass(frozen=True)
class MonitorPolicy:
    interval: float = 5.0  # seconds between polls while the server answers
    max_backoff: float = 60.0  # the longest pause while it does not
    backoff_factor: float = 2.0
    notify_min_gap: float = 30.0  # at most one notification per this many seconds


@dataclass(frozen=True)
class Notification:
    title: str
    message: str


@dataclass(frozen=True)
class Transition:
    """What one new report changed: the shown state before/after and an optional notification."""

    before: ServerState | None
    after: ServerState
    notification: Notification | None = None

    @property
    def changed(self) -> bool:
        return self.before is not self.after


_UNHEALTHY = {ServerState.UNREACHABLE, ServerState.ERROR}


class MonitorLogic:
    """Tracks the last report plus the app's own activity (server starting, requests streaming)."""

    def __init__(
        self,
        policy: MonitorPolicy | None = None,
        *,
        clock: Clock = time.monotonic,
        notifications: bool = True,
    ) -> None:
        self.policy = policy or MonitorPolicy()
        self.notifications = notifications
        self.report: StatusReport | None = None
        self._clock = clock
        self._failures = 0
        self._generating = 0
        self._starting = False
        self._was_ready = False
        self._ever_starting = False
        self._seen_down = False
        self._last_notified = -1e9
        self._shown: ServerState | None = None
        self._hurry_until = -1e9

    # ------------------------------------------------------------------ inputs

    def record(self, report: StatusReport) -> Transition:
        """A poll finished: update the state; say whether it changed and whether to notify."""
        self.report = report
        if report.state in _UNHEALTHY:
            self._failures += 1
        else:
            self._failures = 0
        if report.state is ServerState.READY:
            self._starting = False
        return self._update(self._notification_for(report))

    def set_starting(self, *, starting: bool) -> Transition:
        """The built-in server is booting (True) or finished/failed booting (False)."""
        self._starting = starting
        if starting:
            self._ever_starting = True
        return self._update(None)

    def request_started(self) -> Transition:
        self._generating += 1
        return self._update(None)

    def request_finished(self) -> Transition:
        self._generating = max(0, self._generating - 1)
        return self._update(None)

    def hurry(self, seconds: float) -> None:
        """Poll every second for a while: a load, unload or pull is under way, or the menu is open."""
        self._hurry_until = max(self._hurry_until, self._clock() + seconds)

    def reset(self) -> Transition:
        """The endpoint changed: forget what we knew about the old one."""
        self.report = None
        self._failures = 0
        self._was_ready = False
        return self._update(None)

    # ------------------------------------------------------------------ outputs

    @property
    def state(self) -> ServerState | None:
        """The state to show: starting/generating override the polled state where they apply."""
        polled = self.report.state if self.report else None
        if self._starting and polled is not ServerState.READY:
            return ServerState.STARTING
        busy = self._generating or (self.report is not None and self.report.busy_slots)
        if busy and polled in (ServerState.READY, None):
            return ServerState.GENERATING
        return polled

    @property
    def generating(self) -> bool:
        return self._generating > 0

    def next_delay(self) -> float:
        """Seconds until the next poll: the interval, or an exponential back-off while unhealthy."""
        p = self.policy
        if self._starting or self._clock() < self._hurry_until:
            return min(1.0, p.interval)
        if self._failures <= 1:
            return p.interval
        return min(p.max_backoff, p.interval * p.backoff_factor ** (self._failures - 1))

    # ------------------------------------------------------------------ internals

    def _update(self, notification: Notification | None) -> Transition:
        before, after = self._shown, self.state
        self._shown = after
        return Transition(before, after if after is not None else ServerState.STARTING, notification)

    def _notification_for(self, report: StatusReport) -> Notification | None:
        """Only meaningful transitions: ready after starting/being down; down after being ready."""
        note: Notification | None = None
        if report.state is ServerState.READY:
            if not self._was_ready and (self._ever_starting or self._seen_down):
                note = Notification("Model ready", report.summary)
            self._was_ready = True
            self._seen_down = False
            self._ever_starting = False
        elif report.state is ServerState.UNREACHABLE:
            if self._was_ready:
                note = Notification("Model server unreachable", report.summary)
            self._was_ready = False
            self._seen_down = True
        if note is None or not self.notifications:
            return None
        now = self._clock()
        if now - self._last_notified < self.policy.notify_min_gap:
            return None
        self._last_notified = now
        return note
