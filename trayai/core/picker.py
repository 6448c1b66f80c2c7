"""The chat's server · model picker as plain data: every profile's server, its state, its models.

LM Studio, Jan and Msty list models grouped by where they run; ours does the same across every
configured server, with each server's state and each model's (loaded / available), so a person
picks "qwen3 on the Ollama box" knowing it is up — and a down server is shown as down, not hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from trayai.core.fleet import ServerLook
from trayai.core.net.backends.records import ModelRecord, ModelState
from trayai.core.status import ServerState, StatusReport

DOWN = (ServerState.UNREACHABLE, ServerState.ERROR, ServerState.AUTH_ERROR)


@dataclass(frozen=True)
class PickerModel:
    """One model of one server: its name and what the server says of it."""

    name: str
    state: ModelState = ModelState.UNKNOWN

    @property
    def label(self) -> str:
        said = {ModelState.LOADED: "loaded", ModelState.LOADING: "loading…", ModelState.SLEEPING: "asleep"}
        return f"{self.name} — {said[self.state]}" if self.state in said else self.name


@dataclass(frozen=True)
class PickerServer:
    """One profile's server in the picker: its state (None: not looked at yet) and models."""

    profile: str
    where: str  # host:port
    state: ServerState | None
    models: tuple[PickerModel, ...] = ()
    active: bool = False

    @property
    def down(self) -> bool:
        return self.state in DOWN

    @property
    def heading(self) -> str:
        """ "ollama — ready · 127.0.0.1:11434"."""
        state = "not checked yet" if self.state is None else self.state.words
        return f"{self.profile} — {state} · {self.where}"

    def has(self, model: str) -> bool:
        return any(m.name == model for m in self.models)


@dataclass(frozen=True)
class PickerChoice:
    """What the person picked: a profile and one of its models."""

    profile: str
    model: str


def picker_models(
    records: Sequence[ModelRecord] | None, names: Iterable[str] = ()
) -> tuple[PickerModel, ...]:
    """A server's models, loaded first: from the model API's records when there are some, else names."""
    if records:
        ordered = sorted(records, key=lambda r: (not r.state.in_memory, r.id.lower()))
        return tuple(PickerModel(r.id, r.state) for r in ordered if not r.remote)
    return tuple(PickerModel(n) for n in names)


def picker_servers(
    profiles: Sequence[tuple[str, str]],
    states: Mapping[str, ServerState],
    models: Mapping[str, tuple[PickerModel, ...]],
    active: str | None,
) -> list[PickerServer]:
    """Every profile (name, host:port) in the settings' order, with what is known of its server."""
    return [
        PickerServer(name, where, states.get(name), models.get(name, ()), name == active)
        for name, where in profiles
    ]


def watched_servers(
    profiles: Sequence[tuple[str, str]],
    active: str | None,
    report: StatusReport | None,
    looks: Iterable[ServerLook],
) -> list[PickerServer]:
    """Every profile's server: the active one from the monitor's last poll (its model API's records
    when it has them), the others from the fleet's looks; a profile not looked at has state None."""
    states: dict[str, ServerState] = {}
    models: dict[str, tuple[PickerModel, ...]] = {}
    for seen in looks:
        states[seen.profile] = seen.state
        models[seen.profile] = picker_models(None, seen.models)
    if active and report is not None:
        snap = report.snapshot
        records = snap.models if snap is not None and snap.error is None else None
        states[active] = report.state
        models[active] = picker_models(records, report.models)
    return picker_servers(profiles, states, models, active)


def lacks(servers: Sequence[PickerServer], choice: PickerChoice) -> str | None:
    """Before Send: why ``choice`` cannot be asked as it is (None when it can, or when unknown).

    A model missing from a server that listed its models is said here, in the window, before
    anything is sent (the answer pipeline refuses it too, but the person should not have to try)."""
    server = next((s for s in servers if s.profile == choice.profile), None)
    if server is None:
        return f"There is no profile {choice.profile!r} any more: pick a server."
    if server.down:
        return f"{server.profile} is {server.state.words if server.state else 'down'}: pick a ready server."
    if server.models and not server.has(choice.model):
        return f"{server.profile} has no model {choice.model!r}: pick one of its models."
    return None


__all__ = [
    "PickerChoice",
    "PickerModel",
    "PickerServer",
    "lacks",
    "picker_models",
    "picker_servers",
    "watched_servers",
]
