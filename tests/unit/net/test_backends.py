"""Which server is it, and what does one look at it say: fingerprinting and every adapter's snapshot,
driven against the faithful fakes over loopback HTTP.

Why: the tray and ``trayai models`` show states, memory, context and a busy dot that come from nine
different APIs. A wrong guess of the server, a probe with a side effect (``/slots`` wakes a sleeping
llama.cpp model) or a number called "memory" that is only a file size would mislead the user.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable

import pytest

from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from tests.support.managed import KEY, answer_route, drop_route, fast_polls, managed, paths
from trayai.core.error_catalog import ErrorCode
from trayai.core.net.backends.describe import context_text, expiry_text, memory_text, record_facts
from trayai.core.net.backends.fingerprint import fingerprint
from trayai.core.net.backends.http import server_root
from trayai.core.net.backends.records import ModelRecord, ModelState, ServerKind

pytestmark = pytest.mark.anyio

# ---------------------------------------------------------------------------------------------- fingerprint

DETECTED = {
    Kind.OLLAMA: ServerKind.OLLAMA,
    Kind.LLAMACPP_ROUTER: ServerKind.LLAMACPP_ROUTER,
    Kind.LLAMACPP_SINGLE: ServerKind.LLAMACPP,
    Kind.LMSTUDIO: ServerKind.LMSTUDIO,
    Kind.LMSTUDIO_V0: ServerKind.LMSTUDIO_V0,
    Kind.DMR: ServerKind.DMR,
    Kind.LOCALAI: ServerKind.LOCALAI,
    Kind.VLLM: ServerKind.VLLM,
    Kind.JAN: ServerKind.GENERIC,  # away from its port 1337 Jan is any OpenAI-compatible server
    Kind.GENERIC: ServerKind.GENERIC,
}
VERSIONS = {
    Kind.LLAMACPP_ROUTER: "b6100-00dd0816",
    Kind.LLAMACPP_SINGLE: "b6100-00dd0816",
    Kind.LOCALAI: "v3.7.0",
    Kind.VLLM: "0.11.0",
}


@pytest.mark.parametrize("kind", list(Kind))
async def test_every_server_is_recognised_with_side_effect_free_gets(kind: Kind) -> None:
    with FakeBackend(kind, [FakeModel("m1", loaded=True)], api_key=KEY) as fake:
        async with managed(fake) as manager:
            found = await fingerprint(manager.http)
    assert found.kind is DETECTED[kind]
    assert found.version == VERSIONS.get(kind, found.version)
    asked = fake.requests
    assert asked, "the probes reached the fake"
    assert [r for r in asked if r.method != "GET"] == []  # no POST: a probe never loads or pulls
    assert not any(r.path.split("?")[0] == "/slots" for r in asked)  # /slots wakes a sleeping model
    assert not any("/chat/" in r.path or r.path.startswith("/api/generate") for r in asked)
    assert all(r.headers.get("authorization") == f"Bearer {KEY}" for r in asked)


async def test_docker_model_runner_is_not_taken_for_ollama() -> None:
    """DMR answers Ollama's /api/version and /api/tags (its compatibility layer): the root text and
    the listing's owner decide, whether the profile points at /engines/v1 or at plain /v1."""
    with FakeBackend(Kind.DMR, [FakeModel("ai/smollm2:latest")]) as fake:
        for base_url in (fake.base_url, f"{fake.root_url}/v1"):
            async with managed(fake, base_url=base_url) as manager:
                assert manager.http.root == fake.root_url
                trap = (await manager.http.get("/api/version")).json()
                assert trap == {"version": "0.1.0"}  # what an Ollama client would believe
                assert (await manager.http.get("/api/tags")).ok
                found = await fingerprint(manager.http)
            assert found.kind is ServerKind.DMR, base_url


async def test_single_llamacpp_is_not_taken_for_ollama_by_its_models_stub() -> None:
    with FakeBackend(Kind.LLAMACPP_SINGLE, [FakeModel("gemma-3-1b", context_trained=32768)]) as fake:
        async with managed(fake) as manager:
            listing = (await manager.http.get(f"{fake.base_url}/models")).json()
            assert listing["models"][0]["name"] == "gemma-3-1b"  # the Ollama-shaped trap is there
            found = await fingerprint(manager.http)
    assert found.kind is ServerKind.LLAMACPP
    assert found.props["default_generation_settings"]["n_ctx"] == 32768  # kept for the adapter


async def test_jan_is_recognised_on_its_port_by_its_openapi_page() -> None:
    with FakeBackend(Kind.JAN, [FakeModel("llama3.2-1b", loaded=True)], api_key=KEY) as fake:
        async with managed(fake) as manager:
            manager.http.where = "127.0.0.1:1337"  # Jan's port; the fake listens on a free one
            found = await fingerprint(manager.http)
    assert found.kind is ServerKind.JAN
    assert "/openapi.json" in paths(fake)
    with FakeBackend(Kind.GENERIC) as other:
        async with managed(other) as manager:
            manager.http.where = "127.0.0.1:1337"
            assert (await fingerprint(manager.http)).kind is ServerKind.GENERIC  # no /openapi.json


async def test_lmstudio_without_its_native_api_is_still_lmstudio() -> None:
    """An LM Studio whose /api/v0 and /api/v1 are unreachable is still named by its owner field."""
    with FakeBackend(Kind.LMSTUDIO_V0, [FakeModel("qwen/qwen3-4b")]) as fake:
        drop_route(fake, "GET", "/api/v0/models")
        async with managed(fake) as manager:
            found = await fingerprint(manager.http)
            snapshot = await manager.snapshot()
    assert found.kind is ServerKind.LMSTUDIO_V0
    assert snapshot.error is None
    assert [(m.id, m.state) for m in snapshot.models] == [("qwen/qwen3-4b", ModelState.UNKNOWN)]
    assert not snapshot.caps.loaded_state  # switched off when /api/v0/models answered 404


def test_server_root_strips_the_openai_base() -> None:
    assert server_root("http://h:11434/v1") == "http://h:11434"
    assert server_root("http://h:12434/engines/v1") == "http://h:12434"
    assert server_root("http://h:12434/engines/llama.cpp/v1/") == "http://h:12434"
    assert server_root("http://h:8080") == "http://h:8080"


# ---------------------------------------------------------------------------------------------- snapshots


def ids_states(models: Iterable[ModelRecord]) -> list[tuple[str, ModelState]]:
    return [(m.id, m.state) for m in models]


async def test_ollama_snapshot_memory_context_expiry_and_cloud_models() -> None:
    models = [
        FakeModel("qwen3:4b", size_bytes=2_500_000_000),
        FakeModel("gpt-oss:120b-cloud", remote=True),
        FakeModel("llama3.2:latest", size_bytes=2_000_000_000, context_trained=131072, loaded=True),
    ]
    with FakeBackend(Kind.OLLAMA, models) as fake:
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
    assert snapshot.error is None and snapshot.kind is ServerKind.OLLAMA
    assert ids_states(snapshot.models) == [
        ("llama3.2:latest", ModelState.LOADED),  # loaded first, then the server's order
        ("qwen3:4b", ModelState.AVAILABLE),
        ("gpt-oss:120b-cloud", ModelState.AVAILABLE),
    ]
    loaded, available, cloud = snapshot.models
    assert (loaded.memory_bytes, loaded.vram_bytes) == (2_500_000_000, 2_500_000_000)  # /api/ps size
    assert memory_text(loaded) == "2.5 GB in memory (100% GPU)"
    assert loaded.context_loaded == 4096
    assert loaded.expires_at is not None and abs(loaded.expires_at - (time.time() + 300)) < 30
    assert expiry_text(loaded, time.time()) in ("unloads in 4 min", "unloads in 5 min")
    assert available.memory_bytes is None and memory_text(available) == "2.5 GB file size"
    assert cloud.remote and not available.remote and not loaded.remote
    assert record_facts(cloud, time.time())[0] == "available (cloud)"
    assert snapshot.busy is None  # Ollama gives no "generating now" signal
    assert snapshot.caps.keep_alive and snapshot.caps.pull


async def test_ollama_model_past_its_expiry_is_stopping() -> None:
    with FakeBackend(Kind.OLLAMA, [FakeModel("llama3.2:latest", loaded=True)]) as fake:
        fake._loaded_at["llama3.2:latest"] = time.time() - 400  # its 300 s keep-alive ran out
        async with managed(fake) as manager:
            (record,) = (await manager.snapshot()).models
    assert record.state is ModelState.LOADED
    assert record.expires_at is not None and record.expires_at < time.time()
    assert record.detail == "stopping"
    assert expiry_text(record, time.time()) == "stopping"
    assert "stopping" in record_facts(record, time.time())
    assert record_facts(record, time.time()).count("stopping") == 1


async def test_ollama_model_kept_forever_says_so() -> None:
    with FakeBackend(Kind.OLLAMA, [FakeModel("llama3.2:latest", loaded=True)]) as fake:
        fake._keep_alive["llama3.2:latest"] = None  # loaded with keep_alive -1
        async with managed(fake) as manager:
            (record,) = (await manager.snapshot()).models
    assert record.expires_at is not None and math.isinf(record.expires_at)
    assert record.keeps_forever
    assert expiry_text(record, time.time()) == "kept loaded"
    assert record.to_dict()["expires_at"] == "never"


GEMMA, QWEN = "ggml-org/gemma-3-1b-it-GGUF:Q4_K_M", "unsloth/Qwen3-4B-GGUF:Q4_K_M"


async def test_router_snapshot_states_context_and_file_size() -> None:
    models = [
        FakeModel(QWEN),
        FakeModel(GEMMA, size_bytes=800_000_000, context_trained=32768, loaded=True),
        FakeModel("sleepy", loaded=True, sleeping=True),
    ]
    with FakeBackend(Kind.LLAMACPP_ROUTER, models) as fake:
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
    assert snapshot.kind is ServerKind.LLAMACPP_ROUTER
    assert ids_states(snapshot.models) == [
        (GEMMA, ModelState.LOADED),
        ("sleepy", ModelState.SLEEPING),
        (QWEN, ModelState.AVAILABLE),
    ]
    gemma, sleepy, qwen = snapshot.models
    assert (gemma.context_loaded, gemma.context_trained, gemma.size_bytes) == (32768, 32768, 800_000_000)
    assert gemma.memory_bytes is None and memory_text(gemma) == "800.0 MB file size"
    assert sleepy.loaded and sleepy.state.in_memory
    assert qwen.context_loaded is None and memory_text(qwen) is None  # meta only while running
    assert [m.id for m in snapshot.loaded] == [GEMMA, "sleepy"]


async def test_single_llamacpp_snapshot_is_its_one_model() -> None:
    with FakeBackend(Kind.LLAMACPP_SINGLE, [FakeModel("gemma-3-1b", context_trained=32768)]) as fake:
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
    (record,) = snapshot.models
    assert (record.id, record.state) == ("gemma-3-1b", ModelState.LOADED)
    assert context_text(record) == "ctx 32768"
    assert memory_text(record) == "100.0 MB file size"
    assert not (snapshot.caps.load or snapshot.caps.unload or snapshot.caps.pull)


async def test_lmstudio_snapshot_loaded_context_against_trained() -> None:
    models = [FakeModel("qwen/qwen3-4b", context_trained=32768), FakeModel("google/gemma-3-1b", loaded=True)]
    with FakeBackend(Kind.LMSTUDIO, models) as fake:
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
    assert ids_states(snapshot.models) == [
        ("google/gemma-3-1b", ModelState.LOADED),
        ("qwen/qwen3-4b", ModelState.AVAILABLE),
    ]
    gemma, qwen = snapshot.models
    assert gemma.instances == ("google/gemma-3-1b",)
    assert context_text(gemma) == "ctx 4096 of 8192"  # loaded with less than it was trained for
    assert context_text(qwen) == "trained ctx 32768"
    assert gemma.memory_bytes is None and memory_text(gemma) == "100.0 MB file size"


async def test_lmstudio_v0_snapshot_reads_state() -> None:
    models = [FakeModel("qwen/qwen3-4b"), FakeModel("google/gemma-3-1b", loaded=True)]
    with FakeBackend(Kind.LMSTUDIO_V0, models) as fake:
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
    assert snapshot.kind is ServerKind.LMSTUDIO_V0
    assert ids_states(snapshot.models) == [
        ("google/gemma-3-1b", ModelState.LOADED),
        ("qwen/qwen3-4b", ModelState.AVAILABLE),
    ]
    assert all(memory_text(m) is None for m in snapshot.models)


async def test_dmr_snapshot_parses_its_human_sizes() -> None:
    models = [
        FakeModel("ai/qwen3:latest"),
        FakeModel("ai/smollm2:latest", size_bytes=268_800_000, context_trained=8192, loaded=True),
    ]
    with FakeBackend(Kind.DMR, models) as fake:
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
    assert snapshot.kind is ServerKind.DMR
    assert ids_states(snapshot.models) == [
        ("ai/smollm2:latest", ModelState.LOADED),
        ("ai/qwen3:latest", ModelState.AVAILABLE),
    ]
    smollm = snapshot.models[0]
    assert smollm.size_bytes is not None and abs(smollm.size_bytes - 268_800_000) < 10_000  # "256.35 MiB"
    assert memory_text(smollm) == "268.8 MB file size"
    assert context_text(smollm) == "trained ctx 8192"


async def test_localai_snapshot_has_real_memory_from_its_monitor() -> None:
    with FakeBackend(Kind.LOCALAI, [FakeModel("llama-3.2-1b"), FakeModel("phi-2", loaded=True)]) as fake:
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
    assert ids_states(snapshot.models) == [
        ("phi-2", ModelState.LOADED),
        ("llama-3.2-1b", ModelState.AVAILABLE),
    ]
    assert snapshot.models[0].memory_bytes == 125_000_000
    assert memory_text(snapshot.models[0]) == "125.0 MB in memory"
    assert "/backend/monitor?model=phi-2" in paths(fake)
    assert not any("model=llama-3.2-1b" in p for p in paths(fake))  # only loaded models are asked


async def test_vllm_and_generic_snapshots() -> None:
    with FakeBackend(Kind.VLLM, [FakeModel("Qwen/Qwen2.5-0.5B-Instruct", context_trained=32768)]) as fake:
        async with managed(fake) as manager:
            vllm = await manager.snapshot()
    assert ids_states(vllm.models) == [("Qwen/Qwen2.5-0.5B-Instruct", ModelState.LOADED)]
    assert vllm.models[0].context_loaded == 32768 and vllm.version == "0.11.0"
    with FakeBackend(Kind.GENERIC, [FakeModel("a"), FakeModel("b")]) as fake:
        async with managed(fake) as manager:
            generic = await manager.snapshot()
    assert ids_states(generic.models) == [("a", ModelState.UNKNOWN), ("b", ModelState.UNKNOWN)]
    assert generic.caps == type(generic.caps)()  # nothing but the listing
    assert generic.loaded == ()


MEMORY_WORDS = {
    Kind.OLLAMA: "in memory",
    Kind.LOCALAI: "in memory",
    Kind.LLAMACPP_ROUTER: "file size",
    Kind.LLAMACPP_SINGLE: "file size",
    Kind.LMSTUDIO: "file size",
    Kind.DMR: "file size",
    Kind.LMSTUDIO_V0: None,
    Kind.VLLM: None,
}


@pytest.mark.parametrize("kind", list(MEMORY_WORDS))
async def test_memory_is_called_memory_only_where_it_is_real(kind: Kind) -> None:
    with FakeBackend(kind, [FakeModel("m1", size_bytes=400_000_000, loaded=True)]) as fake:
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
    (record,) = snapshot.loaded
    words = MEMORY_WORDS[kind]
    text = memory_text(record)
    if words is None:
        assert text is None
    else:
        assert text is not None and words in text, text
    assert (record.memory_bytes is not None) == (words == "in memory")


# ---------------------------------------------------------------------------------------------- busy


async def test_single_llamacpp_busy_comes_from_metrics() -> None:
    """``/metrics`` is exempt from sleep (README "Sleeping on Idle"); ``/slots`` is a task that
    restarts the idle timer, so it is never a look (docs/model-management.md)."""
    with FakeBackend(Kind.LLAMACPP_SINGLE, [FakeModel("gemma")], busy=True, metrics=True) as fake:
        async with managed(fake) as manager:
            assert (await manager.snapshot()).busy is True
            fake.busy = False
            assert (await manager.snapshot()).busy is False
    assert "/metrics" in paths(fake)
    assert not any(p.startswith("/slots") for p in paths(fake)) and fake.touches == []


async def test_a_sleeping_llamacpp_model_is_never_woken_by_a_look() -> None:
    with FakeBackend(Kind.LLAMACPP_SINGLE, [FakeModel("gemma", sleeping=True)], busy=True) as fake:
        async with managed(fake) as manager:
            for _ in range(2):
                snapshot = await manager.snapshot()
                assert ids_states(snapshot.models) == [("gemma", ModelState.SLEEPING)]
                assert snapshot.busy is None
            assert await manager.loaded_names() == (ServerKind.LLAMACPP, ["gemma"])
        assert fake.models["gemma"].sleeping
    assert not any(p.startswith("/slots") for p in paths(fake))


async def test_router_reads_metrics_of_awake_models_only_never_autoloading() -> None:
    models = [
        FakeModel("sleepy", loaded=True, sleeping=True),
        FakeModel("awake/model:Q4", loaded=True),
        FakeModel("on-disk"),
    ]
    with FakeBackend(Kind.LLAMACPP_ROUTER, models, busy=True, metrics=True) as fake:
        async with managed(fake) as manager:
            assert (await manager.snapshot()).busy is True
        assert fake.models["sleepy"].sleeping and not fake.models["on-disk"].loaded
    routed = [p for p in paths(fake) if "?model=" in p]
    assert routed == ["/metrics?model=awake%2Fmodel%3AQ4&autoload=false"]
    assert fake.touches == []


async def test_router_with_only_sleeping_models_asks_no_slots() -> None:
    with FakeBackend(
        Kind.LLAMACPP_ROUTER, [FakeModel("sleepy", loaded=True, sleeping=True)], busy=True
    ) as fake:
        async with managed(fake) as manager:
            assert (await manager.snapshot()).busy is False
        assert fake.models["sleepy"].sleeping
    assert not any(p.startswith("/slots") for p in paths(fake))


@pytest.mark.parametrize("busy", [True, False])
async def test_dmr_busy_is_its_runners_in_use_flag(busy: bool) -> None:
    with FakeBackend(Kind.DMR, [FakeModel("ai/smollm2:latest", loaded=True)], busy=busy) as fake:
        async with managed(fake) as manager:
            assert (await manager.snapshot()).busy is busy


@pytest.mark.parametrize("busy", [True, False])
async def test_vllm_busy_is_its_running_requests_gauge(busy: bool) -> None:
    with FakeBackend(Kind.VLLM, [FakeModel("m")], busy=busy) as fake:
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
    assert snapshot.busy is busy and snapshot.caps.busy
    assert "/metrics" in paths(fake)


@pytest.mark.parametrize("kind", [Kind.OLLAMA, Kind.LMSTUDIO, Kind.LOCALAI, Kind.GENERIC])
async def test_no_busy_signal_where_the_server_has_none(kind: Kind) -> None:
    with FakeBackend(kind, [FakeModel("m1", loaded=True)], busy=True) as fake:
        async with managed(fake) as manager:
            assert (await manager.snapshot()).busy is None


# ---------------------------------------------------------------------------------------------- capabilities


@pytest.mark.parametrize("status", [404, 501])
async def test_vllm_without_metrics_switches_busy_off(status: int) -> None:
    with FakeBackend(Kind.VLLM, [FakeModel("m")], busy=True) as fake:
        if status == 404:
            drop_route(fake, "GET", "/metrics")
        else:
            answer_route(fake, "GET", "/metrics", 501, {"detail": "Not Implemented"})
        async with managed(fake) as manager:
            first = await manager.snapshot()
            second = await manager.snapshot()
    assert first.error is None and first.busy is None and not first.caps.busy
    assert second.busy is None
    assert paths(fake).count("/metrics") == 1  # asked once, then never again


@pytest.mark.parametrize("kind", [Kind.LLAMACPP_SINGLE, Kind.LLAMACPP_ROUTER])
async def test_llamacpp_without_metrics_has_no_busy_dot_rather_than_a_waking_probe(kind: Kind) -> None:
    """Started without ``--metrics`` (the default): ``/metrics`` answers 501 once and is never asked
    again; ``/slots``, which would answer, is not asked instead."""
    with FakeBackend(kind, [FakeModel("gemma", loaded=True)], busy=True) as fake:
        async with managed(fake) as manager:
            first = await manager.snapshot()
            second = await manager.snapshot()
    assert first.error is None and first.busy is None and not first.caps.busy
    assert second.busy is None
    assert sum(p.startswith("/metrics") for p in paths(fake)) == 1
    assert not any(p.startswith("/slots") for p in paths(fake)) and fake.touches == []


async def test_localai_without_system_cannot_tell_loaded_models() -> None:
    with FakeBackend(Kind.LOCALAI, [FakeModel("phi-2", loaded=True)]) as fake:
        drop_route(fake, "GET", "/system")
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
    assert snapshot.error is None
    assert ids_states(snapshot.models) == [("phi-2", ModelState.UNKNOWN)]
    assert not snapshot.caps.loaded_state


# ---------------------------------------------------------------------------------------------- keys, errors


@pytest.mark.parametrize("kind", list(Kind))
async def test_the_api_key_goes_to_every_route(kind: Kind, monkeypatch: pytest.MonkeyPatch) -> None:
    fast_polls(monkeypatch)
    models = [FakeModel("m1", loaded=True), FakeModel("m2")]
    with FakeBackend(
        kind, models, api_key=KEY, busy=True, pullable={"m3": 1000}, pull_step_seconds=0.01
    ) as fake:
        async with managed(fake) as manager:
            snapshot = await manager.snapshot()
            fake.busy = False  # DMR leaves a busy runner loaded
            if snapshot.caps.unload:
                await manager.unload(snapshot.loaded[0].id)
            if snapshot.caps.load:
                await manager.load("m2")
            if snapshot.caps.pull:
                steps = [step async for step in manager.pull("m3")]
                assert steps[-1].done
    assert snapshot.error is None
    assert len(fake.requests) > 3
    assert {r.headers.get("authorization") for r in fake.requests} == {f"Bearer {KEY}"}


async def test_a_wrong_key_is_reported_and_the_server_fingerprinted_again() -> None:
    with FakeBackend(Kind.OLLAMA, [FakeModel("llama3.2:latest")], api_key=KEY) as fake:
        async with managed(fake, key="sk-wrong") as manager:
            snapshot = await manager.snapshot()
            assert snapshot.error is not None and snapshot.error.code is ErrorCode.AUTH
            assert snapshot.models == ()
            assert manager.kind is None  # forgotten: the next look fingerprints again
            probes = paths(fake).count("/")
            await manager.snapshot()
        assert paths(fake).count("/") == probes + 1


async def test_a_server_that_goes_away_is_a_snapshot_error_not_an_exception() -> None:
    with FakeBackend(Kind.LMSTUDIO, [FakeModel("a/b")]) as fake:
        async with managed(fake) as manager:
            assert (await manager.snapshot()).kind is ServerKind.LMSTUDIO
            fake.stop()
            snapshot = await manager.snapshot()
    assert snapshot.error is not None and snapshot.error.code is ErrorCode.CONNECTION_REFUSED
    assert snapshot.kind is ServerKind.LMSTUDIO  # what it was, for the words around the error
    error = snapshot.to_dict()["error"]
    assert error is not None and error["code"] == "connection_refused"
