"""Will a model run here: its memory need (weights + KV cache + overhead) against this machine's.

Pure arithmetic on figures others gather (the GGUF's metadata or the catalog's, the machine's memory), so
the verdict and its words are tested on known numbers; measured against the real engine in
tests/integration/test_library_fit_real.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from trayai.core.strenum import StrEnum

MIB = 1024 * 1024
# The engine process besides weights and KV cache: the interpreter, llama.cpp, its compute buffers.
# Measured on SmolLM2-135M: 64 MB of RSS; the rest is headroom for the compute buffers of larger
# vocabularies (they grow with the vocabulary, which the catalog does not record).
RUNTIME_OVERHEAD = 160 * MIB
F16_BYTES = 2.0  # llama.cpp's default KV cache type
# The smallest context worth offering: below this a chat does not hold a few questions and answers.
MIN_CONTEXT = 2048
# llama.cpp sizes a sliding-window layer's cache for every parallel answer's window plus one batch;
# the built-in server answers 4 at once by default (builtin_server.parallel).
WINDOW_SLOTS, WINDOW_BATCH = 4, 512


@dataclass(frozen=True)
class ModelShape:
    """What the KV cache size depends on: per layer, ``kv_heads`` heads of ``key_length`` + ``value_length``.

    ``window_layers`` of the layers attend to the last ``window`` tokens only (Gemma 3: five in six),
    and llama.cpp keeps only that much of their cache.
    """

    layers: int
    kv_heads: int
    key_length: int
    value_length: int
    context_length: int  # the longest context the model was trained for
    window: int = 0
    window_layers: int = 0

    def kv_bytes(self, context: int, bytes_per_element: float = F16_BYTES) -> float:
        """n_layers × n_ctx × n_head_kv × (key + value length) × bytes, windowed layers capped."""
        per_layer_token = self.kv_heads * (self.key_length + self.value_length) * bytes_per_element
        windowed = min(context, self.window * WINDOW_SLOTS + WINDOW_BATCH) if self.window_layers else 0
        full_layers = self.layers - self.window_layers
        return per_layer_token * (full_layers * context + self.window_layers * windowed)


@dataclass(frozen=True)
class MemoryNeed:
    """An estimate of what serving a model at ``context`` tokens takes, in bytes."""

    weights: int  # the GGUF file (and a vision projector), all of it resident once used
    kv_cache: int
    overhead: int
    context: int

    @property
    def total(self) -> int:
        return self.weights + self.kv_cache + self.overhead


def estimate(
    weights: int, shape: ModelShape, context: int, *, bytes_per_element: float = F16_BYTES
) -> MemoryNeed:
    """Weights + n_layers × n_ctx × n_head_kv × (key + value length) × bytes per element + overhead."""
    kv = round(shape.kv_bytes(context, bytes_per_element))
    return MemoryNeed(weights=weights, kv_cache=kv, overhead=RUNTIME_OVERHEAD, context=context)


class Verdict(StrEnum):
    """Whether a model runs here: at the context asked, only at a shorter one, or not at all."""

    FITS = "fits"
    SMALLER_CONTEXT = "smaller_context"
    TOO_LARGE = "too_large"


@dataclass(frozen=True)
class Fit:
    """A verdict with its figures: ``need`` is at the context that fits (or the smallest, when none does)."""

    verdict: Verdict
    need: MemoryNeed
    free: int  # the memory it was measured against
    gpu_offload: bool | None = None  # the whole need fits in free VRAM; None: no GPU seen

    @property
    def context(self) -> int:
        return self.need.context

    @property
    def words(self) -> str:
        """ "fits", "fits with 4k context", "too large (needs ~9.8 GB, 7.1 GB free)"."""
        if self.verdict is Verdict.TOO_LARGE:
            return f"too large (needs ~{gigabytes(self.need.total)}, {gigabytes(self.free)} free)"
        text = "fits" if self.verdict is Verdict.FITS else f"fits with {short_context(self.context)} context"
        return f"{text}, whole on the GPU" if self.gpu_offload else text


def judge(
    weights: int,
    shape: ModelShape,
    free: int,
    *,
    context: int | None = None,
    gpu_free: int | None = None,
    bytes_per_element: float = F16_BYTES,
) -> Fit:
    """Fit at ``context`` (default: the model's full one); else the largest power-of-two context that fits.

    ``free`` is the memory the model may take (RAM available); ``gpu_free`` the free VRAM, if any GPU
    is visible: it only adds whether the whole model could sit there.
    """
    wanted = context or shape.context_length

    def need_at(tokens: int) -> MemoryNeed:
        return estimate(weights, shape, tokens, bytes_per_element=bytes_per_element)

    def placed(verdict: Verdict, need: MemoryNeed) -> Fit:
        offload = None if gpu_free is None else need.total <= gpu_free
        return Fit(verdict, need, free, offload)

    full = need_at(wanted)
    if full.total <= free:
        return placed(Verdict.FITS, full)
    tokens = _power_of_two_below(wanted)
    while tokens >= MIN_CONTEXT:
        need = need_at(tokens)
        if need.total <= free:
            return placed(Verdict.SMALLER_CONTEXT, need)
        tokens //= 2
    return Fit(Verdict.TOO_LARGE, need_at(min(wanted, MIN_CONTEXT)), free, None)


def _power_of_two_below(tokens: int) -> int:
    """The largest power of two strictly below ``tokens`` (a context that did not fit)."""
    return 1 << max(0, (tokens - 1).bit_length() - 1)


def gigabytes(size: int) -> str:
    """Decimal gigabytes with one decimal, as download pages show them: ``9.8 GB``."""
    return f"{size / 1e9:.1f} GB"


def short_context(tokens: int) -> str:
    """``4k``, ``128k`` (binary thousands, as context sizes are spoken); ``1536`` when not a whole k."""
    return f"{tokens // 1024}k" if tokens % 1024 == 0 else str(tokens)
