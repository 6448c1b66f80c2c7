"""How much memory a library model needs once loaded, for the pool's budget: ``fit.estimate`` on
the GGUF's own header (``ggufmeta``), at the context the engine children run with. A file whose
header cannot be read gets a per-token guess: its load will tell the rest.
"""

from __future__ import annotations

from pathlib import Path

from trayai.core.library.fit import RUNTIME_OVERHEAD, estimate
from trayai.core.library.ggufmeta import GgufError, read_metadata

GUESS_KV_BYTES_PER_TOKEN = 128 * 1024  # an 8B model with grouped-query attention, f16 cache


def memory_need(path: Path, context_size: int) -> int:
    """Bytes the model takes in memory: weights + KV cache for ``context_size`` tokens + overhead."""
    size = path.stat().st_size
    try:
        shape = read_metadata(path).shape()
    except GgufError:
        return size + context_size * GUESS_KV_BYTES_PER_TOKEN + RUNTIME_OVERHEAD
    return estimate(size, shape, context_size).total
