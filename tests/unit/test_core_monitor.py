"""The monitor's decisions: shown state, back-off, and which transitions notify."""

from __future__ import annotations

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.core.monitor import MonitorLogic, MonitorPolicy
from trayai.core.status import ServerState, StatusReport


def report(state: ServerState) -> StatusReport:
    error = None if state is ServerState.READY else make_error(ErrorCode.CONNECTION_REFUSED)
    return StatusReport(
        state=state,
        base_url="http://localhost:8080/v1",
        model="ai/smollm2",
        models=["ai/smollm2"],
        error=error,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_back_off_while_unreachable_then_normal_interval() -> None:
    logic = MonitorLogic(MonitorPolicy(interval=5, max_backoff=60))
    delays = []
    for _ in range(6):
        logic.record(report(ServerState.UNREACHABLE))
        delays.append(logic.next_delay())
    assert delays == [5, 10, 20, 40, 60, 60]
    logic.record(report(ServerState.READY))
    assert logic.next_delay() == 5


def test_starting_and_generating_override_the_polled_state() -> None:
    logic = MonitorLogic()
    assert logic.state is None
    t = logic.set_starting(starting=True)
    assert t.changed and t.after is ServerState.STARTING
    assert logic.next_delay() == 1.0  # poll often while the built-in server boots
    logic.record(report(ServerState.UNREACHABLE))
    assert logic.state is ServerState.STARTING
    logic.record(report(ServerState.READY))
    assert logic.state is ServerState.READY  # ready ends "starting"
    assert logic.request_started().after is ServerState.GENERATING
    logic.request_started()
    assert logic.request_finished().after is ServerState.GENERATING  # one still streaming
    assert logic.request_finished().after is ServerState.READY


def test_notifications_only_on_meaningful_transitions_and_rate_limited() -> None:
    clock = Clock()
    logic = MonitorLogic(MonitorPolicy(notify_min_gap=30), clock=clock)
    # Already up at launch: no notification.
    assert logic.record(report(ServerState.READY)).notification is None
    assert logic.record(report(ServerState.READY)).notification is None
    # Went away after being ready: notify once.
    down = logic.record(report(ServerState.UNREACHABLE)).notification
    assert down is not None and down.title == "Model server unreachable"
    assert logic.record(report(ServerState.UNREACHABLE)).notification is None
    # Back within the rate limit: suppressed; after it: notified.
    clock.now += 5
    assert logic.record(report(ServerState.READY)).notification is None
    logic.record(report(ServerState.UNREACHABLE))
    clock.now += 60
    back = logic.record(report(ServerState.READY)).notification
    assert back is not None and back.title == "Model ready"


def test_ready_after_starting_notifies_and_can_be_switched_off() -> None:
    logic = MonitorLogic()
    logic.set_starting(starting=True)
    assert logic.record(report(ServerState.READY)).notification is not None
    quiet = MonitorLogic(notifications=False)
    quiet.set_starting(starting=True)
    assert quiet.record(report(ServerState.READY)).notification is None


def test_reset_forgets_the_old_endpoint() -> None:
    logic = MonitorLogic()
    logic.record(report(ServerState.READY))
    t = logic.reset()
    assert logic.report is None and t.changed
