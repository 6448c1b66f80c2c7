"""How much memory a library model needs once loaded: its weights plus the KV cache of its context.

The KV size comes from the GGUF's own header (layers, KV heads, head size), read here without the
``gguf`` package; a file whose header says too little is given a per-token guess instead.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

GUESS_KV_BYTES_PER_TOKEN = 128 * 1024  # an 8B model with grouped-query attention, f16 cache
RUNTIME_OVERHEAD = 64 * 1024 * 1024  # compute buffers and the child's own interpreter, measured ~50 MB
_MAX_STRING = 1 << 24  # a header string longer than 16 MB is not a GGUF header
_SCALARS = {  # GGUF value type → struct format
    0: "<B",
    1: "<b",
    2: "<H",
    3: "<h",
    4: "<I",
    5: "<i",
    6: "<f",
    7: "<?",
    10: "<Q",
    11: "<q",
    12: "<d",
}
_STRING, _ARRAY = 8, 9


@dataclass(frozen=True)
class KvShape:
    """What the KV cache of one token costs: per layer, a key and a value of ``kv_dim`` halves."""

    layers: int
    kv_dim: int

    @property
    def bytes_per_token(self) -> int:
        return 2 * self.layers * self.kv_dim * 2  # K and V, f16


def memory_need(path: Path, context_size: int) -> int:
    """Bytes the model takes in memory: file size + KV cache for ``context_size`` tokens + overhead."""
    size = path.stat().st_size
    shape = kv_shape(path)
    per_token = shape.bytes_per_token if shape is not None else GUESS_KV_BYTES_PER_TOKEN
    return size + context_size * per_token + RUNTIME_OVERHEAD


def kv_shape(path: Path) -> KvShape | None:
    """The KV shape from the GGUF header, or None when the file is not a readable GGUF."""
    try:
        with path.open("rb") as handle:
            meta = _integer_metadata(handle)
    except (OSError, ValueError, struct.error):
        return None
    arch = meta.get("general.architecture")
    if not isinstance(arch, str):
        return None
    layers = meta.get(f"{arch}.block_count")
    heads = meta.get(f"{arch}.attention.head_count")
    kv_heads = meta.get(f"{arch}.attention.head_count_kv", heads)
    width = meta.get(f"{arch}.embedding_length")
    key_length = meta.get(f"{arch}.attention.key_length")
    if not all(isinstance(v, int) and v > 0 for v in (layers, heads, kv_heads, width)):
        return None
    assert isinstance(layers, int) and isinstance(heads, int) and isinstance(kv_heads, int)
    assert isinstance(width, int)
    head_dim = key_length if isinstance(key_length, int) and key_length > 0 else width // heads
    return KvShape(layers, kv_heads * head_dim)


def _integer_metadata(handle: BinaryIO) -> dict[str, int | str]:
    """The header's scalar and string values by key (arrays, such as the vocabulary, skipped)."""
    if handle.read(4) != b"GGUF":
        raise ValueError("not a GGUF file")
    (version,) = struct.unpack("<I", handle.read(4))
    if version < 2:
        raise ValueError(f"GGUF version {version} is too old")
    _tensors, count = struct.unpack("<QQ", handle.read(16))
    found: dict[str, int | str] = {}
    for _ in range(count):
        key = _string(handle)
        (kind,) = struct.unpack("<I", handle.read(4))
        value = _value(handle, kind)
        if isinstance(value, (int, str)) and not isinstance(value, bool):
            found[key] = value
    return found


def _value(handle: BinaryIO, kind: int) -> int | float | str | bool | None:
    if kind in _SCALARS:
        fmt = _SCALARS[kind]
        (value,) = struct.unpack(fmt, handle.read(struct.calcsize(fmt)))
        return value  # type: ignore[no-any-return]
    if kind == _STRING:
        return _string(handle)
    if kind == _ARRAY:
        item_kind, length = struct.unpack("<IQ", handle.read(12))
        if item_kind in _SCALARS:
            handle.seek(length * struct.calcsize(_SCALARS[item_kind]), 1)
        elif item_kind == _STRING:  # a vocabulary: 50-250 thousand strings, skipped unread
            for _ in range(length):
                (size,) = struct.unpack("<Q", handle.read(8))
                handle.seek(size, 1)
        else:
            for _ in range(length):
                _value(handle, item_kind)
        return None
    raise ValueError(f"unknown GGUF value type {kind}")


def _string(handle: BinaryIO) -> str:
    (length,) = struct.unpack("<Q", handle.read(8))
    if length > _MAX_STRING:
        raise ValueError("GGUF string too long")
    return handle.read(length).decode("utf-8", "replace")
