"""Watching every profile's server: the back-off that keeps down servers cheap, the words of the
notifications, and one look at real (fake) servers.

Why: ten profiles with seven servers down must not cost a request every few seconds each; a server
that comes back must be noticed within the normal interval; and the tray must say once — not on
every look — that a server went down or came back.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from tests.support.managed import paths
from tests.support.ports import free_port
from trayai.core.fleet import FleetLogic, ServerLook, Watch, WatchPace, look, look_at_all, quick_endpoint
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.backends.records import ServerKind
from trayai.core.net.client import ModelClient
from trayai.core.settings.config import Profile, Settings
from trayai.core.settings.resolve import ResolvedEndpoint, resolve_endpoint
from trayai.core.settings.secrets import MemoryKeyring, SecretStore
from trayai.core.settings.store import LoadedConfig
from trayai.core.status import ServerState

URL = "http://127.0.0.1:11434/v1"


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def up(profile: str = "home", state: ServerState = ServerState.READY) -> ServerLook:
    return ServerLook(profile, URL, state, ServerKind.OLLAMA, ["llama3.2:latest"])


def down(
    profile: str = "home", problem: str | None = "Nothing is listening on 127.0.0.1:11434"
) -> ServerLook:
    return ServerLook(profile, URL, ServerState.UNREACHABLE, problem=problem)


# ---------------------------------------------------------------------------------------------- back-off


def test_a_down_server_is_looked_at_half_as_often_each_time_up_to_the_maximum() -> None:
    clock = Clock()
    fleet = FleetLogic(WatchPace(interval=30.0, max_backoff=300.0), clock=clock)
    fleet.set_profiles(["home"])
    assert fleet.due() == ["home"]  # a new profile is looked at at once
    delays = []
    for _ in range(7):
        assert fleet.due() == ["home"]
        fleet.record(down())
        delays.append(fleet.next_delay())
        clock.now += delays[-1] - 0.5
        assert fleet.due() == []  # not before its time
        clock.now += 0.5
    assert delays == [30.0, 60.0, 120.0, 240.0, 300.0, 300.0, 300.0]
    assert fleet.watches["home"].failures == 7


def test_the_back_off_resets_when_the_server_is_up() -> None:
    clock = Clock()
    fleet = FleetLogic(WatchPace(interval=10.0, max_backoff=80.0), clock=clock)
    fleet.set_profiles(["home"])
    for _ in range(5):
        fleet.record(down())
        clock.now += fleet.next_delay()
    assert fleet.next_delay() == 0.0 and fleet.watches["home"].failures == 5
    fleet.record(up())
    assert (fleet.next_delay(), fleet.watches["home"].failures) == (10.0, 0)
    clock.now += 10.0
    fleet.record(down())
    assert fleet.next_delay() == 10.0  # counting starts over
    fleet.record(up(state=ServerState.GENERATING))
    fleet.record(up(state=ServerState.MODEL_MISSING))  # reachable: not a failure
    assert fleet.watches["home"].failures == 0


def test_each_server_keeps_its_own_pace() -> None:
    clock = Clock()
    fleet = FleetLogic(WatchPace(interval=30.0, max_backoff=300.0), clock=clock)
    fleet.set_profiles(["a", "b", "c"])
    fleet.record(down("a"))
    fleet.record(up("b"))
    assert fleet.due() == ["c"] and fleet.next_delay() == 0.0
    fleet.record(down("c"))
    clock.now += 30.0
    assert fleet.due() == ["a", "b", "c"]
    fleet.record(down("a"))  # its second failure
    fleet.record(up("b"))
    fleet.record(up("c"))
    assert fleet.next_delay() == 30.0
    clock.now += 30.0
    assert fleet.due() == ["b", "c"]  # "a" waits 60 s now


def test_profiles_follow_the_settings() -> None:
    clock = Clock()
    fleet = FleetLogic(clock=clock)
    assert fleet.next_delay() == fleet.pace.interval  # nothing to watch
    fleet.set_profiles(["a", "b"])
    fleet.record(down("a"))
    fleet.record(down("a"))
    fleet.set_profiles(["a", "new"])
    assert set(fleet.watches) == {"a", "new"}
    assert fleet.watches["a"].failures == 2  # kept
    assert fleet.due() == ["new"]
    assert fleet.record(down("b")) is None  # a removed profile's late look is dropped
    assert [seen.profile for seen in fleet.looks()] == ["a"]


# ---------------------------------------------------------------------------------------------- notifications


def test_a_notification_only_when_a_server_goes_down_or_comes_back() -> None:
    fleet = FleetLogic(clock=Clock())
    fleet.set_profiles(["home"])
    assert fleet.record(up()) is None  # the first look: nothing changed yet
    assert fleet.record(up()) is None
    assert fleet.record(down()) == "home (127.0.0.1:11434) is down: Nothing is listening on 127.0.0.1:11434"
    assert fleet.record(down()) is None
    assert fleet.record(up()) == "home (127.0.0.1:11434) is back: ready"
    assert fleet.record(down(problem=None)) == "home (127.0.0.1:11434) is down: unreachable"
    assert (
        fleet.record(up(state=ServerState.AUTH_ERROR)) == "home (127.0.0.1:11434) is back: API key rejected"
    )


def test_a_first_look_at_a_down_server_is_not_news() -> None:
    fleet = FleetLogic(clock=Clock())
    fleet.set_profiles(["home"])
    assert fleet.record(down()) is None
    assert fleet.record(up()) == "home (127.0.0.1:11434) is back: ready"


def test_watch_record_says_what_changed() -> None:
    watch = Watch("home")
    pace = WatchPace(interval=5.0, max_backoff=20.0)
    assert watch.record(up(), 0.0, pace) is False
    assert watch.due == 5.0
    assert watch.record(down(), 5.0, pace) is True
    assert watch.record(down(), 10.0, pace) is False and watch.due == 20.0
    assert watch.record(down(), 20.0, pace) is False and watch.due == 40.0
    assert watch.record(down(), 40.0, pace) is False and watch.due == 60.0  # capped at 20 s
    assert watch.last is not None and not watch.last.up


@pytest.mark.parametrize(
    ("state", "is_up"),
    [
        (ServerState.READY, True),
        (ServerState.GENERATING, True),
        (ServerState.MODEL_MISSING, True),
        (ServerState.NO_MODELS, True),
        (ServerState.AUTH_ERROR, True),
        (ServerState.UNREACHABLE, False),
        (ServerState.ERROR, False),
        (ServerState.STARTING, False),
    ],
)
def test_what_counts_as_up(state: ServerState, is_up: bool) -> None:
    assert ServerLook("p", URL, state).up is is_up


# ---------------------------------------------------------------------------------------------- one look


def resolved_for(base_url: str, model: str = "m") -> ResolvedEndpoint:
    settings = Settings()
    settings.profiles = [Profile(name="p", base_url=base_url, model=model)]
    settings.active_profile = "p"
    return quick_endpoint(resolve_endpoint(LoadedConfig(settings), SecretStore(MemoryKeyring())))


@pytest.mark.anyio
async def test_a_look_finds_the_kind_and_what_is_loaded() -> None:
    models = [FakeModel("a:latest", loaded=True), FakeModel("b:latest"), FakeModel("c:latest", loaded=True)]
    with FakeBackend(Kind.OLLAMA, models) as fake:
        resolved = resolved_for(fake.base_url, "b")
        async with ModelClient(resolved.endpoint) as client:
            seen = await look(resolved, client, ModelManager(client))
    assert (seen.profile, seen.state, seen.kind) == ("p", ServerState.READY, ServerKind.OLLAMA)
    assert sorted(seen.loaded or []) == ["a:latest", "c:latest"]
    assert seen.problem is None and seen.up
    assert seen.to_dict()["kind_label"] == "Ollama"


@pytest.mark.anyio
async def test_a_look_never_wakes_a_sleeping_model() -> None:
    with FakeBackend(Kind.LLAMACPP_SINGLE, [FakeModel("gemma", sleeping=True)], busy=True) as fake:
        resolved = resolved_for(fake.base_url, "gemma")
        async with ModelClient(resolved.endpoint) as client:
            seen = await look(resolved, client, ModelManager(client))
        assert fake.models["gemma"].sleeping
    assert (seen.kind, seen.loaded) == (ServerKind.LLAMACPP, ["gemma"])
    assert not any(p.startswith("/slots") for p in paths(fake))


@pytest.mark.anyio
async def test_a_look_at_a_missing_model_or_a_plain_server() -> None:
    with FakeBackend(Kind.GENERIC, [FakeModel("other")]) as fake:
        resolved = resolved_for(fake.base_url, "wanted")
        async with ModelClient(resolved.endpoint) as client:
            seen = await look(resolved, client, ModelManager(client))
    assert (seen.state, seen.kind, seen.loaded) == (ServerState.MODEL_MISSING, ServerKind.GENERIC, None)
    assert seen.up and seen.problem is not None and "wanted" in seen.problem


@pytest.mark.anyio
async def test_a_look_at_a_dead_server_forgets_what_it_was() -> None:
    with FakeBackend(Kind.OLLAMA, [FakeModel("m:latest")]) as fake:
        resolved = resolved_for(fake.base_url)
        async with ModelClient(resolved.endpoint) as client:
            manager = ModelManager(client)
            assert (await look(resolved, client, manager)).kind is ServerKind.OLLAMA
            fake.stop()
            seen = await look(resolved, client, manager)
    assert (seen.state, seen.kind, seen.loaded) == (ServerState.UNREACHABLE, None, None)
    assert seen.problem is not None and seen.problem.startswith("Nothing is listening on")
    assert manager.kind is None  # another server may answer on that port next time


def test_looks_are_quick() -> None:
    resolved = resolved_for(f"http://127.0.0.1:{free_port()}/v1")
    assert (resolved.endpoint.connect_timeout, resolved.endpoint.models_timeout) == (2.0, 5.0)


@pytest.mark.anyio
async def test_one_look_at_every_profile() -> None:
    with FakeBackend(Kind.LMSTUDIO, [FakeModel("a/b", loaded=True)]) as fake:
        settings = Settings()
        settings.profiles = [
            Profile(name="lms", base_url=fake.base_url, model="a/b"),
            Profile(name="dead", base_url=f"http://127.0.0.1:{free_port()}/v1"),
            Profile(name="broken", base_url="ftp://example.com"),  # as hand-edited: never validated
        ]
        settings.active_profile = "lms"
        looks = await look_at_all(LoadedConfig(settings), SecretStore(MemoryKeyring()), lambda r: r)
    assert [(s.profile, s.state) for s in looks] == [
        ("lms", ServerState.READY),
        ("dead", ServerState.UNREACHABLE),
        ("broken", ServerState.ERROR),
    ]
    assert looks[0].loaded == ["a/b"] and looks[0].kind is ServerKind.LMSTUDIO
    assert looks[2].base_url == "" and looks[2].where == "?" and looks[2].problem
