"""The fake model servers answer as the real ones document: shapes, state changes, progress, traps.

Why: other tests trust these fakes to stand in for Ollama, llama.cpp, LM Studio, DMR, LocalAI, vLLM
and Jan. A fake that drifts from its server makes those tests prove nothing, so each documented
behaviour the tray relies on is pinned here, over real HTTP.
"""

from __future__ import annotations

import http.client
import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.fake_backends import FakeBackend, FakeModel, Kind
from tests.support.waiting import wait_until

WAIT = 5.0  # seconds: only bounds how long a broken fake hangs a test


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    text: str

    def json(self) -> Any:
        return json.loads(self.text)

    def lines(self) -> list[Any]:
        """A JSON-lines body (NDJSON, DMR's progress), one parsed object per line."""
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def sse(self) -> list[Any]:
        """An SSE body's ``data:`` payloads, parsed; ``[DONE]`` kept as the string."""
        out: list[Any] = []
        for line in self.text.splitlines():
            if line.startswith("data: "):
                payload = line.removeprefix("data: ")
                out.append(payload if payload == "[DONE]" else json.loads(payload))
        return out


def call(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None) -> Reply:
    data = None if body is None else json.dumps(body).encode()
    sent = {"Content-Type": "application/json"} if data is not None else {}
    sent.update(headers or {})
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    try:
        with urllib.request.urlopen(request, timeout=WAIT) as response:
            return Reply(response.status, dict(response.headers.items()), response.read().decode())
    except urllib.error.HTTPError as error:
        with error:
            return Reply(error.code, dict(error.headers.items()), error.read().decode())


def chat(
    fake: FakeBackend, model: str, *, stream: bool = False, headers: dict[str, str] | None = None
) -> Reply:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    return call(f"{fake.base_url}/chat/completions", "POST", body, headers)


@pytest.fixture
def started() -> Iterator[list[FakeBackend]]:
    """Fakes a test starts through ``run``: stopped at the end whatever happens."""
    fakes: list[FakeBackend] = []
    yield fakes
    for fake in fakes:
        fake.stop()


def run(
    started: list[FakeBackend], kind: Kind, models: list[FakeModel] | None = None, **options: Any
) -> FakeBackend:
    fake = FakeBackend(kind, models, **options).start()
    started.append(fake)
    return fake


class SseReader:
    """A long-lived ``GET /models/sse``: events read one at a time, the socket closed at the end."""

    def __init__(self, fake: FakeBackend) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=WAIT)
        self.conn.request("GET", "/models/sse")
        self.response = self.conn.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("Content-Type") == "text/event-stream"

    def next(self) -> dict[str, Any]:
        while True:
            line = self.response.readline().decode()
            assert line, "the event stream ended"
            if line.startswith("data: "):
                event: dict[str, Any] = json.loads(line.removeprefix("data: "))
                return event

    def until(self, event: str, model: str | None = None) -> list[dict[str, Any]]:
        """Events up to and including the first ``event`` (for ``model``)."""
        seen = []
        while True:
            item = self.next()
            seen.append(item)
            if item["event"] == event and (model is None or item["model"] == model):
                return seen

    def close(self) -> None:
        self.response.close()
        self.conn.close()


# ---------------------------------------------------------------------------------------------- every kind

CHAT_MODEL = "m1"
UNKNOWN_MODEL_STATUS = {
    Kind.OLLAMA: 404,
    Kind.LLAMACPP_ROUTER: 400,  # router_validate_model: invalid_request_error
    Kind.LLAMACPP_SINGLE: 200,  # one model: the request's "model" is not checked
    Kind.LMSTUDIO: 404,
    Kind.LMSTUDIO_V0: 404,
    Kind.DMR: 404,
    Kind.LOCALAI: 404,
    Kind.VLLM: 404,
    Kind.JAN: 404,
    Kind.GENERIC: 404,
}
OWNED_BY = {
    Kind.OLLAMA: "library",
    Kind.LLAMACPP_ROUTER: "llamacpp",
    Kind.LLAMACPP_SINGLE: "llamacpp",
    Kind.LMSTUDIO: "organization_owner",
    Kind.LMSTUDIO_V0: "organization_owner",
    Kind.DMR: "docker",
    Kind.LOCALAI: None,
    Kind.VLLM: "vllm",
    Kind.JAN: "user",
    Kind.GENERIC: "system",
}


@pytest.mark.parametrize("kind", list(Kind))
def test_every_fake_answers_chat_streamed_and_whole(started: list[FakeBackend], kind: Kind) -> None:
    fake = run(started, kind, [FakeModel(CHAT_MODEL, loaded=kind is Kind.JAN)])
    whole = chat(fake, CHAT_MODEL)
    assert whole.status == 200, whole.text
    assert whole.json()["choices"][0]["message"]["content"] == f"Hello from {kind.value}."
    assert whole.json()["choices"][0]["finish_reason"] == "stop"

    streamed = chat(fake, CHAT_MODEL, stream=True)
    assert streamed.status == 200
    assert streamed.headers["Content-Type"] == "text/event-stream"
    events = streamed.sse()
    assert events[-1] == "[DONE]"
    chunks = [e for e in events[:-1] if e["choices"]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    assert text == f"Hello from {kind.value}."
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"


@pytest.mark.parametrize("kind", list(Kind))
def test_every_fake_lists_models_in_its_openai_shape(started: list[FakeBackend], kind: Kind) -> None:
    fake = run(started, kind, [FakeModel(CHAT_MODEL, loaded=True)])
    listing = call(f"{fake.base_url}/models")
    assert listing.status == 200
    (entry,) = listing.json()["data"]
    assert entry["id"] == ("ai/m1:latest" if kind is Kind.DMR else CHAT_MODEL)
    assert entry["object"] == "model"
    assert entry.get("owned_by") == OWNED_BY[kind]


@pytest.mark.parametrize("kind", list(Kind))
def test_every_fake_refuses_an_unknown_model_its_own_way(started: list[FakeBackend], kind: Kind) -> None:
    fake = run(started, kind, [FakeModel(CHAT_MODEL, loaded=True)])
    refused = chat(fake, "no-such-model")
    assert refused.status == UNKNOWN_MODEL_STATUS[kind], refused.text
    if kind in (Kind.DMR, Kind.JAN):
        assert "found" in refused.text.lower()  # plain text, not JSON
    elif kind is not Kind.LLAMACPP_SINGLE:
        assert "error" in refused.json()


@pytest.mark.parametrize("kind", list(Kind))
def test_every_fake_wants_the_key_when_it_has_one(started: list[FakeBackend], kind: Kind) -> None:
    fake = run(started, kind, [FakeModel(CHAT_MODEL, loaded=True)], api_key="sk-fake")
    refused = chat(fake, CHAT_MODEL)
    assert refused.status == 401
    wrong = chat(fake, CHAT_MODEL, headers={"Authorization": "Bearer nope"})
    assert wrong.status == 401
    if kind is Kind.JAN:
        assert refused.text == "Missing authorization header"
        assert wrong.text == "Invalid or missing authorization token"
    else:
        assert refused.json()["error"]
    assert chat(fake, CHAT_MODEL, headers={"Authorization": "Bearer sk-fake"}).status == 200


def test_requests_are_recorded_with_their_json_bodies(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.GENERIC, [FakeModel(CHAT_MODEL)])
    chat(fake, CHAT_MODEL, headers={"X-Probe": "1"})
    (recorded,) = fake.requests
    assert (recorded.method, recorded.path) == ("POST", "/v1/chat/completions")
    assert recorded.headers["x-probe"] == "1"
    assert recorded.json["model"] == CHAT_MODEL


# ---------------------------------------------------------------------------------------------- Ollama


def ollama_models() -> list[FakeModel]:
    """Fresh each time: a fake takes its models as live state and changes them."""
    return [
        FakeModel("llama3.2:latest", size_bytes=2_000_000_000, context_trained=131072, loaded=True),
        FakeModel("qwen3:4b", size_bytes=2_500_000_000),
        FakeModel("gpt-oss:120b-cloud", remote=True),
    ]


def test_ollama_is_detected_by_its_root_text(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.OLLAMA, ollama_models())
    root = call(fake.root_url + "/")
    assert (root.status, root.text) == (200, "Ollama is running")
    assert call(fake.root_url + "/", "HEAD").status == 200
    assert call(fake.root_url + "/api/version").json()["version"].startswith("0.")
    missing = call(fake.root_url + "/api/nothing")
    assert (missing.status, missing.text) == (404, "404 page not found")
    assert call(fake.root_url + "/api/tags", "POST", {}).status == 405


def test_ollama_tags_ps_and_show(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.OLLAMA, ollama_models())
    tags = {m["name"]: m for m in call(fake.root_url + "/api/tags").json()["models"]}
    assert set(tags) == {"llama3.2:latest", "qwen3:4b", "gpt-oss:120b-cloud"}
    assert tags["gpt-oss:120b-cloud"]["remote_host"] == "https://ollama.com:443"
    assert "remote_host" not in tags["qwen3:4b"]
    assert tags["qwen3:4b"]["size"] == 2_500_000_000
    assert tags["qwen3:4b"]["details"]["format"] == "gguf"

    (running,) = call(fake.root_url + "/api/ps").json()["models"]
    assert running["name"] == "llama3.2:latest"
    assert running["size"] >= running["size_vram"] > 0
    assert running["context_length"] == 4096
    assert running["expires_at"].endswith("Z")

    shown = call(fake.root_url + "/api/show", "POST", {"model": "llama3.2"}).json()
    arch = shown["model_info"]["general.architecture"]
    assert shown["model_info"][f"{arch}.context_length"] == 131072
    assert "completion" in shown["capabilities"]
    missing = call(fake.root_url + "/api/show", "POST", {"model": "nope"})
    assert (missing.status, missing.json()) == (404, {"error": "model 'nope' not found"})


def test_ollama_loads_by_blocking_generate_and_unloads_with_keep_alive_zero(
    started: list[FakeBackend],
) -> None:
    fake = run(started, Kind.OLLAMA, ollama_models(), load_seconds=0.1)
    loaded = call(fake.root_url + "/api/generate", "POST", {"model": "qwen3:4b", "keep_alive": -1})
    assert loaded.status == 200
    assert loaded.json()["done"] is True
    assert loaded.json()["done_reason"] == "load"
    assert fake.models["qwen3:4b"].loaded  # the call returned only once the model was in
    ps = {m["name"]: m for m in call(fake.root_url + "/api/ps").json()["models"]}
    assert ps["qwen3:4b"]["expires_at"] > "2300"  # keep_alive -1: "Forever"
    assert list(ps) == ["qwen3:4b", "llama3.2:latest"]  # the longest time left first

    unloaded = call(fake.root_url + "/api/generate", "POST", {"model": "qwen3:4b", "keep_alive": 0})
    assert unloaded.json()["done_reason"] == "unload"
    assert [m["name"] for m in call(fake.root_url + "/api/ps").json()["models"]] == ["llama3.2:latest"]

    via_chat = call(fake.root_url + "/api/chat", "POST", {"model": "qwen3:4b", "messages": []})
    assert via_chat.json()["done_reason"] == "load"
    assert fake.models["qwen3:4b"].loaded


def test_ollama_refuses_unknown_models_and_never_loads_cloud_ones(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.OLLAMA, ollama_models())
    missing = call(fake.root_url + "/api/generate", "POST", {"model": "nope"})
    assert (missing.status, missing.json()) == (404, {"error": "model 'nope' not found"})
    cloud = call(fake.root_url + "/api/generate", "POST", {"model": "gpt-oss:120b-cloud"})
    assert cloud.status == 200
    assert not fake.models["gpt-oss:120b-cloud"].loaded
    assert chat(fake, "gpt-oss:120b-cloud").status == 200
    assert "gpt-oss:120b-cloud" not in [m["name"] for m in call(fake.root_url + "/api/ps").json()["models"]]


def test_ollama_native_answer_carries_eval_counts(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.OLLAMA, ollama_models())
    lines = call(fake.root_url + "/api/generate", "POST", {"model": "llama3.2", "prompt": "hi"}).lines()
    assert "".join(line["response"] for line in lines) == "Hello from ollama."
    final = lines[-1]
    assert final["done"] is True
    assert final["eval_count"] > 0
    assert final["eval_duration"] > 0


def test_ollama_pull_streams_the_documented_sequence(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.OLLAMA, ollama_models(), pullable={"smollm2": 1_000_000}, pull_step_seconds=0.01)
    lines = call(fake.root_url + "/api/pull", "POST", {"model": "smollm2"}).lines()
    statuses = [line["status"] for line in lines]
    assert statuses[0] == "pulling manifest"
    assert statuses[-3:] == ["verifying sha256 digest", "writing manifest", "success"]
    layers: dict[str, tuple[int, int]] = {}
    for line in lines:
        if "digest" in line and "completed" in line:
            assert line["status"] == f"pulling {line['digest'][7:19]}"
            _, before = layers.get(line["digest"], (line["total"], 0))
            assert line["completed"] >= before
            layers[line["digest"]] = (line["total"], line["completed"])
    assert sum(total for total, _ in layers.values()) == 1_000_000
    assert all(done == total for total, done in layers.values())
    assert len([line for line in lines if "completed" in line]) >= 5
    added = fake.models["smollm2:latest"]
    assert not added.loaded
    assert "smollm2:latest" in [m["name"] for m in call(fake.root_url + "/api/tags").json()["models"]]


def test_ollama_pull_errors_arrive_as_error_lines(started: list[FakeBackend]) -> None:
    fake = run(
        started,
        Kind.OLLAMA,
        ollama_models(),
        pullable={"smollm2": 1_000_000},
        pull_step_seconds=0.01,
        pull_fail_at_step=3,
    )
    unknown = call(fake.root_url + "/api/pull", "POST", {"model": "nope"})
    assert unknown.status == 200
    assert unknown.lines() == [
        {"status": "pulling manifest"},
        {"error": "pull model manifest: file does not exist"},
    ]
    failed = call(fake.root_url + "/api/pull", "POST", {"model": "smollm2"}).lines()
    assert "error" in failed[-1]
    assert len([line for line in failed if line.get("completed")]) == 2  # steps 1 and 2, then the error
    assert "smollm2:latest" not in fake.models


def test_ollama_pull_cancelled_by_hanging_up_adds_nothing(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.OLLAMA, ollama_models(), pullable={"smollm2": 1_000_000}, pull_steps=100)
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=WAIT)
    try:
        conn.request(
            "POST", "/api/pull", json.dumps({"model": "smollm2"}), {"Content-Type": "application/json"}
        )
        response = conn.getresponse()
        assert json.loads(response.readline()) == {"status": "pulling manifest"}
        assert "digest" in json.loads(response.readline())
        response.close()
    finally:
        conn.close()
    wait_until(lambda: fake.pulls_cancelled == 1, WAIT, "the fake to notice the hang-up")
    assert "smollm2:latest" not in fake.models


def test_ollama_lie_loaded_model_cannot_be_unloaded(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.OLLAMA, ollama_models(), lie_loaded={"qwen3:4b"})
    assert "qwen3:4b" in [m["name"] for m in call(fake.root_url + "/api/ps").json()["models"]]
    refused = call(fake.root_url + "/api/generate", "POST", {"model": "qwen3:4b", "keep_alive": 0})
    assert (refused.status, refused.json()) == (404, {"error": "model 'qwen3:4b' not found"})
    assert "qwen3:4b" in [m["name"] for m in call(fake.root_url + "/api/ps").json()["models"]]


# ---------------------------------------------------------------------------------------------- llama.cpp

GEMMA, QWEN, BROKEN = (
    "ggml-org/gemma-3-1b-it-GGUF:Q4_K_M",
    "unsloth/Qwen3-4B-GGUF:Q4_K_M",
    "broken/model-GGUF:Q4_K_M",
)


def router_models() -> list[FakeModel]:
    return [
        FakeModel(GEMMA, context_trained=32768, loaded=True),
        FakeModel(QWEN),
        FakeModel(BROKEN, load_fails=True),
    ]


def router_status(fake: FakeBackend, name: str) -> dict[str, Any]:
    entries = {m["id"]: m for m in call(fake.root_url + "/models").json()["data"]}
    status: dict[str, Any] = entries[name]["status"]
    return status


def test_router_props_say_router_with_build_info(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models())
    props = call(fake.root_url + "/props").json()
    assert props["role"] == "router"
    assert props["build_info"]
    assert props["default_generation_settings"]["n_ctx"] == 0
    assert call(fake.root_url + "/health").json() == {"status": "ok"}
    child = call(fake.root_url + f"/props?model={GEMMA}").json()
    assert child["default_generation_settings"]["n_ctx"] == 32768
    missing = call(fake.root_url + "/nothing")
    assert missing.json() == {"error": {"code": 404, "message": "File Not Found", "type": "not_found_error"}}


def test_router_lists_status_and_merges_meta_only_while_loaded(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models())
    for path in ("/models", "/v1/models"):
        entries = {m["id"]: m for m in call(fake.root_url + path).json()["data"]}
        assert entries[GEMMA]["status"]["value"] == "loaded"
        assert entries[GEMMA]["meta"]["n_ctx_train"] == 32768
        assert entries[QWEN]["status"]["value"] == "unloaded"
        assert "meta" not in entries[QWEN]
        assert entries[QWEN]["owned_by"] == "llamacpp"


def test_router_load_is_asynchronous(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models(), load_seconds=0.5)
    accepted = call(fake.root_url + "/models/load", "POST", {"model": QWEN})
    assert (accepted.status, accepted.json()) == (200, {"success": True})
    assert router_status(fake, QWEN)["value"] == "loading"
    again = call(fake.root_url + "/models/load", "POST", {"model": QWEN})
    assert again.status == 400
    assert again.json()["error"]["message"] == "model is already running"
    wait_until(lambda: router_status(fake, QWEN)["value"] == "loaded", WAIT, "the load to finish")
    assert fake.models[QWEN].loaded


def test_router_load_and_unload_errors(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models())
    unknown = call(fake.root_url + "/models/load", "POST", {"model": "nope"})
    assert (unknown.status, unknown.json()["error"]["message"]) == (404, "model is not found")
    idle = call(fake.root_url + "/models/unload", "POST", {"model": QWEN})
    assert (idle.status, idle.json()["error"]["message"]) == (400, "model is not running")
    done = call(fake.root_url + "/models/unload", "POST", {"model": GEMMA})
    assert done.json() == {"success": True}
    assert router_status(fake, GEMMA)["value"] == "unloaded"


def test_router_failed_load_shows_failed_with_exit_code(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models())
    assert call(fake.root_url + "/models/load", "POST", {"model": BROKEN}).status == 200
    wait_until(lambda: router_status(fake, BROKEN).get("failed"), WAIT, "the load to fail")
    status = router_status(fake, BROKEN)
    assert status["value"] == "unloaded"
    assert status["exit_code"] == 1


def test_router_routed_requests_autoload(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models(), busy=True)
    assert call(fake.root_url + "/slots").status == 400  # the router needs ?model=
    refused = call(fake.root_url + f"/slots?model={QWEN}&autoload=false")
    assert refused.json()["error"]["message"] == "model is not loaded"
    assert chat(fake, QWEN).status == 200  # loads the model first
    assert router_status(fake, QWEN)["value"] == "loaded"
    slots = call(fake.root_url + f"/slots?model={QWEN}").json()
    assert [slot["is_processing"] for slot in slots] == [True, False, False, False]
    assert call(fake.root_url + f"/metrics?model={QWEN}").status == 501


def test_router_unload_only_asks_the_child_to_exit(started: list[FakeBackend]) -> None:
    """server_models::unload: ``/models/unload`` answers at once; the child keeps its status until it
    has exited (the monitor's update_status), and it stays "running" for routing meanwhile."""
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models(), unload_seconds=1.5)
    assert call(fake.root_url + "/models/unload", "POST", {"model": GEMMA}).json() == {"success": True}
    assert router_status(fake, GEMMA)["value"] == "loaded"
    again = call(fake.root_url + "/models/unload", "POST", {"model": GEMMA})  # request_stop: once
    assert again.json() == {"success": True}
    refused = call(fake.root_url + "/models/load", "POST", {"model": GEMMA})
    assert refused.json()["error"]["message"] == "model is already running"
    wait_until(lambda: router_status(fake, GEMMA)["value"] == "unloaded", WAIT, "the child to exit")
    assert fake.touches == []


def test_a_routed_request_while_the_child_exits_loads_the_model_again(started: list[FakeBackend]) -> None:
    """ensure_model_ready: a stopping instance takes no request, the next instance serves it — the
    tray's ``/slots?model=`` poll after "Unload all" loaded the models again this way."""
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models(), unload_seconds=1.5)
    call(fake.root_url + "/models/unload", "POST", {"model": GEMMA})
    without_autoload = call(fake.root_url + f"/metrics?model={GEMMA}&autoload=false")
    assert without_autoload.status == 501  # proxied to the exiting child as is
    assert fake.touches == []
    assert call(fake.root_url + f"/slots?model={GEMMA}").status == 200
    assert router_status(fake, GEMMA)["value"] == "loaded"
    assert [t.request for t in fake.touches] == [f"GET /slots?model={GEMMA}"] * 2  # loads, then a task


def test_router_without_autoload_refuses_unloaded_models(started: list[FakeBackend]) -> None:
    """--no-models-autoload: router_validate_model answers 400 "model is not loaded"; a request's
    own ``?autoload=true`` still loads (is_autoload)."""
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models(), models_autoload=False)
    assert call(fake.root_url + "/props").json()["models_autoload"] is False
    refused = chat(fake, QWEN)
    assert (refused.status, refused.json()["error"]) == (
        400,
        {"code": 400, "message": "model is not loaded", "type": "invalid_request_error"},
    )
    assert chat(fake, GEMMA).status == 200  # a loaded one answers
    assert call(fake.root_url + f"/props?model={QWEN}&autoload=true").status == 200
    assert router_status(fake, QWEN)["value"] == "loaded"


def test_only_tasks_wake_a_sleeping_router_child(started: list[FakeBackend]) -> None:
    """README "Sleeping on Idle": /health, /props, /models, /metrics are exempt; /slots is a task."""
    models = [FakeModel(GEMMA, loaded=True, sleeping=True)]
    fake = run(started, Kind.LLAMACPP_ROUTER, models, metrics=True, busy=True)
    props = call(fake.root_url + f"/props?model={GEMMA}&autoload=false").json()
    metrics = call(fake.root_url + f"/metrics?model={GEMMA}&autoload=false").text
    assert props["is_sleeping"] is True and props["endpoint_metrics"] is True
    assert "llamacpp:requests_processing 0" in metrics  # asleep: nothing is being generated
    assert router_status(fake, GEMMA)["value"] == "sleeping" and fake.touches == []
    call(fake.root_url + f"/slots?model={GEMMA}&autoload=false")
    assert router_status(fake, GEMMA)["value"] == "loaded"
    assert [t.request for t in fake.touches] == [f"GET /slots?model={GEMMA}&autoload=false"]
    assert "llamacpp:requests_processing 1" in call(fake.root_url + f"/metrics?model={GEMMA}").text


@pytest.mark.parametrize("kind", [Kind.LLAMACPP_SINGLE, Kind.LLAMACPP_ROUTER])
def test_an_idle_llamacpp_model_falls_asleep_unless_tasks_keep_it_awake(
    started: list[FakeBackend], kind: Kind
) -> None:
    """--sleep-idle-seconds: the timer restarts on every task (server_queue::post), so a client
    asking ``/slots`` more often than that keeps the model awake for ever."""
    fake = run(started, kind, [FakeModel("m", loaded=True)], sleep_idle_seconds=1.0)
    single = kind is Kind.LLAMACPP_SINGLE
    slots = fake.root_url + ("/slots" if single else "/slots?model=m")
    props = fake.root_url + ("/props" if single else "/props?model=m&autoload=false")

    def asleep() -> bool:
        return bool(call(props).json()["is_sleeping"])

    assert call(slots).status == 200 and not asleep()  # a task has just restarted the timer
    wait_until(asleep, WAIT, "the idle model to fall asleep")  # /props is exempt: no restart
    assert call(slots).status == 200 and not asleep()  # a task wakes it
    assert len(fake.touches) == 2


@pytest.mark.parametrize("kind", [Kind.OLLAMA, Kind.LMSTUDIO, Kind.DMR, Kind.LOCALAI, Kind.LLAMACPP_SINGLE])
def test_a_chat_request_is_recorded_as_a_touch(started: list[FakeBackend], kind: Kind) -> None:
    """The other side of the no-wake tests: what uses a model is seen (they could fail)."""
    fake = run(started, kind)
    name = next(iter(fake.models))
    assert chat(fake, name).status == 200
    assert [t.model for t in fake.touches] == [name]


def test_router_download_and_load_over_sse(started: list[FakeBackend]) -> None:
    new = "ggml-org/SmolLM2-135M-GGUF:Q8_0"
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models(), pullable={new: 5000}, pull_step_seconds=0.01)
    events = SseReader(fake)
    try:
        assert call(fake.root_url + "/models", "POST", {"model": new}).json() == {"success": True}
        seen = events.until("download_finished", new)
        assert seen[0] == {"model": new, "event": "model_status", "data": {"status": "downloading"}}
        progress = [e["data"] for e in seen if e["event"] == "download_progress"]
        (url,) = progress[-1]
        assert [p[url]["done"] for p in progress] == sorted(p[url]["done"] for p in progress)
        assert progress[-1][url] == {"done": 5000, "total": 5000}
        assert events.next() == {"model": "*", "event": "models_reload"}
        assert router_status(fake, new)["value"] == "unloaded"

        assert call(fake.root_url + "/models/load", "POST", {"model": new}).status == 200
        statuses = [
            e["data"]["status"] for e in events.until("model_status", new) + events.until("model_status", new)
        ]
        assert statuses == ["loading", "loaded"]
    finally:
        events.close()


def test_router_download_errors(started: list[FakeBackend]) -> None:
    new = "ggml-org/SmolLM2-135M-GGUF:Q8_0"
    fake = run(
        started,
        Kind.LLAMACPP_ROUTER,
        router_models(),
        pullable={new: 5000, GEMMA: 5000},
        pull_step_seconds=0.01,
        pull_fail_at_step=2,
    )
    unknown = call(fake.root_url + "/models", "POST", {"model": "nobody/nothing"})
    assert unknown.json() == {
        "error": {
            "code": 400,
            "message": "model validation failed, unable to download",
            "type": "invalid_request_error",
        }
    }
    exists = call(fake.root_url + "/models", "POST", {"model": GEMMA})
    assert exists.json()["error"]["message"] == f"model '{GEMMA}' already exists"
    events = SseReader(fake)
    try:
        assert call(fake.root_url + "/models", "POST", {"model": new}).status == 200
        assert events.until("download_failed", new)[-1] == {"model": new, "event": "download_failed"}
    finally:
        events.close()
    assert new not in fake.models


def test_router_download_cancelled_by_unload(started: list[FakeBackend]) -> None:
    new = "ggml-org/SmolLM2-135M-GGUF:Q8_0"
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models(), pullable={new: 5000}, pull_steps=200)
    assert call(fake.root_url + "/models", "POST", {"model": new}).status == 200
    assert router_status(fake, new)["value"] == "downloading"
    assert call(fake.root_url + "/models/unload", "POST", {"model": new}).json() == {"success": True}
    assert fake.pulls_cancelled == 1
    assert new not in {m["id"] for m in call(fake.root_url + "/models").json()["data"]}


def test_older_router_has_no_download_api(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models(), router_sse=False)
    assert call(fake.root_url + "/models", "POST", {"model": "x/y"}).status == 404
    assert call(fake.root_url + "/models/sse").status == 404
    assert call(fake.root_url + "/models").status == 200


def test_router_lie_loaded_and_outside_changes(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models(), lie_loaded={QWEN})
    assert router_status(fake, QWEN)["value"] == "loaded"
    refused = call(fake.root_url + "/models/unload", "POST", {"model": QWEN})
    assert (refused.status, refused.json()["error"]["message"]) == (400, "model is not found")
    events = SseReader(fake)
    try:
        fake.set_loaded(GEMMA, False)
        assert events.next() == {"model": GEMMA, "event": "model_status", "data": {"status": "unloaded"}}
    finally:
        events.close()
    assert router_status(fake, GEMMA)["value"] == "unloaded"
    fake.models[GEMMA].loaded = True
    fake.models[GEMMA].sleeping = True
    assert router_status(fake, GEMMA)["value"] == "sleeping"


def test_router_load_that_never_finishes_stays_loading(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models(), load_never_finishes=True)
    assert call(fake.root_url + "/models/load", "POST", {"model": QWEN}).status == 200
    assert router_status(fake, QWEN)["value"] == "loading"
    assert call(fake.root_url + "/models/unload", "POST", {"model": QWEN}).status == 200  # kills it
    assert router_status(fake, QWEN)["value"] == "unloaded"


def test_single_llamacpp_props_slots_and_the_models_trap(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_SINGLE, [FakeModel("gemma-3-1b", context_trained=32768)], busy=True)
    props = call(fake.root_url + "/props").json()
    assert props["default_generation_settings"]["n_ctx"] == 32768
    assert props["total_slots"] == 4
    assert props["model_alias"] == "gemma-3-1b"
    assert props["build_info"]
    assert props["is_sleeping"] is False
    assert "role" not in props

    for path in ("/models", "/v1/models"):  # one handler: both carry the Ollama-shaped stub
        listing = call(fake.root_url + path).json()
        assert listing["models"][0]["name"] == "gemma-3-1b"
        assert listing["models"][0]["size"] == ""
        (entry,) = listing["data"]
        assert entry["owned_by"] == "llamacpp"
        assert entry["meta"]["n_ctx_train"] == 32768

    slots = call(fake.root_url + "/slots").json()
    assert slots[0]["is_processing"] is True
    assert call(fake.root_url + "/health").json() == {"status": "ok"}
    metrics = call(fake.root_url + "/metrics")
    assert (metrics.status, metrics.json()["error"]["type"]) == (501, "not_supported_error")
    assert call(fake.root_url + "/models/load", "POST", {"model": "gemma-3-1b"}).status == 404


def test_single_llamacpp_sleeps_until_slots_wake_it(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_SINGLE, [FakeModel("gemma-3-1b", sleeping=True)])
    assert call(fake.root_url + "/props").json()["is_sleeping"] is True
    assert call(fake.root_url + "/props").json()["is_sleeping"] is True  # /props does not wake it
    call(fake.root_url + "/slots")
    assert call(fake.root_url + "/props").json()["is_sleeping"] is False


def test_llamacpp_keeps_health_and_models_public(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_SINGLE, [FakeModel("gemma-3-1b")], api_key="sk-fake")
    assert call(fake.root_url + "/health").status == 200
    assert call(fake.root_url + "/v1/models").status == 200
    refused = call(fake.root_url + "/props")
    assert refused.json() == {
        "error": {"code": 401, "message": "Invalid API Key", "type": "authentication_error"}
    }


# ---------------------------------------------------------------------------------------------- LM Studio


def lms_models() -> list[FakeModel]:
    return [FakeModel("qwen/qwen3-4b", context_trained=32768), FakeModel("google/gemma-3-1b", loaded=True)]


def lms_entry(fake: FakeBackend, key: str) -> dict[str, Any]:
    entries = {m["key"]: m for m in call(fake.root_url + "/api/v1/models").json()["models"]}
    entry: dict[str, Any] = entries[key]
    return entry


def test_lmstudio_lists_keys_and_instances(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LMSTUDIO, lms_models())
    qwen = lms_entry(fake, "qwen/qwen3-4b")
    assert qwen["loaded_instances"] == []
    assert qwen["max_context_length"] == 32768
    assert (qwen["type"], qwen["format"], qwen["display_name"]) == ("llm", "gguf", "Qwen3 4B")
    assert qwen["size_bytes"] == 100_000_000
    (instance,) = lms_entry(fake, "google/gemma-3-1b")["loaded_instances"]
    assert instance["id"] == "google/gemma-3-1b"
    assert instance["config"]["context_length"] == 4096
    states = {m["id"]: m["state"] for m in call(fake.root_url + "/api/v0/models").json()["data"]}
    assert states == {"qwen/qwen3-4b": "not-loaded", "google/gemma-3-1b": "loaded"}
    assert call(fake.root_url + "/api/v0/models/qwen/qwen3-4b").json()["state"] == "not-loaded"


def test_lmstudio_load_is_synchronous_and_adds_instances(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LMSTUDIO, lms_models(), load_seconds=0.05)
    first = call(
        fake.root_url + "/api/v1/models/load", "POST", {"model": "qwen/qwen3-4b", "context_length": 8192}
    )
    assert first.status == 200
    assert first.json()["status"] == "loaded"
    assert first.json()["instance_id"] == "qwen/qwen3-4b"
    assert first.json()["load_time_seconds"] >= 0
    assert [i["config"]["context_length"] for i in lms_entry(fake, "qwen/qwen3-4b")["loaded_instances"]] == [
        8192
    ]
    second = call(fake.root_url + "/api/v1/models/load", "POST", {"model": "qwen/qwen3-4b"}).json()
    assert second["instance_id"] == "qwen/qwen3-4b:2"
    assert len(lms_entry(fake, "qwen/qwen3-4b")["loaded_instances"]) == 2

    unloaded = call(fake.root_url + "/api/v1/models/unload", "POST", {"instance_id": "qwen/qwen3-4b:2"})
    assert unloaded.json() == {"instance_id": "qwen/qwen3-4b:2"}
    call(fake.root_url + "/api/v1/models/unload", "POST", {"instance_id": "qwen/qwen3-4b"})
    assert lms_entry(fake, "qwen/qwen3-4b")["loaded_instances"] == []
    assert not fake.models["qwen/qwen3-4b"].loaded
    again = call(fake.root_url + "/api/v1/models/unload", "POST", {"instance_id": "qwen/qwen3-4b"})
    assert again.status == 404
    unknown = call(fake.root_url + "/api/v1/models/load", "POST", {"model": "nope"})
    assert (unknown.status, unknown.json()["error"]["code"]) == (404, "model_not_found")


def test_lmstudio_chat_loads_just_in_time(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LMSTUDIO, lms_models())
    assert chat(fake, "qwen/qwen3-4b").status == 200
    assert [i["id"] for i in lms_entry(fake, "qwen/qwen3-4b")["loaded_instances"]] == ["qwen/qwen3-4b"]


def test_lmstudio_download_job_progresses_to_completion(started: list[FakeBackend]) -> None:
    fake = run(
        started, Kind.LMSTUDIO, lms_models(), pullable={"openai/gpt-oss-20b": 10_000}, pull_step_seconds=0.01
    )
    started_job = call(
        fake.root_url + "/api/v1/models/download", "POST", {"model": "openai/gpt-oss-20b"}
    ).json()
    assert started_job["status"] == "downloading"
    assert started_job["total_size_bytes"] == 10_000
    status_url = f"{fake.root_url}/api/v1/models/download/status/{started_job['job_id']}"
    seen: list[int] = []

    def completed() -> bool:
        job = call(status_url).json()
        seen.append(job["downloaded_bytes"])
        return bool(job["status"] == "completed")

    wait_until(completed, WAIT, "the download job to complete")
    assert seen == sorted(seen)
    assert seen[-1] == 10_000
    assert "completed_at" in call(status_url).json()
    assert lms_entry(fake, "openai/gpt-oss-20b")["loaded_instances"] == []
    again = call(fake.root_url + "/api/v1/models/download", "POST", {"model": "openai/gpt-oss-20b"}).json()
    assert again == {"status": "already_downloaded"}
    assert call(fake.root_url + "/api/v1/models/download/status/job_nope").status == 404


def test_lmstudio_download_failures(started: list[FakeBackend]) -> None:
    fake = run(
        started,
        Kind.LMSTUDIO,
        lms_models(),
        pullable={"openai/gpt-oss-20b": 10_000},
        pull_step_seconds=0.01,
        pull_fail_at_step=2,
    )
    assert call(fake.root_url + "/api/v1/models/download", "POST", {"model": "nobody/nothing"}).status == 404
    job = call(fake.root_url + "/api/v1/models/download", "POST", {"model": "openai/gpt-oss-20b"}).json()
    status_url = f"{fake.root_url}/api/v1/models/download/status/{job['job_id']}"
    wait_until(lambda: call(status_url).json()["status"] == "failed", WAIT, "the job to fail")
    assert "openai/gpt-oss-20b" not in fake.models


def test_lmstudio_lie_loaded_instance_cannot_be_unloaded(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LMSTUDIO, lms_models(), lie_loaded={"qwen/qwen3-4b"})
    assert [i["id"] for i in lms_entry(fake, "qwen/qwen3-4b")["loaded_instances"]] == ["qwen/qwen3-4b"]
    refused = call(fake.root_url + "/api/v1/models/unload", "POST", {"instance_id": "qwen/qwen3-4b"})
    assert refused.status == 404
    assert fake.models["qwen/qwen3-4b"].loaded


def test_lmstudio_v0_has_no_native_v1_api(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LMSTUDIO_V0, lms_models())
    missing = call(fake.root_url + "/api/v1/models")
    assert missing.status == 404
    assert missing.json() == {"error": "Unexpected endpoint or method. (GET /api/v1/models)"}
    assert call(fake.root_url + "/api/v1/models/load", "POST", {"model": "qwen/qwen3-4b"}).status == 404
    assert chat(fake, "qwen/qwen3-4b").status == 200  # JIT loading is the only way
    states = {m["id"]: m["state"] for m in call(fake.root_url + "/api/v0/models").json()["data"]}
    assert states["qwen/qwen3-4b"] == "loaded"


# ---------------------------------------------------------------------------------------------- DMR


def dmr_models() -> list[FakeModel]:
    return [FakeModel("ai/smollm2:latest", size_bytes=268_800_000, context_trained=8192)]


def test_dmr_detection_and_the_ollama_compat_trap(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.DMR, dmr_models())
    assert call(fake.root_url + "/").text == "Docker Model Runner is running"
    assert "version" in call(fake.root_url + "/version").json()
    assert call(fake.root_url + "/api/version").json() == {"version": "0.1.0"}  # not Ollama
    (tag,) = call(fake.root_url + "/api/tags").json()["models"]
    assert (tag["name"], tag["size"]) == ("ai/smollm2:latest", 0)
    assert call(fake.root_url + "/nowhere").text == "404 page not found\n"


def test_dmr_lists_models_natively_and_openai_style(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.DMR, dmr_models())
    (native,) = call(fake.root_url + "/models").json()
    assert native["id"].startswith("sha256:")
    assert native["tags"] == ["ai/smollm2:latest"]
    assert native["config"]["size"] == "256.35 MiB"
    assert native["config"]["format"] == "gguf"
    for base in ("/engines/v1", "/v1"):
        (entry,) = call(fake.root_url + base + "/models").json()["data"]
        assert entry["owned_by"] == "docker"
        assert entry["dmr"]["context_window"] == 8192
    assert call(fake.root_url + "/models/smollm2").json()["tags"] == ["ai/smollm2:latest"]


def test_dmr_preloads_by_header_and_unloads_runners(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.DMR, dmr_models())
    assert call(fake.root_url + "/engines/ps").json() == []
    preload = call(
        fake.base_url + "/chat/completions", "POST", {"model": "smollm2"}, {"X-Preload-Only": "true"}
    )
    assert (preload.status, preload.text) == (200, "")
    (runner,) = call(fake.root_url + "/engines/ps").json()
    assert runner["model_name"] == "ai/smollm2:latest"
    assert runner["backend_name"] == "llama.cpp"
    assert "in_use" not in runner
    assert "loading" not in runner
    nothing = call(fake.root_url + "/engines/unload", "POST", {"all": False, "models": ["ai/other"]})
    assert nothing.json() == {"unloaded_runners": 0}
    unloaded = call(fake.root_url + "/engines/unload", "POST", {"all": False, "models": ["ai/smollm2"]})
    assert unloaded.json() == {"unloaded_runners": 1}
    assert call(fake.root_url + "/engines/ps").json() == []


def test_dmr_busy_runner_is_in_use_and_stays(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.DMR, [FakeModel("ai/smollm2:latest", loaded=True)], busy=True)
    (runner,) = call(fake.root_url + "/engines/ps").json()
    assert runner["in_use"] is True
    assert call(fake.root_url + "/engines/unload", "POST", {"all": True}).json() == {"unloaded_runners": 0}


def test_dmr_load_that_never_finishes_shows_loading(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.DMR, dmr_models(), load_never_finishes=True)
    outcome: list[BaseException] = []

    def preload() -> None:
        try:
            call(
                fake.base_url + "/chat/completions",
                "POST",
                {"model": "ai/smollm2"},
                {"X-Preload-Only": "true"},
            )
        except OSError as error:  # the fake stops under it
            outcome.append(error)

    worker = threading.Thread(target=preload)
    worker.start()
    try:
        runners = wait_until(lambda: call(fake.root_url + "/engines/ps").json(), WAIT, "the runner to appear")
        assert runners[0]["loading"] is True
        assert not fake.models["ai/smollm2:latest"].loaded
    finally:
        fake.stop()
        worker.join(WAIT)
    assert not worker.is_alive()


def test_dmr_create_streams_json_progress(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.DMR, dmr_models(), pullable={"ai/gemma3": 50_000}, pull_step_seconds=0.01)
    lines = call(
        fake.root_url + "/models/create", "POST", {"from": "ai/gemma3"}, {"Accept": "application/json"}
    ).lines()
    progress = [line for line in lines if line["type"] == "progress"]
    assert len(progress) == 5
    assert all(line["total"] == 50_000 and line["layer"]["size"] == 50_000 for line in progress)
    assert [line["layer"]["current"] for line in progress][-1] == 50_000
    assert lines[-1]["type"] == "success"
    assert lines[-1]["mode"] == "pull"
    assert "ai/gemma3:latest" in fake.models
    assert not fake.models["ai/gemma3:latest"].loaded
    cached = call(
        fake.root_url + "/models/create", "POST", {"from": "ai/gemma3"}, {"Accept": "application/json"}
    )
    assert cached.lines()[-1]["message"].startswith("Using cached model")


def test_dmr_create_errors(started: list[FakeBackend]) -> None:
    fake = run(
        started,
        Kind.DMR,
        dmr_models(),
        pullable={"ai/gemma3": 50_000},
        pull_step_seconds=0.01,
        pull_fail_at_step=3,
    )
    unknown = call(
        fake.root_url + "/models/create", "POST", {"from": "ai/nope"}, {"Accept": "application/json"}
    )
    assert (unknown.status, unknown.text) == (404, "Model not found\n")
    failed = call(
        fake.root_url + "/models/create", "POST", {"from": "ai/gemma3"}, {"Accept": "application/json"}
    )
    *progress, error_line, tail = failed.text.splitlines()
    assert len(progress) == 2
    assert json.loads(error_line)["type"] == "error"
    assert tail == "writing image to store: unexpected EOF"  # plain text after the JSON lines
    assert "ai/gemma3:latest" not in fake.models


def test_dmr_create_without_json_accept_is_escaped_text(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.DMR, dmr_models(), pullable={"ai/gemma3": 50_000}, pull_step_seconds=0.01)
    reply = call(fake.root_url + "/models/create", "POST", {"from": "ai/gemma3"})
    assert reply.headers["Content-Type"] == "text/plain"
    assert reply.text.splitlines()[-1].startswith("{&#34;type&#34;:&#34;success&#34;")


# ---------------------------------------------------------------------------------------------- LocalAI


def test_localai_detection_and_loaded_models(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LOCALAI, [FakeModel("phi-2", loaded=True), FakeModel("llama-3.2-1b")], busy=True)
    assert "monitoring" in call(fake.root_url + "/.well-known/localai.json").json()["endpoint_groups"]
    assert "version" in call(fake.root_url + "/version").json()
    assert call(fake.root_url + "/readyz").status == 200
    assert call(fake.root_url + "/").headers["Content-Type"].startswith("text/html")
    assert call(fake.root_url + "/system").json()["loaded_models"] == [
        {"id": "phi-2", "backend": "llama-cpp"}
    ]
    monitor = call(fake.root_url + "/backend/monitor?model=phi-2").json()
    assert monitor["state"] == 1  # BUSY
    assert monitor["memory"]["total"] > 0
    idle = call(fake.root_url + "/backend/monitor?model=llama-3.2-1b")
    assert idle.status == 500
    missing = call(fake.root_url + "/nothing")
    assert missing.json() == {"error": {"code": 404, "message": "Resource not found", "type": ""}}


def test_localai_load_and_shutdown(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LOCALAI, [FakeModel("phi-2")])
    loaded = call(fake.root_url + "/backend/load", "POST", {"model": "phi-2"})
    assert loaded.json() == {"loaded": ["phi-2"], "message": "model loaded"}
    assert [m["id"] for m in call(fake.root_url + "/system").json()["loaded_models"]] == ["phi-2"]
    stopped = call(fake.root_url + "/backend/shutdown", "POST", {"model": "phi-2"})
    assert stopped.json() == {"message": "model stopped"}
    assert call(fake.root_url + "/system").json()["loaded_models"] == []
    assert call(fake.root_url + "/backend/shutdown", "POST", {"model": "phi-2"}).status == 404


def test_localai_gallery_job_progresses_and_fails(started: list[FakeBackend]) -> None:
    fake = run(
        started,
        Kind.LOCALAI,
        [FakeModel("phi-2")],
        pullable={"localai@qwen3-4b": 9000},
        pull_step_seconds=0.01,
    )
    applied = call(fake.root_url + "/models/apply", "POST", {"id": "localai@qwen3-4b"}).json()
    assert applied["status"] == f"{fake.root_url}/models/jobs/{applied['uuid']}"
    seen: list[float] = []

    def processed() -> bool:
        job = call(applied["status"]).json()
        seen.append(job["progress"])
        return bool(job["processed"])

    wait_until(processed, WAIT, "the gallery job to finish")
    job = call(applied["status"]).json()
    assert (job["message"], job["progress"], job["error"]) == ("completed", 100.0, None)
    assert seen == sorted(seen)
    assert "qwen3-4b" in [m["id"] for m in call(fake.root_url + "/v1/models").json()["data"]]

    unknown = call(fake.root_url + "/models/apply", "POST", {"id": "localai@nope"}).json()
    failed = call(unknown["status"]).json()
    assert failed["processed"] is True
    assert failed["error"]
    assert call(fake.root_url + "/models/jobs/not-a-job").status == 500


# ---------------------------------------------------------------------------------------------- vLLM, Jan, generic


def test_vllm_version_health_models_and_metrics(started: list[FakeBackend]) -> None:
    fake = run(
        started, Kind.VLLM, [FakeModel("Qwen/Qwen2.5-0.5B-Instruct", context_trained=32768)], busy=True
    )
    assert "version" in call(fake.root_url + "/version").json()
    health = call(fake.root_url + "/health")
    assert (health.status, health.text) == (200, "")
    (entry,) = call(fake.base_url + "/models").json()["data"]
    assert (entry["owned_by"], entry["max_model_len"], entry["root"]) == ("vllm", 32768, entry["id"])
    metrics = call(fake.root_url + "/metrics").text
    assert 'vllm:num_requests_running{engine="0",model_name="Qwen/Qwen2.5-0.5B-Instruct"} 1.0' in metrics
    assert call(fake.root_url + "/props").json() == {"detail": "Not Found"}


def test_vllm_key_guards_only_v1(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.VLLM, [FakeModel("m")], api_key="sk-fake")
    assert call(fake.root_url + "/health").status == 200
    assert call(fake.root_url + "/metrics").status == 200
    refused = call(fake.base_url + "/models")
    assert (refused.status, refused.json()) == (401, {"error": "Unauthorized"})


def test_jan_lists_only_running_models(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.JAN, [FakeModel("llama3.2-1b"), FakeModel("qwen3-4b")], api_key="sk-fake")
    key = {"Authorization": "Bearer sk-fake"}
    assert call(fake.base_url + "/models", headers=key).json()["data"] == []
    none_running = chat(fake, "llama3.2-1b", headers=key)
    assert (none_running.status, none_running.text) == (503, "No models are available")
    fake.set_loaded("qwen3-4b", True)
    assert [m["id"] for m in call(fake.base_url + "/models", headers=key).json()["data"]] == ["qwen3-4b"]
    other = chat(fake, "llama3.2-1b", headers=key)
    assert (other.status, other.text) == (404, "No running session found for model 'llama3.2-1b'")
    assert call(fake.root_url + "/openapi.json").status == 200  # whitelisted: no key needed
    assert call(fake.root_url + "/api/v1/models", headers=key).text == "Not Found"


def test_generic_has_only_models_and_chat(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.GENERIC, [FakeModel("m")])
    assert call(fake.root_url + "/").status == 404
    assert call(fake.root_url + "/api/tags").status == 404
    assert call(fake.root_url + "/props").status == 404
    assert call(fake.base_url + "/models").status == 200


# ---------------------------------------------------------------------------------------------- the rest


def test_ollama_quiet_pull_and_delete(started: list[FakeBackend]) -> None:
    fake = run(
        started, Kind.OLLAMA, ollama_models(), pullable={"smollm2:latest": 1000}, pull_step_seconds=0.01
    )
    quiet = call(fake.root_url + "/api/pull", "POST", {"model": "smollm2", "stream": False})
    assert (quiet.status, quiet.json()) == (200, {"status": "success"})
    assert "smollm2:latest" in fake.models
    refused = call(fake.root_url + "/api/pull", "POST", {"model": "nope", "stream": False})
    assert (refused.status, refused.json()) == (500, {"error": "pull model manifest: file does not exist"})
    assert call(fake.root_url + "/api/delete", "DELETE", {"model": "smollm2"}).status == 200
    assert "smollm2:latest" not in fake.models
    assert call(fake.root_url + "/api/delete", "DELETE", {"model": "smollm2"}).status == 404


def test_router_removes_a_cached_model(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models())
    assert call(fake.root_url + f"/models?model={QWEN}", "DELETE").json() == {"success": True}
    assert QWEN not in {m["id"] for m in call(fake.root_url + "/models").json()["data"]}
    assert call(fake.root_url + f"/models?model={QWEN}", "DELETE").status == 500


def test_lmstudio_lists_every_download_job(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LMSTUDIO, lms_models(), pullable={"a/b": 100}, pull_step_seconds=0.01)
    job = call(fake.root_url + "/api/v1/models/download", "POST", {"model": "a/b"}).json()
    url = fake.root_url + "/api/v1/models/download/status"
    wait_until(lambda: call(url).json()["completed"], WAIT, "the job to be listed as completed")
    groups = call(url).json()
    assert set(groups) == {"downloading", "completed", "failed", "paused"}
    assert [j["job_id"] for j in groups["completed"]] == [job["job_id"]]


def test_usage_chunk_when_asked_for(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.GENERIC, [FakeModel("m")])
    body = {"model": "m", "messages": [], "stream": True, "stream_options": {"include_usage": True}}
    events = call(fake.base_url + "/chat/completions", "POST", body).sse()
    usage = events[-2]
    assert usage["choices"] == []
    assert usage["usage"]["completion_tokens"] == 3


@pytest.mark.parametrize("kind", [Kind.OLLAMA, Kind.LMSTUDIO, Kind.LOCALAI])
def test_a_load_that_never_finishes_blocks_until_stop(started: list[FakeBackend], kind: Kind) -> None:
    fake = run(started, kind, [FakeModel("m")], load_never_finishes=True)
    load = {
        Kind.OLLAMA: ("/api/generate", {"model": "m"}),
        Kind.LMSTUDIO: ("/api/v1/models/load", {"model": "m"}),
        Kind.LOCALAI: ("/backend/load", {"model": "m"}),
    }[kind]
    failures: list[BaseException] = []

    def loader() -> None:
        try:
            call(fake.root_url + load[0], "POST", load[1])
        except OSError as error:  # the fake stops under it: no answer ever comes
            failures.append(error)

    worker = threading.Thread(target=loader)
    worker.start()
    try:
        wait_until(lambda: fake._loading, WAIT, "the load to start")
        assert not fake.models["m"].loaded
    finally:
        fake.stop()
        worker.join(WAIT)
    assert not worker.is_alive()
    assert failures
    assert not fake.models["m"].loaded


def test_stop_ends_open_event_streams(started: list[FakeBackend]) -> None:
    fake = run(started, Kind.LLAMACPP_ROUTER, router_models())
    events = SseReader(fake)
    try:
        fake.stop()
        assert events.response.readline() == b""  # the stream ends instead of hanging
    finally:
        events.close()
