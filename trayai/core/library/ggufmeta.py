"""A GGUF file's own metadata (architecture, layers, heads, context), read from its header alone.

``gguf``'s ``GGUFReader`` parses every tokenizer string into numpy views before it answers: 5 s for the
98 MB SmolLM2 on this 2-core machine, more for a 150k-token vocabulary. This reads the key/value header
through a memory map and steps over arrays without building them (milliseconds); its values are checked
against ``GGUFReader``'s in tests/unit/library/test_ggufmeta.py.
"""

from __future__ import annotations

import mmap
import struct
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trayai.core.errors import AppError
from trayai.core.library.fit import ModelShape

MAGIC = b"GGUF"
# GGUF value types (gguf's GGUFValueType): struct format of each fixed-size one.
_SCALARS: Mapping[int, str] = {
    0: "B",
    1: "b",
    2: "H",
    3: "h",
    4: "I",
    5: "i",
    6: "f",
    7: "?",
    10: "Q",
    11: "q",
    12: "d",
}
_STRING, _ARRAY = 8, 9
# Architectures whose layers alternate sliding-window and full attention, as llama.cpp builds them:
# every Nth layer is full (llama.cpp's swa pattern; the GGUF does not record it).
WINDOW_PATTERN: Mapping[str, int] = {"gemma3": 6, "gemma2": 2}
KEEP_ARRAY = 4096  # numeric arrays up to this length are kept (per-layer head counts); longer ones skipped
MAX_KEYS = 100_000

Scalar = int | float | bool | str
Value = Scalar | tuple[Scalar, ...] | None  # None: an array too long to keep (tokenizer tables)


class GgufError(AppError, ValueError):
    """The file is not a GGUF model trayai can read (damaged, truncated, or another format)."""


@dataclass(frozen=True)
class GgufMetadata:
    """The header's key/values; :meth:`shape` the figures the memory estimate needs."""

    version: int
    tensor_count: int
    values: Mapping[str, Value]
    array_lengths: Mapping[str, int]  # every array's length, kept or not (the vocabulary size)

    @property
    def architecture(self) -> str:
        arch = self.values.get("general.architecture")
        if not isinstance(arch, str) or not arch:
            raise GgufError("The GGUF file names no architecture (general.architecture)")
        return arch

    def number(self, key: str, default: int | None = None) -> int:
        """An integer value, or the largest of a per-layer array (an upper bound for the estimate)."""
        value = self.values.get(key)
        if isinstance(value, tuple) and value and all(isinstance(v, int) for v in value):
            return int(max(value))  # every item checked to be an int
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if default is not None:
            return default
        raise GgufError(f"The GGUF file has no usable {key}")

    def shape(self) -> ModelShape:
        """Layers, KV heads, key/value lengths and trained context of a transformer's GGUF."""
        arch = self.architecture
        heads = self.number(f"{arch}.attention.head_count")
        kv_heads = self.number(f"{arch}.attention.head_count_kv", heads)
        key_length = self.number(
            f"{arch}.attention.key_length", self.number(f"{arch}.embedding_length") // max(1, heads)
        )
        layers = self.number(f"{arch}.block_count")
        pattern = WINDOW_PATTERN.get(arch, 0)
        window = self.number(f"{arch}.attention.sliding_window", 0) if pattern else 0
        return ModelShape(
            layers=layers,
            kv_heads=kv_heads,
            key_length=key_length,
            value_length=self.number(f"{arch}.attention.value_length", key_length),
            context_length=self.number(f"{arch}.context_length"),
            window=window,
            window_layers=layers - layers // pattern if window else 0,
        )


def read_metadata(path: Path) -> GgufMetadata:
    """The header of the GGUF at ``path`` (raises :class:`GgufError` for anything else)."""
    try:
        with path.open("rb") as handle, mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as view:
            return _Header(view, path).read()
    except (OSError, ValueError) as exc:  # mmap of an empty file is a ValueError
        if isinstance(exc, GgufError):
            raise
        raise GgufError(f"Cannot read {path.name}: {exc}") from exc


class _Header:
    """A cursor over the header, with bounds checked on every read (the file may be hostile or cut)."""

    def __init__(self, view: mmap.mmap, path: Path) -> None:
        self.view, self.path, self.at = view, path, 0
        self.order = "<"

    def read(self) -> GgufMetadata:
        if self._take(4) != MAGIC:
            raise GgufError(f"{self.path.name} is not a GGUF file (no GGUF signature)")
        version = self._unpack("I")
        if version > 0xFFFF:  # a big-endian file reads as a huge little-endian number
            self.order = ">"
            version = struct.unpack(">I", struct.pack("<I", version))[0]
        if version < 2:
            raise GgufError(f"{self.path.name} is GGUF version {version}, older than llama.cpp reads")
        tensor_count, key_count = self._unpack("Q"), self._unpack("Q")
        if key_count > MAX_KEYS:
            raise GgufError(f"{self.path.name} claims {key_count} metadata keys: damaged")
        values: dict[str, Value] = {}
        lengths: dict[str, int] = {}
        for _ in range(key_count):
            key = self._string()
            kind = self._unpack("I")
            if kind == _ARRAY:
                values[key], lengths[key] = self._array()
            else:
                values[key] = self._value(kind)
        return GgufMetadata(version, tensor_count, values, lengths)

    def _take(self, size: int) -> bytes:
        end = self.at + size
        if size < 0 or end > len(self.view):
            raise GgufError(f"{self.path.name} ends inside its header: truncated or damaged")
        data = self.view[self.at : end]
        self.at = end
        return data

    def _unpack(self, fmt: str) -> int:
        size = struct.calcsize(fmt)
        value: int = struct.unpack(self.order + fmt, self._take(size))[0]
        return value

    def _string(self) -> str:
        return self._take(self._unpack("Q")).decode("utf-8", "replace")

    def _value(self, kind: int) -> Scalar:
        if kind == _STRING:
            return self._string()
        fmt = _SCALARS.get(kind)
        if fmt is None:
            raise GgufError(f"{self.path.name} has a metadata value of unknown type {kind}")
        value: Scalar = struct.unpack(self.order + fmt, self._take(struct.calcsize(fmt)))[0]
        return value

    def _array(self) -> tuple[Value, int]:
        kind, count = self._unpack("I"), self._unpack("Q")
        if kind == _STRING:
            for _ in range(count):  # each string says its own length: step over them
                self._take(self._unpack("Q"))
            return None, count
        fmt = _SCALARS.get(kind)
        if fmt is None:
            raise GgufError(f"{self.path.name} has an array of unsupported type {kind}")
        raw = self._take(struct.calcsize(fmt) * count)
        if count > KEEP_ARRAY:
            return None, count
        return tuple(struct.unpack(f"{self.order}{count}{fmt}", raw)), count
