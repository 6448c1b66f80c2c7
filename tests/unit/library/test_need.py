"""A model's memory need from its GGUF header: the KV shape read without the gguf package."""

from __future__ import annotations

import struct
from pathlib import Path

from trayai.core.embedded import bundled_model_path
from trayai.core.library.need import (
    GUESS_KV_BYTES_PER_TOKEN,
    RUNTIME_OVERHEAD,
    KvShape,
    kv_shape,
    memory_need,
)


def _gguf(path: Path, values: dict[str, int | str]) -> Path:
    """A header-only GGUF v3 with ``values`` (u32 or string) and an array the reader must skip."""
    out = bytearray(b"GGUF") + struct.pack("<IQQ", 3, 0, len(values) + 1)

    def text(s: str) -> bytes:
        return struct.pack("<Q", len(s.encode())) + s.encode()

    out += text("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 2) + text("a") + text("bc")
    for key, value in values.items():
        out += text(key)
        out += struct.pack("<II", 4, value) if isinstance(value, int) else struct.pack("<I", 8) + text(value)
    path.write_bytes(bytes(out))
    return path


def test_the_bundled_smollm2_header_gives_its_kv_shape() -> None:
    path = bundled_model_path()
    assert path is not None
    assert kv_shape(path) == KvShape(layers=30, kv_dim=3 * 64)
    assert memory_need(path, 4096) == path.stat().st_size + 4096 * 2 * 30 * 192 * 2 + RUNTIME_OVERHEAD


def test_grouped_query_attention_and_an_explicit_key_length(tmp_path: Path) -> None:
    base: dict[str, int | str] = {
        "general.architecture": "qwen3",
        "qwen3.block_count": 36,
        "qwen3.embedding_length": 2560,
    }
    heads: dict[str, int | str] = {"qwen3.attention.head_count": 32, "qwen3.attention.head_count_kv": 8}
    plain = _gguf(tmp_path / "a.gguf", {**base, **heads})
    assert kv_shape(plain) == KvShape(36, 8 * 80)
    keyed = _gguf(tmp_path / "b.gguf", {**base, **heads, "qwen3.attention.key_length": 128})
    assert kv_shape(keyed) == KvShape(36, 8 * 128)
    assert KvShape(36, 8 * 128).bytes_per_token == 147_456  # Qwen3-4B: 144 KiB a token in f16


def test_a_file_that_says_too_little_gets_the_guess(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"not a model at all")
    assert kv_shape(junk) is None
    assert memory_need(junk, 1000) == junk.stat().st_size + 1000 * GUESS_KV_BYTES_PER_TOKEN + RUNTIME_OVERHEAD
    headless = _gguf(tmp_path / "h.gguf", {"general.architecture": "llama"})
    assert kv_shape(headless) is None
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(headless.read_bytes()[:30])
    assert kv_shape(cut) is None
