"""The pool's memory need of a model: fit's estimate on the GGUF header, a guess for a bad file."""

from __future__ import annotations

from pathlib import Path

from trayai.core.embedded import bundled_model_path
from trayai.core.library.fit import RUNTIME_OVERHEAD
from trayai.core.library.need import GUESS_KV_BYTES_PER_TOKEN, memory_need


def test_the_bundled_smollm2_needs_its_weights_and_its_kv_cache() -> None:
    path = bundled_model_path()
    assert path is not None
    kv = 4096 * 30 * 3 * (64 + 64) * 2  # tokens × layers × KV heads × (key + value) × f16
    assert memory_need(path, 4096) == path.stat().st_size + kv + RUNTIME_OVERHEAD


def test_a_file_whose_header_cannot_be_read_gets_the_guess(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model at all")
    assert memory_need(junk, 1000) == junk.stat().st_size + 1000 * GUESS_KV_BYTES_PER_TOKEN + RUNTIME_OVERHEAD
