"""The status probe and the doctor (`trayai status`) over real loopback HTTP."""

from __future__ import annotations

import pytest

from tests.support.ports import free_port
from tests.support.scripted_server import Reply, ScriptedServer
from trayai.core.doctor import DoctorReport, diagnose
from trayai.core.error_catalog import ErrorCode
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.paths import AppPaths
from trayai.core.settings.resolve import resolve_endpoint
from trayai.core.settings.store import ConfigStore
from trayai.core.status import ServerState, StatusReport, probe


async def probe_url(base_url: str, model: str = "ai/smollm2", key: str = "dummy-key") -> StatusReport:
    async with ModelClient(Endpoint.create(base_url, key)) as client:
        return await probe(client, model)


@pytest.mark.anyio
async def test_ready(server: ScriptedServer) -> None:
    report = await probe_url(server.base_url)
    assert report.state is ServerState.READY
    assert report.resolved_model == "ai/smollm2"
    assert report.error is None and report.latency is not None
    assert report.summary.startswith("ai/smollm2 ready on 127.0.0.1:")
    assert report.to_dict()["state"] == "ready"


@pytest.mark.anyio
async def test_ready_through_a_registry_prefixed_name(server: ScriptedServer) -> None:
    server.models = ["docker.io/ai/smollm2:latest", "docker.io/ai/qwen3:latest"]
    report = await probe_url(server.base_url)
    assert report.state is ServerState.READY
    assert report.resolved_model == "docker.io/ai/smollm2:latest"
    assert report.match is not None and report.match.how == "registry/tag"


@pytest.mark.anyio
async def test_model_missing_offers_close_matches(server: ScriptedServer) -> None:
    server.models = ["ai/smollm2:360M", "ai/qwen3"]
    report = await probe_url(server.base_url, model="ai/smolm2")
    assert report.state is ServerState.MODEL_MISSING
    assert report.error is not None and report.error.code is ErrorCode.MODEL_MISSING
    assert "ai/smollm2:360M" in report.error.message  # "did you mean …"


@pytest.mark.anyio
async def test_no_models(server: ScriptedServer) -> None:
    server.models = []
    report = await probe_url(server.base_url)
    assert report.state is ServerState.NO_MODELS
    assert report.error is not None and "pull" in report.error.hint


@pytest.mark.anyio
async def test_auth_error(server: ScriptedServer) -> None:
    server.api_key = "secret"
    assert (await probe_url(server.base_url)).state is ServerState.AUTH_ERROR
    assert (await probe_url(server.base_url, key="secret")).state is ServerState.READY


@pytest.mark.anyio
async def test_unreachable_and_error() -> None:
    report = await probe_url(f"http://127.0.0.1:{free_port()}/v1")
    assert report.state is ServerState.UNREACHABLE
    assert report.error is not None and report.error.code is ErrorCode.CONNECTION_REFUSED
    assert report.summary.startswith("Nothing is listening on 127.0.0.1:")


@pytest.mark.anyio
async def test_server_error_state(server: ScriptedServer) -> None:
    server.models_reply = Reply(status=503, error_message="loading", repeat=True)
    report = await probe_url(server.base_url)
    assert report.state is ServerState.ERROR
    assert report.error is not None and report.error.code is ErrorCode.SERVER_ERROR


async def doctor(paths: AppPaths, base_url: str, *, generate: bool = True) -> DoctorReport:
    loaded = ConfigStore(paths).load()
    resolved = resolve_endpoint(loaded, None, base_url=base_url)
    async with ModelClient(resolved.endpoint) as client:
        return await diagnose(client, resolved, generate=generate)


@pytest.mark.anyio
async def test_doctor_all_green_with_generation(server: ScriptedServer, paths: AppPaths) -> None:
    report = await doctor(paths, server.root_url)  # no /v1: the doctor says it was added
    assert report.ok
    names = [c.name for c in report.checks]
    assert names == [
        "Base URL",
        "API key",
        "Server reachable",
        "Authentication",
        "Models listed",
        "Model available",
        "Generation",
    ]
    assert "added /v1" in report.checks[0].detail
    assert all(c.ok for c in report.checks)
    assert len(server.chat_requests()) == 1
    assert report.to_dict()["ok"] is True


@pytest.mark.anyio
async def test_doctor_unreachable_skips_the_rest(paths: AppPaths) -> None:
    report = await doctor(paths, f"http://localhost:{free_port()}/v1")
    assert not report.ok
    failed = [c for c in report.checks if c.ok is False]
    assert [c.name for c in failed] == ["Server reachable"]
    assert failed[0].hint is not None and "trayai serve" in failed[0].hint
    assert [c.ok for c in report.checks[-4:]] == [None] * 4


@pytest.mark.anyio
async def test_doctor_generation_failure_is_reported(server: ScriptedServer, paths: AppPaths) -> None:
    server.script(Reply(status=500, error_message="out of memory"))
    report = await doctor(paths, server.base_url)
    assert not report.ok
    assert report.checks[-1].name == "Generation" and report.checks[-1].ok is False
    assert "out of memory" in report.checks[-1].detail


@pytest.mark.anyio
async def test_doctor_quick_mode_sends_no_chat(server: ScriptedServer, paths: AppPaths) -> None:
    report = await doctor(paths, server.base_url, generate=False)
    assert report.ok and not server.chat_requests()


@pytest.mark.anyio
async def test_doctor_on_a_401_fails_the_key_check_and_says_what_answered(
    server: ScriptedServer, paths: AppPaths
) -> None:
    server.api_key = "the-right-key"  # we send none: 401
    report = await doctor(paths, server.base_url)
    checks = {c.name: c for c in report.checks}
    assert not report.ok
    key = checks["API key"]
    assert key.ok is False and "rejected (401)" in key.detail
    assert (
        key.hint is not None and "This local server wants a key" in key.hint and "trayai key set" in key.hint
    )
    reachable = checks["Server reachable"]
    assert reachable.ok is True and reachable.detail == "answered with HTTP 401"
    assert checks["Authentication"].ok is False
    assert [c.ok for c in report.checks[-3:]] == [None] * 3


@pytest.mark.anyio
async def test_doctor_on_a_403_fails_the_key_check(server: ScriptedServer, paths: AppPaths) -> None:
    server.models_reply = Reply(status=403, error_message="not allowed", repeat=True)
    report = await doctor(paths, server.base_url)
    checks = {c.name: c for c in report.checks}
    assert checks["API key"].ok is False and "rejected (403)" in checks["API key"].detail
    assert checks["Server reachable"].detail == "answered with HTTP 403"


def test_status_command_on_a_401(server: ScriptedServer) -> None:
    import io

    from trayai.cli import main

    server.api_key = "the-right-key"
    out, err = io.StringIO(), io.StringIO()
    assert main(["status", "--endpoint", server.base_url], stdout=out, stderr=err) == 1
    text = out.getvalue()
    assert "✗ API key: none needed (placeholder sent) — rejected (401)" in text
    assert "✓ Server reachable: answered with HTTP 401" in text
    assert "✓ API key" not in text and "answered in ?" not in text
