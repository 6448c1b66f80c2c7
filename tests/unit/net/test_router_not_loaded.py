"""A model a llama.cpp router lists but will not load on request (``--no-models-autoload``): every
surface says it is not loaded and how to load it — ``ask``, ``status``, the tray's report.

Why (issue 23 item 5): the router answers such a request with 400 "model is not loaded"
(server-models.cpp ``router_validate_model``); trayai called it a bad request ("reset unusual
generation parameters") and ``status`` said "ready" because the model is in the listing.
"""

from __future__ import annotations

import json

import pytest

from tests.support.cli import cli
from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from tests.support.managed import KEY
from trayai.core.error_catalog import ErrorCode
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.classify import classify_status
from trayai.core.net.client import Endpoint, ModelClient
from trayai.core.status import ServerState, probe

GEMMA, QWEN = "ggml-org/gemma-3-1b-it-GGUF:Q4_K_M", "unsloth/Qwen3-4B-GGUF:Q4_K_M"
LOAD_IT = f"Load it: `trayai load {QWEN}` (or Model ▸ Load in the tray)."


def router(*, autoload: bool) -> FakeBackend:
    models = [FakeModel(GEMMA, loaded=True), FakeModel(QWEN)]
    return FakeBackend(Kind.LLAMACPP_ROUTER, models, models_autoload=autoload)


def test_the_routers_refusal_is_classified_as_not_loaded_with_the_way_to_load_it() -> None:
    body = json.dumps(
        {"error": {"code": 400, "message": "model is not loaded", "type": "invalid_request_error"}}
    )
    error = classify_status(400, body, "application/json", base_url="http://127.0.0.1:9931/v1", model=QWEN)
    assert error.code is ErrorCode.MODEL_NOT_LOADED
    assert error.hint == LOAD_IT and not error.retryable  # until someone loads it
    assert (
        error.message
        == f"{QWEN!r} is not loaded on 127.0.0.1:9931, and this server loads models only when told to"
    )
    other = classify_status(400, '{"error": {"message": "invalid temperature"}}', base_url="http://h/v1")
    assert other.code is ErrorCode.BAD_REQUEST  # any other 400 stays what it was


def test_ask_for_a_model_the_router_will_not_load_says_load_it() -> None:
    with router(autoload=False) as fake:
        code, out, err = cli("ask", "--endpoint", fake.base_url, "--model", QWEN, "Say hi")
        assert not fake.models[QWEN].loaded
    assert (code, out) == (1, "")
    assert "is not loaded on" in err and f"trayai load {QWEN}" in err
    assert "generation parameters" not in err


def test_status_says_not_loaded_and_how_to_load_it() -> None:
    with router(autoload=False) as fake:
        code, out, _ = cli("status", "--quick", "--endpoint", fake.base_url, "--model", QWEN)
        assert not fake.models[QWEN].loaded and fake.touches == []
    assert code == 1
    assert "State: model not loaded — " in out and "ready" not in out.split("State:", 1)[1]
    assert "llama.cpp (router) b6100-00dd0816 (loads, unloads, pulls; no autoload; 1 loaded: " in out
    assert f"✗ Model available: {QWEN!r} is not loaded on " in out
    assert f"→ {LOAD_IT}" in out


def test_status_stays_ready_where_the_router_loads_on_request() -> None:
    with router(autoload=True) as fake:
        code, out, err = cli("status", "--quick", "--endpoint", fake.base_url, "--model", QWEN)
        assert not fake.models[QWEN].loaded  # --quick asks nothing that would load it
    assert code == 0, out + err
    assert "State: ready" in out


@pytest.mark.anyio
async def test_the_trays_report_says_not_loaded_until_it_is_loaded() -> None:
    """The tray's poll (``ui/monitor.py``): the listing's "ready" corrected by the model API's look."""
    with router(autoload=False) as fake:
        async with ModelClient(Endpoint(fake.base_url, KEY)) as client:
            manager = ModelManager(client)
            report = await probe(client, QWEN, busy=False)
            report.with_snapshot(await manager.snapshot(report.listing))
            assert report.state is ServerState.MODEL_NOT_LOADED
            assert report.error is not None and report.error.hint == LOAD_IT
            assert report.summary.startswith(f"{QWEN!r} is not loaded on 127.0.0.1:")
            await manager.load(QWEN)
            report = await probe(client, QWEN)
            assert report.state is ServerState.READY
