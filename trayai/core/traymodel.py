"""What the tray says, as plain data: the menu's model and the tooltip's lines.

Qt-free so the wording and the choices are decided (and tested) without a display; ``ui/tray.py`` draws them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trayai.core.embedded import RunState
from trayai.core.net.backends.describe import record_facts
from trayai.core.net.backends.records import Capabilities, ModelRecord, ModelState, ServerSnapshot
from trayai.core.net.urls import host_port
from trayai.core.status import ServerState, StatusReport

if TYPE_CHECKING:
    from trayai.core.embedded import ServerUsage
    from trayai.core.fleet import ServerLook
    from trayai.core.settings.config import Settings
    from trayai.core.settings.store import Override


@dataclass(frozen=True)
class ModelEntry:
    """One line of Model ▸: the name to choose and the facts shown after it."""

    id: str
    label: str
    state: ModelState
    remote: bool = False


@dataclass(frozen=True)
class ActionEntry:
    """One line of Actions ▸: a quick prompt action and the number key that runs it."""

    name: str
    key: int


@dataclass(frozen=True)
class ServerEntry:
    """One line of Servers ▸: a profile, what its server is doing (None: not watched), its words."""

    profile: str
    label: str
    active: bool
    state: ServerState | None = None


@dataclass
class MenuModel:
    """What the menu shows, gathered by the app each time the menu opens."""

    state: ServerState
    summary: str
    base_url: str
    models: list[str]
    current_model: str | None
    model_locked_by: str | None  # e.g. "LOCAL_MODEL_NAME (environment)"
    active_profile: str
    endpoint_locked_by: str | None
    server_state: RunState
    server_owned: bool
    server_label: str  # "127.0.0.1:8080 · ai/smollm2"
    server_unavailable: str | None
    server_models: list[str]  # what the built-in server can serve (bundled + models folder)
    server_model: str  # the one it serves (or will serve on Start)
    hotkey: str
    log_dir: str
    # What the menu draws from the snapshot is in ``entries`` and ``caps``; its raw figures (an expiry
    # a server recomputes at each request) must not make every poll look like a change.
    snapshot: ServerSnapshot | None = field(default=None, compare=False)
    caps: Capabilities | None = None
    entries: list[ModelEntry] | None = None  # None: fall back to the plain ``models`` list
    operation: str | None = None  # "Loading llama3.2…", "Pulling qwen3: 45% (…)"
    pulling: bool = False
    servers: list[ServerEntry] | None = None
    fallback: str | None = None  # "using fallback 'ollama'" while the active server is down
    actions: list[ActionEntry] = field(default_factory=list)  # Actions ▸, by key
    downloads: tuple[str, ...] = ()  # "Downloading qwen3-4b 43 % · 12.1 MB/s · 2 min left", "+2 queued"

    @property
    def kind_line(self) -> str | None:
        """ "Ollama · can load, unload, pull" — or why nothing can be done here."""
        snap = self.snapshot
        if snap is None or snap.error is not None:
            return None
        caps = snap.caps
        can = [w for w, ok in (("load", caps.load), ("unload", caps.unload), ("pull", caps.pull)) if ok]
        if can:
            return f"{snap.kind.label} · can {', '.join(can)}"
        if not caps.loaded_state:
            return f"{snap.kind.label} · cannot tell what is loaded"
        return f"{snap.kind.label} · no model management over HTTP"


def model_entries(snapshot: ServerSnapshot | None, now: float) -> list[ModelEntry] | None:
    """Model ▸'s lines from the model API's look (loaded first); None when there is none."""
    if snapshot is None or snapshot.error is not None or not snapshot.models:
        return None
    return [_entry(record, now) for record in snapshot.models]


def _entry(record: ModelRecord, now: float) -> ModelEntry:
    facts = record_facts(record, now)
    if record.state is ModelState.UNKNOWN:
        facts = facts[1:]
    label = record.id + (f" — {' · '.join(facts)}" if facts else "")
    return ModelEntry(record.id, label, record.state, record.remote)


def server_entries(
    looks: list[ServerLook], active: str, unwatched: Mapping[str, str] | None = None
) -> list[ServerEntry]:
    """ "local — ready · Ollama · 2 loaded (host:port)" for each watched profile, in ``looks``'s order,
    then "name — not watched (host:port)" for each profile in ``unwatched`` (name → where)."""
    entries = []
    for look in looks:
        parts = [look.state.words]
        if look.kind is not None:
            parts.append(look.kind.label)
        if look.loaded is not None:
            parts.append(f"{len(look.loaded)} loaded")
        label = f"{look.profile} — {' · '.join(parts)} ({look.where})"
        entries.append(ServerEntry(look.profile, label, look.profile == active, look.state))
    for profile, where in (unwatched or {}).items():
        entries.append(ServerEntry(profile, f"{profile} — not watched ({where})", profile == active))
    return entries


def status_header(model: MenuModel) -> str:
    """The menu's first line: "Ready — ai/smollm2 · 127.0.0.1:8080" (the model left out until known)."""
    where = host_port(model.base_url)
    said = model.state.words.capitalize()
    return f"{said} — {model.current_model} · {where}" if model.current_model else f"{said} — {where}"


@dataclass(frozen=True)
class BuiltinFacts:
    """The built-in server as the menu needs it (read from the UI's ``LocalServerController``)."""

    state: RunState
    owned: bool
    alias: str
    unavailable: str | None
    models: list[str]


def menu_model(
    *,
    settings: Settings,
    overrides: Mapping[str, Override],
    base_url: str,
    state: ServerState | None,
    report: StatusReport | None,
    builtin: BuiltinFacts,
    log_dir: str,
    operation: str | None = None,
    pulling: bool = False,
    servers: list[ServerEntry] | None = None,
    fallback: str | None = None,
    now: float = 0.0,
    active_profile: str | None = None,
    downloads: Sequence[str] = (),
) -> MenuModel:
    """The menu for this moment: the monitor's last report, the profiles, the built-in server."""
    snapshot = report.snapshot if report else None
    return MenuModel(
        snapshot=snapshot,
        caps=None if snapshot is None or snapshot.error is not None else snapshot.caps,
        entries=model_entries(snapshot, now),
        operation=operation,
        pulling=pulling,
        servers=servers,
        fallback=fallback,
        state=state or ServerState.STARTING,
        # The menu shows the summary only when not ready; left out then, the latency it quotes does
        # not make every poll look like a change (the menu is rebuilt only on changes).
        summary=("" if state is ServerState.READY else report.summary) if report else "checking…",
        base_url=base_url,
        models=report.models if report else [],
        current_model=report.resolved_model if report else None,
        model_locked_by=locked_by(overrides, "model"),
        active_profile=active_profile or settings.active().name,
        endpoint_locked_by=locked_by(overrides, "base_url"),
        server_state=builtin.state,
        server_owned=builtin.owned,
        server_label=f"127.0.0.1:{settings.builtin_server.port} · {builtin.alias}",
        server_unavailable=builtin.unavailable,
        server_models=builtin.models,
        server_model=builtin.alias,
        hotkey=settings.hotkey or "no hotkey",
        log_dir=log_dir,
        actions=[ActionEntry(a.name, a.key) for a in sorted(settings.actions, key=lambda a: a.key)],
        downloads=tuple(downloads),
    )


def locked_by(overrides: Mapping[str, Override], key: str) -> str | None:
    """Who fixes ``key`` outside the settings ("LOCAL_MODEL_NAME (environment)"), or None."""
    override = overrides.get(key)
    return None if override is None else f"{override.variable} ({override.source})"


def status_lines(
    *,
    server_progress: str | None,
    usage: ServerUsage | None,
    last_reply: str | None,
    hotkey_problem: str | None,
) -> list[str]:
    """The tooltip's lines after the report's: built-in server progress and load, speed, hotkey trouble."""
    lines: list[str] = []
    if server_progress:
        lines.append(f"Built-in server: {server_progress}")
    if usage is not None:
        lines.append(f"Built-in server: CPU {usage.cpu_percent:.0f}%, memory {usage.rss_bytes / 1e6:.0f} MB")
    if last_reply:
        lines.append(last_reply)
    if hotkey_problem is not None:
        lines.append(f"Hotkey: {hotkey_problem}")
    return lines


def last_reply_line(meta: Mapping[str, object]) -> str | None:
    """The tooltip's "Last answer: 45.1 tok/s, first token 0.21 s"; None when the answer has no speed."""
    tps, ttft = meta.get("tokens_per_second"), meta.get("ttft_s")
    if not isinstance(tps, (int, float)):
        return None
    first = f", first token {ttft:.2f} s" if isinstance(ttft, (int, float)) else ""
    return f"Last answer: {tps:.1f} tok/s{first}"


def tooltip_text(state: ServerState, report: StatusReport | None, extra: list[str]) -> str:
    """Endpoint, model, state in words, latency, then whatever the app adds (speed, server CPU/RAM)."""
    checking = report is None and state is ServerState.STARTING and not extra
    lines = [f"trayai — {'checking the server…' if checking else state.words}"]
    if report is not None:
        snap = report.snapshot if report.snapshot is not None and report.snapshot.error is None else None
        kind = snap.kind.label if snap is not None else report.server
        lines.append(f"Endpoint: {report.base_url}" + (f" ({kind})" if kind else ""))
        lines.append(f"Model: {report.resolved_model or report.model}")
        if snap is not None and snap.caps.loaded_state:
            names = [m.id for m in snap.loaded]
            lines.append(
                f"Loaded: {', '.join(names[:4]) + (' …' if len(names) > 4 else '') if names else 'nothing'}"
            )
        if report.latency is not None:
            lines.append(f"Latency: {report.latency * 1000:.0f} ms")
        if report.error is not None and state is not ServerState.READY:
            lines.append(report.error.message)
    lines.extend(extra)
    return "\n".join(lines)


__all__ = [
    "ActionEntry",
    "BuiltinFacts",
    "MenuModel",
    "ModelEntry",
    "ServerEntry",
    "last_reply_line",
    "locked_by",
    "menu_model",
    "model_entries",
    "server_entries",
    "status_header",
    "status_lines",
    "tooltip_text",
]
