"""Load, unload, unload all and pull through ``ModelManager``, for every server that allows them, and
the refusals of those that do not — the real adapters against the faithful fakes over loopback HTTP.

Why: each server loads its own way (Ollama and LM Studio block, the llama.cpp router answers at once
and loads in the background, DMR preloads through a chat call) and reports pulls its own way (NDJSON,
SSE, jobs to poll). The manager must end every action in a state the server confirms, within a
deadline, with an error that says what happened — including when the server lies or stalls.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncGenerator, Iterator

import pytest

from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from tests.support.managed import fast_polls, managed, paths, posts
from tests.support.waiting import until
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError
from trayai.core.net.backends import manager as manager_module
from trayai.core.net.backends.base import Unsupported
from trayai.core.net.backends.describe import expiry_text
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.backends.records import ModelRecord, ModelState, PullProgress, ServerKind
from trayai.core.net.client import Endpoint, ModelClient

pytestmark = pytest.mark.anyio

GEMMA, QWEN = "ggml-org/gemma-3-1b-it-GGUF:Q4_K_M", "unsloth/Qwen3-4B-GGUF:Q4_K_M"

# The model each loadable server is asked to load, a second one that is already loaded, and the call
# that loads (the only POST a load makes).
LOADABLE = {
    Kind.OLLAMA: ("qwen3:4b", "llama3.2:latest", "/api/generate"),
    Kind.LLAMACPP_ROUTER: (QWEN, GEMMA, "/models/load"),
    Kind.LMSTUDIO: ("qwen/qwen3-4b", "google/gemma-3-1b", "/api/v1/models/load"),
    Kind.DMR: ("ai/qwen3:latest", "ai/smollm2:latest", "/engines/v1/chat/completions"),
    Kind.LOCALAI: ("qwen3-4b", "phi-2", "/backend/load"),
}
UNLOAD_CALL = {
    Kind.OLLAMA: "/api/generate",
    Kind.LLAMACPP_ROUTER: "/models/unload",
    Kind.LMSTUDIO: "/api/v1/models/unload",
    Kind.DMR: "/engines/unload",
    Kind.LOCALAI: "/backend/shutdown",
}
# What to pull from each (as its registry spells it) and the name the server then lists it by.
PULLS = {
    Kind.OLLAMA: ("smollm2", "smollm2:latest"),
    Kind.LLAMACPP_ROUTER: ("ggml-org/SmolLM2-135M-GGUF:Q8_0", "ggml-org/SmolLM2-135M-GGUF:Q8_0"),
    Kind.LMSTUDIO: ("openai/gpt-oss-20b", "openai/gpt-oss-20b"),
    Kind.DMR: ("ai/gemma3", "ai/gemma3:latest"),
    Kind.LOCALAI: ("localai@qwen3-4b", "qwen3-4b"),
}
PULL_SIZE = 10_000


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_polls(monkeypatch)


def two_models(kind: Kind, *, loaded: bool = False) -> list[FakeModel]:
    """The model to act on (``loaded`` or not) and another that is loaded."""
    target, other, _ = LOADABLE[kind]
    return [FakeModel(target, loaded=loaded), FakeModel(other, loaded=True)]


def post_paths(fake: FakeBackend) -> list[str]:
    return [r.path for r in posts(fake)]


# ---------------------------------------------------------------------------------------------- load


@pytest.mark.parametrize("kind", list(LOADABLE))
async def test_load_returns_once_the_server_lists_it_loaded(kind: Kind) -> None:
    target, _, call = LOADABLE[kind]
    with FakeBackend(kind, two_models(kind), load_seconds=0.05) as fake:
        async with managed(fake) as manager:
            record = await manager.load(target, deadline=10)
            snapshot = await manager.snapshot()
        assert fake.models[target].loaded
    assert (record.id, record.state) == (target, ModelState.LOADED)
    assert snapshot.find(target) is not None and snapshot.find(target).state is ModelState.LOADED  # type: ignore[union-attr]
    assert post_paths(fake) == [call]


async def test_router_load_is_polled_until_the_background_load_ends() -> None:
    seen: list[ModelState] = []
    with FakeBackend(Kind.LLAMACPP_ROUTER, two_models(Kind.LLAMACPP_ROUTER), load_seconds=0.3) as fake:
        async with managed(fake) as manager:
            record = await manager.load(QWEN, deadline=10, on_state=lambda r: seen.append(r.state))
    assert record.state is ModelState.LOADED and record.context_loaded == 8192
    assert seen[0] is ModelState.LOADING and seen[-1] is ModelState.LOADED
    assert post_paths(fake) == ["/models/load"]
    after = paths(fake)[paths(fake).index("/models/load") :]
    assert after.count("/models") >= 2  # answered at once, then watched


async def test_ollama_load_keeps_it_as_long_as_asked() -> None:
    with FakeBackend(Kind.OLLAMA, two_models(Kind.OLLAMA)) as fake:
        async with managed(fake) as manager:
            record = await manager.load("qwen3:4b", keep_alive=1800)
            same = await manager.load("qwen3:4b")  # loaded, no keep-alive asked: nothing to send
            kept = await manager.load("qwen3", keep_alive=math.inf)  # loaded: only its expiry changes
    assert [r.json for r in posts(fake)] == [
        {"model": "qwen3:4b", "keep_alive": "1800s"},
        {"model": "qwen3:4b", "keep_alive": -1},
    ]
    assert record.expires_at is not None and abs(record.expires_at - (time.time() + 1800)) < 30
    assert expiry_text(record, time.time()) in ("unloads in 29 min", "unloads in 30 min")
    assert same.expires_at == record.expires_at
    assert kept.id == "qwen3:4b" and kept.keeps_forever
    assert expiry_text(kept, time.time()) == "kept loaded"


async def test_ollama_cloud_models_are_never_loaded() -> None:
    models = [FakeModel("gpt-oss:120b-cloud", remote=True), FakeModel("llama3.2:latest", loaded=True)]
    with FakeBackend(Kind.OLLAMA, models) as fake:
        async with managed(fake) as manager:
            with pytest.raises(Unsupported) as refused:
                await manager.load("gpt-oss:120b-cloud")
            unloaded = await manager.unload_all()
    assert refused.value.code is ErrorCode.UNSUPPORTED
    assert refused.value.message == "this server (Ollama) cannot load 'gpt-oss:120b-cloud'"
    assert "cloud model" in refused.value.hint
    assert unloaded == ["llama3.2:latest"]
    assert [r.json["model"] for r in posts(fake)] == ["llama3.2:latest"]


@pytest.mark.parametrize("kind", list(LOADABLE))
async def test_loading_a_loaded_model_sends_nothing(kind: Kind) -> None:
    target, _, _ = LOADABLE[kind]
    with FakeBackend(kind, two_models(kind, loaded=True)) as fake:
        async with managed(fake) as manager:
            record = await manager.load(target)
    assert record.state is ModelState.LOADED
    assert posts(fake) == []


async def test_lmstudio_never_adds_a_second_instance_of_a_loaded_model() -> None:
    with FakeBackend(Kind.LMSTUDIO, two_models(Kind.LMSTUDIO, loaded=True)) as fake:
        async with managed(fake) as manager:
            backend, record = await manager.find("qwen/qwen3-4b")
            await backend.load(record, None)  # the adapter's own guard, below the manager's
            await manager.load("qwen/qwen3-4b")
            await manager.load("qwen/qwen3-4b", keep_alive=300)  # LM Studio takes no keep-alive
            (after,) = [m for m in await backend.models() if m.id == "qwen/qwen3-4b"]
    assert posts(fake) == []
    assert after.instances == ("qwen/qwen3-4b",)


@pytest.mark.parametrize("kind", list(LOADABLE))
async def test_a_load_that_never_finishes_times_out_within_the_deadline(kind: Kind) -> None:
    target, _, _ = LOADABLE[kind]
    with FakeBackend(kind, two_models(kind), load_never_finishes=True) as fake:
        async with managed(fake) as manager:
            started = time.monotonic()
            with pytest.raises(TrayaiError) as failed:
                await manager.load(target, deadline=0.3)
            took = time.monotonic() - started
        assert not fake.models[target].loaded
    assert failed.value.code is ErrorCode.LOAD_TIMEOUT
    assert (
        f"{target!r} did not finish loading" in failed.value.message
        and "within 0.3 s" in failed.value.message
    )
    assert 0.25 <= took < 3


async def test_router_load_that_fails_says_so() -> None:
    seen: list[ModelState] = []
    models = [FakeModel("broken", load_fails=True)]
    with FakeBackend(Kind.LLAMACPP_ROUTER, models, load_seconds=0.1) as fake:
        async with managed(fake) as manager:
            with pytest.raises(TrayaiError) as failed:
                await manager.load("broken", on_state=lambda r: seen.append(r.state))
            (record,) = (await manager.snapshot()).models
    assert failed.value.code is ErrorCode.SERVER_ERROR
    assert "could not load 'broken'" in failed.value.message and "exit code 1" in failed.value.message
    assert seen[-1] is ModelState.FAILED
    assert record.state is ModelState.FAILED and record.detail is not None


async def test_ollama_load_that_fails_carries_the_servers_words() -> None:
    with FakeBackend(Kind.OLLAMA, [FakeModel("qwen3:4b", load_fails=True)]) as fake:
        async with managed(fake) as manager:
            with pytest.raises(TrayaiError) as failed:
                await manager.load("qwen3:4b")
    assert failed.value.code is ErrorCode.SERVER_ERROR and failed.value.status == 500
    assert "refused to load 'qwen3:4b'" in failed.value.message
    assert "llama runner process has terminated" in (failed.value.detail or "")


# ---------------------------------------------------------------------------------------------- names


MISSPELT = {
    Kind.OLLAMA: "qwen2:4b",  # (qwen3:5b would match qwen3:4b: one tag of a name is taken for any)
    Kind.LLAMACPP_ROUTER: "unsloth/Qwen3-5B-GGUF:Q4_K_M",
    Kind.LMSTUDIO: "qwen/qwen3-5b",
    Kind.DMR: "ai/qwen2",
    Kind.LOCALAI: "qwen3-5b",
}


@pytest.mark.parametrize("kind", list(LOADABLE))
async def test_a_model_the_server_does_not_know_is_not_found_with_suggestions(kind: Kind) -> None:
    target, _, _ = LOADABLE[kind]
    misspelt = MISSPELT[kind]
    with FakeBackend(kind, two_models(kind)) as fake:
        async with managed(fake) as manager:
            for action in (manager.load, manager.unload):
                with pytest.raises(TrayaiError) as missing:
                    await action(misspelt)
                assert missing.value.code is ErrorCode.MODEL_NOT_FOUND
                assert f"has no model {misspelt!r} — did you mean" in missing.value.message
                assert target in missing.value.suggestions
                assert "trayai pull NAME" in missing.value.hint
    assert posts(fake) == []


async def test_names_are_matched_tolerantly() -> None:
    with FakeBackend(Kind.DMR, [FakeModel("ai/smollm2:latest")]) as fake:
        async with managed(fake) as manager:
            record = await manager.load("smollm2")
    assert record.id == "ai/smollm2:latest" and record.state is ModelState.LOADED
    assert [r.json for r in posts(fake)] == [{"model": "ai/smollm2:latest"}]


# ---------------------------------------------------------------------------------------------- unload


@pytest.mark.parametrize("kind", list(LOADABLE))
async def test_unload_returns_once_the_server_lists_it_unloaded(kind: Kind) -> None:
    target, other, _ = LOADABLE[kind]
    with FakeBackend(kind, two_models(kind, loaded=True)) as fake:
        async with managed(fake) as manager:
            record = await manager.unload(target)
            again = await manager.unload(target)
        assert not fake.models[target].loaded and fake.models[other].loaded
    assert record is not None and (record.id, record.state) == (target, ModelState.AVAILABLE)
    assert again is None  # not loaded: nothing to do, nothing sent
    assert post_paths(fake) == [UNLOAD_CALL[kind]]


@pytest.mark.parametrize("kind", list(LOADABLE))
async def test_unload_all_empties_the_memory(kind: Kind) -> None:
    target, other, _ = LOADABLE[kind]
    models = [*two_models(kind, loaded=True), FakeModel("idle-one")]
    with FakeBackend(kind, models) as fake:
        async with managed(fake) as manager:
            names = await manager.unload_all()
            snapshot = await manager.snapshot()
            nothing = await manager.unload_all()
    assert sorted(names) == sorted([target, other])
    assert snapshot.loaded == ()
    assert nothing == []
    if kind is Kind.DMR:
        assert [r.json for r in posts(fake)] == [{"all": True}]  # its native "all" call, once
    else:
        assert post_paths(fake) == [UNLOAD_CALL[kind]] * 2  # a loop, one call per loaded model


@pytest.fixture
def short_unload_deadline(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(manager_module, "UNLOAD_DEADLINE", 0.3)
    yield


LIE_ERRORS = {
    Kind.OLLAMA: ErrorCode.MODEL_NOT_FOUND,  # 404 "model not found" for a model /api/ps lists
    Kind.LLAMACPP_ROUTER: ErrorCode.MODEL_NOT_FOUND,
    Kind.LMSTUDIO: ErrorCode.MODEL_NOT_FOUND,
    Kind.LOCALAI: ErrorCode.MODEL_NOT_FOUND,
    Kind.DMR: ErrorCode.SERVER_ERROR,  # "unloaded_runners": 0 — said at once, not after a wait
}


@pytest.mark.parametrize("kind", list(LIE_ERRORS))
async def test_a_server_that_lists_a_model_it_cannot_unload_gets_a_clear_error(
    kind: Kind, short_unload_deadline: None
) -> None:
    target, _, _ = LOADABLE[kind]
    with FakeBackend(kind, two_models(kind, loaded=True), lie_loaded={target}) as fake:
        async with managed(fake) as manager:
            with pytest.raises(TrayaiError) as failed:
                await manager.unload(target)
            still = (await manager.snapshot()).find(target)
    error = failed.value
    assert error.code is LIE_ERRORS[kind]
    assert repr(target) in error.message and error.hint
    assert still is not None and still.state is ModelState.LOADED
    if kind is Kind.DMR:
        assert "unloaded nothing for" in error.message and "idle runners" in error.hint
    else:
        assert error.detail, "the server's own words are kept"


# ---------------------------------------------------------------------------------------------- pull


async def pull_all(manager: ModelManager, name: str) -> list[PullProgress]:
    return [step async for step in manager.pull(name)]


@pytest.mark.parametrize("kind", list(PULLS))
async def test_pull_reports_progress_until_done(kind: Kind) -> None:
    name, listed = PULLS[kind]
    with FakeBackend(
        kind, [FakeModel("m")], pullable={name: PULL_SIZE}, pull_step_seconds=0.05, pull_steps=5
    ) as fake:
        async with managed(fake) as manager:
            steps = await pull_all(manager, name)
            snapshot = await manager.snapshot()
    last = steps[-1]
    assert last.done and (last.completed, last.total) == (PULL_SIZE, PULL_SIZE)
    assert [s for s in steps if s.done] == [last]
    middle = [s for s in steps if s.fraction is not None and 0 < s.fraction < 1]
    assert middle, f"no progress between 0 and 100%: {steps}"
    sizes = [s.completed for s in steps if s.completed is not None]
    assert sizes == sorted(sizes)
    assert listed in fake.models and snapshot.find(listed) is not None


async def test_ollama_pull_progress_is_summed_over_layers() -> None:
    with FakeBackend(
        Kind.OLLAMA, [FakeModel("m")], pullable={"smollm2": PULL_SIZE}, pull_step_seconds=0.01
    ) as fake:
        async with managed(fake) as manager:
            steps = await pull_all(manager, "smollm2")
    totals = [s.total for s in steps if s.total is not None]
    assert totals[0] == 9_000 and totals[-1] == PULL_SIZE  # the weights layer, then both layers
    assert [s.phase for s in steps][-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    assert [r.json for r in posts(fake)] == [{"model": "smollm2", "stream": True}]


@pytest.mark.parametrize("kind", list(PULLS))
async def test_pulling_an_unknown_model_fails(kind: Kind) -> None:
    with FakeBackend(kind, [FakeModel("m")]) as fake:
        async with managed(fake) as manager:
            with pytest.raises(TrayaiError) as failed:
                await pull_all(manager, "nobody/nothing")
    assert failed.value.code is ErrorCode.PULL_FAILED
    assert "Pulling 'nobody/nothing' from" in failed.value.message
    assert "registry" in failed.value.hint
    assert set(fake.models) == {"m"}


@pytest.mark.parametrize("kind", list(PULLS))
async def test_a_pull_failing_midway_fails_after_its_progress(kind: Kind) -> None:
    name, listed = PULLS[kind]
    steps: list[PullProgress] = []
    with FakeBackend(
        kind,
        [FakeModel("m")],
        pullable={name: PULL_SIZE},
        pull_step_seconds=0.05,
        pull_steps=5,
        pull_fail_at_step=4,
    ) as fake:
        async with managed(fake) as manager:
            with pytest.raises(TrayaiError) as failed:
                async for step in manager.pull(name):
                    steps.append(step)
    assert failed.value.code is ErrorCode.PULL_FAILED
    assert any(s.completed for s in steps), "progress came before the failure"
    assert not any(s.done for s in steps)
    assert listed not in fake.models


def pulling(manager: ModelManager, name: str) -> AsyncGenerator[PullProgress, None]:
    return manager.pull(name)


@pytest.mark.parametrize("kind", [Kind.OLLAMA, Kind.DMR])
async def test_cancelling_a_streamed_pull_hangs_up_on_the_server(kind: Kind) -> None:
    name, listed = PULLS[kind]
    with FakeBackend(kind, [FakeModel("m")], pullable={name: PULL_SIZE}, pull_steps=500) as fake:
        async with managed(fake) as manager:
            steps = pulling(manager, name)
            async for step in steps:
                if step.completed:
                    break
            await steps.aclose()
            await until(lambda: fake.pulls_cancelled == 1, 5, "the server to see the pull cancelled")
    assert listed not in fake.models
    assert len(posts(fake)) == 1  # the hang-up is the cancel: nothing else is sent


async def test_cancelling_a_router_download_unloads_it() -> None:
    name, _ = PULLS[Kind.LLAMACPP_ROUTER]
    with FakeBackend(
        Kind.LLAMACPP_ROUTER, [FakeModel("m")], pullable={name: PULL_SIZE}, pull_steps=500
    ) as fake:
        async with managed(fake) as manager:
            steps = pulling(manager, name)
            async for step in steps:
                if step.completed:
                    break
            await steps.aclose()
            snapshot = await manager.snapshot()
        assert fake.pulls_cancelled == 1
    assert [(r.path, r.json) for r in posts(fake)] == [
        ("/models", {"model": name}),
        ("/models/unload", {"model": name}),
    ]
    assert snapshot.find(name) is None and name not in fake.models


async def test_router_without_a_download_api_cannot_pull() -> None:
    with FakeBackend(Kind.LLAMACPP_ROUTER, [FakeModel("m")], router_sse=False) as fake:
        async with managed(fake) as manager:
            for _ in range(2):
                with pytest.raises(Unsupported) as refused:
                    await pull_all(manager, "ggml-org/SmolLM2-135M-GGUF:Q8_0")
                assert refused.value.message == "this server (llama.cpp (router)) cannot pull models"
                assert "no download API" in refused.value.hint
            snapshot = await manager.snapshot()
    assert not snapshot.caps.pull and snapshot.caps.load  # only the missing call is switched off
    assert post_paths(fake).count("/models") == 1  # asked once; the second pull knew


# ---------------------------------------------------------------------------------------------- refusals

UNSUPPORTED = {
    Kind.VLLM: "vLLM",
    Kind.JAN: "Jan",
    Kind.GENERIC: "OpenAI-compatible",
    Kind.LLAMACPP_SINGLE: "llama.cpp",
    Kind.LMSTUDIO_V0: "LM Studio (v0 API)",
}


async def act(manager: ModelManager, action: str) -> object:
    if action == "load":
        return await manager.load("m1")
    if action == "unload":
        return await manager.unload("m1")
    if action == "unload_all":
        return await manager.unload_all()
    return await pull_all(manager, "m2")


@pytest.mark.parametrize("action", ["load", "unload", "unload_all", "pull"])
@pytest.mark.parametrize("kind", list(UNSUPPORTED))
async def test_servers_that_cannot_act_say_so_and_what_to_do(kind: Kind, action: str) -> None:
    with FakeBackend(kind, [FakeModel("m1", loaded=True)]) as fake:
        async with managed(fake) as manager:
            if kind is Kind.JAN:
                manager.http.where = "127.0.0.1:1337"  # Jan's own port, where it is recognised
            with pytest.raises(Unsupported) as refused:
                await act(manager, action)
    verb = {"load": "load models", "pull": "pull models"}.get(action, "unload models")
    assert refused.value.code is ErrorCode.UNSUPPORTED
    assert refused.value.message == f"this server ({UNSUPPORTED[kind]}) cannot {verb}"
    assert refused.value.hint
    assert posts(fake) == []


# ---------------------------------------------------------------------------------------------- fingerprint cache


async def test_the_server_is_fingerprinted_once_then_again_after_ten_minutes() -> None:
    now = [1000.0]
    with FakeBackend(Kind.OLLAMA, [FakeModel("llama3.2:latest")]) as fake:
        async with ModelClient(Endpoint(fake.base_url, "k")) as client:
            manager = ModelManager(client, clock=lambda: now[0])
            for step in (0.0, 60.0, 500.0):
                now[0] += step
                assert (await manager.snapshot()).kind is ServerKind.OLLAMA
            assert paths(fake).count("/") == 1
            now[0] += 100.0  # over 600 s since it was fingerprinted
            await manager.snapshot()
            assert paths(fake).count("/") == 2


async def test_loaded_names_is_the_cheap_look() -> None:
    models = [FakeModel("a:latest", loaded=True), FakeModel("b:latest"), FakeModel("c:latest", loaded=True)]
    with FakeBackend(Kind.OLLAMA, models) as fake:
        async with managed(fake) as manager:
            await manager.backend()
            before = len(fake.requests)
            kind, names = await manager.loaded_names()
    assert (kind, sorted(names or [])) == (ServerKind.OLLAMA, ["a:latest", "c:latest"])
    assert paths(fake)[before:] == ["/api/ps"]


def test_records_sort_loaded_first_in_server_order() -> None:
    from trayai.core.net.backends.records import loaded_first

    records = [
        ModelRecord("a", ModelState.AVAILABLE),
        ModelRecord("b", ModelState.LOADED),
        ModelRecord("c", ModelState.SLEEPING),
        ModelRecord("d", ModelState.LOADED),
        ModelRecord("e", ModelState.LOADING),
    ]
    assert [r.id for r in loaded_first(records)] == ["b", "d", "e", "c", "a"]


def test_every_fingerprinted_kind_has_its_adapter_loaded_on_demand() -> None:
    """The adapters are named, not imported, by the manager: each name must lead to its kind's class."""
    from trayai.core.net.backends.manager import ADAPTERS, adapter_class

    for kind in ADAPTERS:
        assert adapter_class(kind).kind is kind
    assert set(ADAPTERS) == set(ServerKind) - {ServerKind.BUILTIN}  # the built-in one is given, not found
