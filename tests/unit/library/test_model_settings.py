"""Per-model settings made concrete: the auto context against known machine figures, the words shown,
template checks, default sampling that never overrides a client, edits that keep nothing half-done,
the pool planning each load from the settings saved now, and the front adding the defaults."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pytest

from tests.unit.library.fakes import MB, FakeLauncher, library
from trayai.core.errors import ConfigError
from trayai.core.library.fit import RUNTIME_OVERHEAD, ModelShape
from trayai.core.library.front import OnDemandFront
from trayai.core.library.load_plans import LiveModelSettings, ModelPlanner
from trayai.core.library.model_settings import (
    Machine,
    ModelFacts,
    TemplateKind,
    auto_context,
    changed_on_reload,
    context_at,
    resolve,
    set_values,
    template_kind,
    template_problem,
    with_sampling_defaults,
)
from trayai.core.library.pool import EnginePool, PoolConfig
from trayai.core.paths import AppPaths
from trayai.core.settings.config import ModelSettings, Settings
from trayai.core.settings.store import ConfigStore

GB = 1_000_000_000
# 28 layers × 8 KV heads × (128 + 128) × 2 bytes = 114,688 bytes of KV cache per token (an 8B-ish model).
SHAPE = ModelShape(layers=28, kv_heads=8, key_length=128, value_length=128, context_length=40_960)
PER_TOKEN = 28 * 8 * 256 * 2
WEIGHTS = 5 * GB
OVERHEAD = RUNTIME_OVERHEAD


def _facts(shape: ModelShape | None = SHAPE) -> ModelFacts:
    return ModelFacts(WEIGHTS, shape)


def _need(tokens: int) -> int:
    return WEIGHTS + tokens * PER_TOKEN + OVERHEAD


@pytest.mark.parametrize(
    ("free", "tokens"),
    [
        (_need(40_960), 40_960),  # the model's own context fits exactly
        (_need(40_960) - 1, 32_768),
        (_need(16_384), 16_384),
        (_need(8_192) + 10 * MB, 8_192),
        (_need(4_096), 4_096),
        (_need(2_048), 2_048),
    ],
)
def test_auto_context_is_the_largest_step_that_fits(free: int, tokens: int) -> None:
    choice = auto_context(_facts(), free)
    assert (choice.tokens, choice.auto, choice.fits) == (tokens, True, True)
    assert choice.need == _need(tokens)


def test_auto_context_never_exceeds_what_the_model_was_trained_for() -> None:
    short = ModelShape(layers=30, kv_heads=3, key_length=64, value_length=64, context_length=8_192)
    assert auto_context(ModelFacts(100 * MB, short), 100 * GB).tokens == 8_192
    tiny = ModelShape(layers=4, kv_heads=1, key_length=8, value_length=8, context_length=1_024)
    assert auto_context(ModelFacts(MB, tiny), 100 * GB).tokens == 1_024


def test_when_nothing_fits_auto_is_the_smallest_and_says_so() -> None:
    choice = auto_context(_facts(), 2 * GB)
    assert (choice.tokens, choice.fits) == (2_048, False)
    assert choice.words == f"auto (2,048 — too large (needs ~{_need(2048) / 1e9:.1f} GB, 2.0 GB free))"


def test_the_words_show_the_value_and_its_fit() -> None:
    free = 7_100_000_000
    choice = auto_context(_facts(), free)
    assert choice.tokens == 16_384
    assert choice.words == "auto (16,384 — fits 7.1 GB free)"
    set_large = context_at(_facts(), 40_960, free)
    assert set_large.fit_words == f"too large (needs ~{_need(40_960) / 1e9:.1f} GB, 7.1 GB free)"
    assert set_large.words.startswith("40,960 — too large")
    assert context_at(_facts(), 4_096, free).fit_words == "fits"


def test_a_file_whose_header_cannot_be_read_gets_a_guess_said_as_one() -> None:
    choice = auto_context(_facts(shape=None), 100 * GB)
    assert (choice.tokens, choice.known) == (4_096, False)
    assert "unreadable" in choice.words


def test_resolve_takes_each_set_value_and_chooses_the_rest() -> None:
    machine = Machine(free=100 * GB, threads=3, gpu=False)
    auto = resolve(ModelSettings("m"), _facts(), machine)
    assert (auto.context.tokens, auto.threads, auto.threads_auto, auto.sampling) == (40_960, 3, True, {})
    own = ModelSettings("m", context_size=8_192, threads=1, gpu_layers=20, temperature=0.2, max_tokens=64)
    chosen = resolve(own, _facts(), machine)
    assert (chosen.context.tokens, chosen.context.auto, chosen.threads, chosen.threads_auto) == (
        8_192,
        False,
        1,
        False,
    )
    assert chosen.sampling == {"temperature": 0.2, "max_tokens": 64}
    assert chosen.plan().gpu_layers is None  # no GPU in this engine build: the setting means nothing
    with_gpu = resolve(own, _facts(), Machine(free=100 * GB, threads=3, gpu=True))
    assert with_gpu.plan().gpu_layers == 20
    assert with_gpu.plan().need == _need(8_192)


def test_template_names_and_files_are_checked(tmp_path: Path) -> None:
    assert template_problem("") is None
    assert template_problem("chatml") is None and template_kind("chatml") is TemplateKind.NAME
    assert "not one of llama.cpp's built-in chat templates" in (template_problem("chatmel") or "")
    missing = tmp_path / "none.jinja"
    assert template_problem(str(missing)) == f"No chat template file at {missing}"
    plain = tmp_path / "plain.jinja"
    plain.write_text("just words")
    assert "holds no Jinja" in (template_problem(str(plain)) or "")
    binary = tmp_path / "bin.jinja"
    binary.write_bytes(b"\xff\xfe{{")
    assert "not UTF-8" in (template_problem(str(binary)) or "")
    good = tmp_path / "good.jinja"
    good.write_text("{% for m in messages %}{{ m.content }}{% endfor %}")
    assert template_problem(str(good)) is None and template_kind(str(good)) is TemplateKind.FILE


def test_default_sampling_fills_only_what_the_request_leaves_out() -> None:
    defaults = {"temperature": 0.2, "top_k": 20, "max_tokens": 64}
    assert with_sampling_defaults({"model": "m"}, defaults) == {
        "model": "m",
        "temperature": 0.2,
        "top_k": 20,
        "max_tokens": 64,
    }
    own = {"model": "m", "temperature": 1.3, "top_k": None, "max_completion_tokens": 5}
    assert with_sampling_defaults(own, defaults) is None  # the client said each one: nothing added
    assert with_sampling_defaults({"model": "m", "n_predict": 9}, {"max_tokens": 64}) is None
    assert with_sampling_defaults({"model": "m"}, {}) is None


def test_set_values_checks_everything_before_changing_anything(tmp_path: Path) -> None:
    settings = Settings()
    set_values(settings, "qwen", {"context_size": 8_192, "temperature": 0.3})
    assert settings.model_entry("qwen") == ModelSettings("qwen", context_size=8_192, temperature=0.3)
    for bad, words in (
        ({"threads": 2, "temperature": 9.0}, "temperature: 9.0 is outside 0.0…2.0"),
        ({"context_size": 10}, "context_size: 10 is outside 256…1048576"),
        ({"chat_template": "nope"}, "not one of llama.cpp's built-in"),
        ({"colour": 1}, "'colour' is not a per-model setting"),
        ({"top_k": 1.5}, "expected a whole number"),
    ):
        with pytest.raises(ConfigError, match=words.replace("(", r"\(").replace(")", r"\)")):
            set_values(settings, "qwen", bad)
        assert settings.model_settings == [ModelSettings("qwen", context_size=8_192, temperature=0.3)]
    set_values(settings, "qwen", {"context_size": None, "temperature": None})
    assert settings.model_settings == []  # all auto again: no entry left


def test_changed_on_reload_names_the_load_settings_only() -> None:
    before = ModelSettings("m", context_size=4_096)
    after = ModelSettings("m", context_size=8_192, temperature=0.1, chat_template="chatml")
    assert changed_on_reload(before, after) == ["context_size", "chat_template"]


# ---------------------------------------------------------------- the on-demand side


def test_live_settings_follow_the_file_as_another_process_saves_it(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    live = LiveModelSettings(store)
    assert live.entry("a") == ModelSettings("a")
    store.update(lambda s: set_values(s, "a", {"context_size": 2_048}))
    assert live.entry("a").context_size == 2_048
    store.update(lambda s: set_values(s, "a", {"context_size": 3_000, "top_p": 0.5}))
    assert (live.entry("a").context_size, live.entry("a").top_p) == (3_000, 0.5)
    store.path.unlink()
    assert live.entry("a") == ModelSettings("a")


@pytest.mark.anyio
async def test_each_load_is_planned_from_the_settings_saved_then(tmp_path: Path, paths: AppPaths) -> None:
    store = ConfigStore(paths)
    store.update(lambda s: set_values(s, "a", {"context_size": 2_048, "threads": 1}))
    planner = ModelPlanner(
        LiveModelSettings(store).entry, lambda: Machine(free=100 * GB, threads=2, gpu=False)
    )
    launcher = FakeLauncher()
    pool = EnginePool(
        lambda: library(tmp_path, "a", "b"), launcher, PoolConfig(keep_alive=math.inf), plan=planner.plan
    )
    await pool.load("a")
    await pool.load("b")
    first, other = launcher.plans
    assert first is not None and other is not None
    assert (first.context, first.threads) == (2_048, 1)
    assert (other.context, other.threads) == (4_096, 2)  # the fake file's header is unreadable: a guess
    assert pool.view("a").need == first.need
    store.update(lambda s: set_values(s, "a", {"context_size": 3_072}))
    assert pool.view("a").need == first.need  # loaded: the change waits for the next load
    await pool.unload("a")
    await pool.load("a")
    again = launcher.plans[-1]
    assert again is not None and again.context == 3_072
    assert pool.view("a").need == again.need > first.need
    await pool.close()


@pytest.mark.anyio
async def test_the_front_adds_default_sampling_only_where_the_request_has_none(tmp_path: Path) -> None:
    launcher = FakeLauncher(serve_http=True)
    pool = EnginePool(
        lambda: library(tmp_path, "a"), launcher, PoolConfig(keep_alive=math.inf), need=lambda m: MB
    )
    defaults = {"temperature": 0.2, "max_tokens": 7}
    front = OnDemandFront(pool, port=0, sampling=lambda name: defaults if name == "a" else {})
    await front.start()
    try:
        bare = {"model": "a", "messages": [{"role": "user", "content": "hi"}]}
        own = {**bare, "temperature": 1.1, "max_tokens": 3}
        for body in (bare, own):
            reader, writer = await asyncio.open_connection("127.0.0.1", front.port)
            data = json.dumps(body).encode()
            head = f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: {len(data)}\r\n"
            writer.write(head.encode() + b"Connection: close\r\n\r\n" + data)
            assert b" 200 " in (await reader.read()).split(b"\r\n", 1)[0]
            writer.close()
        (child,) = launcher.children
        assert child.scripted is not None
        received = [request.json for request in child.scripted.requests]
        assert received == [{**bare, "temperature": 0.2, "max_tokens": 7}, own]
    finally:
        await front.stop()


def test_live_settings_keep_the_good_entries_of_a_file_with_a_bad_value(paths: AppPaths) -> None:
    store = ConfigStore(paths)
    live = LiveModelSettings(store)
    entries = [{"name": "a", "context_size": 2048}, {"name": "b", "temperature": 9}]
    paths.config_dir.mkdir(parents=True, exist_ok=True)
    store.path.write_text(json.dumps({"schema_version": 2, "model_settings": entries}))
    assert live.entry("a").context_size == 2048
    assert live.entry("b") == ModelSettings("b")  # its bad value reset, as loading does
    store.path.write_text("{half a file")
    assert live.entry("a").context_size == 2048  # unreadable for a moment: what was read last
    assert sorted(p.name for p in paths.config_dir.iterdir()) == ["config.json"]  # nothing set aside
