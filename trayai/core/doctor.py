"""``trayai status`` and Test connection: one :class:`Check` per question a user would ask ("is
anything listening?", "is my model there?"), with a hint when the answer is no.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TypedDict

from trayai.core.errors import TrayaiError
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.client import GenerationOptions, ModelClient
from trayai.core.net.urls import is_local_url
from trayai.core.settings.resolve import ResolvedEndpoint
from trayai.core.status import ServerState, StatusDict, StatusReport, probe


class CheckDict(TypedDict):
    name: str
    ok: bool | None
    detail: str
    hint: str | None


class DoctorDict(TypedDict):
    """``trayai status --json``: the endpoint, where each part of it came from, and the checks."""

    ok: bool
    profile: str | None
    base_url: str
    sources: dict[str, str]
    api_key: str
    status: StatusDict
    checks: list[CheckDict]


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool | None  # None: skipped because an earlier check failed
    detail: str
    hint: str | None = None

    def to_dict(self) -> CheckDict:
        return {"name": self.name, "ok": self.ok, "detail": self.detail, "hint": self.hint}


@dataclass
class DoctorReport:
    resolved: ResolvedEndpoint
    status: StatusReport
    checks: list[Check] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(c.ok is not False for c in self.checks)

    def to_dict(self) -> DoctorDict:
        return {
            "ok": self.ok,
            "profile": self.resolved.own_profile,  # None: --endpoint or the environment chose the server
            "base_url": self.resolved.base_url,
            "sources": self.resolved.sources,
            "api_key": self.resolved.key_source,
            "status": self.status.to_dict(),
            "checks": [c.to_dict() for c in self.checks],
        }


async def diagnose(client: ModelClient, resolved: ResolvedEndpoint, *, generate: bool = True) -> DoctorReport:
    """Run the checks in order; later checks are skipped once one fails."""
    checks: list[Check] = []
    url_detail = resolved.base_url + (f" ({'; '.join(resolved.url_changes)})" if resolved.url_changes else "")
    checks.append(Check("Base URL", True, f"{url_detail} — from {resolved.sources['base_url']}"))
    status = await probe(client, resolved.model, busy=False)
    if status.reachable:
        status.with_snapshot(await ModelManager(client).snapshot(status.listing))
    report = DoctorReport(resolved=resolved, status=status, checks=checks)
    rejected = status.error if status.state is ServerState.AUTH_ERROR else None
    if rejected is not None:
        # A 401/403 is an answer about the key: the key check fails and says what to do.
        hint = rejected.hint
        if is_local_url(resolved.base_url) and not resolved.has_real_key:
            hint = f"This local server wants a key. {hint}"
        checks.append(Check("API key", False, f"{resolved.key_source} — rejected ({rejected.status})", hint))
    else:
        checks.append(Check("API key", True, resolved.key_source))

    def failed(name: str, error: TrayaiError) -> None:
        checks.append(Check(name, False, error.message, error.hint))

    if status.state is ServerState.UNREACHABLE and status.error:
        failed("Server reachable", status.error)
        return _skip_rest(report, "Authentication", "Models listed", "Model available", "Generation")
    if status.error and status.state is ServerState.ERROR:
        failed("Server answers the API", status.error)
        return _skip_rest(report, "Authentication", "Models listed", "Model available", "Generation")
    checks.append(Check("Server reachable", True, _reachable_detail(status)))
    if rejected is not None:
        checks.append(Check("Authentication", False, rejected.message))
        return _skip_rest(report, "Models listed", "Model available", "Generation")
    checks.append(Check("Authentication", True, "accepted" if resolved.has_real_key else "no key needed"))
    if status.state is ServerState.NO_MODELS and status.error:
        failed("Models listed", status.error)
        return _skip_rest(report, "Model available", "Generation")
    checks.append(
        Check(
            "Models listed",
            True,
            f"{len(status.models)}: {', '.join(status.models[:8])}"
            + (" …" if len(status.models) > 8 else ""),
        )
    )
    if status.state in (ServerState.MODEL_MISSING, ServerState.MODEL_NOT_LOADED) and status.error:
        failed("Model available", status.error)
        return _skip_rest(report, "Generation")
    how = ""
    if status.match is not None and status.match.how != "exact":
        how = f" (matched by {status.match.how})"
    checks.append(
        Check(
            "Model available",
            True,
            f"{resolved.model!r} → {status.resolved_model!r}{how} — from {resolved.sources['model']}",
        )
    )
    if not generate:
        return report
    try:
        async with client.stream_chat(
            [{"role": "user", "content": "Say OK."}],
            model=status.resolved_model or resolved.model,
            options=GenerationOptions(max_tokens=8, temperature=0.0),
        ) as stream:
            async for _ in stream:
                pass
    except TrayaiError as exc:
        failed("Generation", exc)
        return report
    result = stream.result
    ttft = "no tokens"
    if result is not None and result.ttft is not None:
        ttft = f"first token after {result.ttft * 1000:.0f} ms"
    checks.append(Check("Generation", True, f"a short test answer streamed ({ttft})"))
    return report


def _reachable_detail(status: StatusReport) -> str:
    """ "answered in 3 ms — Ollama 0.5.1 (loads, unloads, pulls; 1 loaded: llama3.2)"."""
    kind = f", looks like {status.server}" if status.server else ""
    if status.snapshot is not None and status.snapshot.error is None:
        kind = f" — {_kind_words(status)}"
    if status.latency is not None:
        return f"answered in {status.latency * 1000:.0f} ms{kind}"
    # No listing: the server answered with an error status (the latency of a failure is not kept).
    code = status.error.status if status.error is not None else None
    return (f"answered with HTTP {code}" if code else "answered") + kind


def _kind_words(status: StatusReport) -> str:
    """ "Ollama 0.5.1 (loads, unloads, pulls; 2 loaded: a, b)" from the model API's look."""
    snapshot = status.snapshot
    assert snapshot is not None
    caps = snapshot.caps
    can = [w for w, ok in (("loads", caps.load), ("unloads", caps.unload), ("pulls", caps.pull)) if ok]
    parts = [", ".join(can) if can else "no model management over HTTP"]
    if not snapshot.autoload:
        parts.append("no autoload")  # a llama.cpp router with --no-models-autoload
    if caps.loaded_state:
        names = [m.id for m in snapshot.loaded]
        parts.append(f"{len(names)} loaded" + (f": {', '.join(names[:5])}" if names else ""))
    version = f" {snapshot.version}" if snapshot.version else ""
    return f"{snapshot.kind.label}{version} ({'; '.join(parts)})"


def _skip_rest(report: DoctorReport, *names: str) -> DoctorReport:
    for name in names:
        report.checks.append(Check(name, None, "skipped (an earlier check failed)"))
    return report
