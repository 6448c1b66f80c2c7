"""The fit arithmetic on known figures, and the verdict in words.

Why: the verdict is what a person decides a multi-gigabyte download on; it must be right on figures
anyone can check by hand (the real-engine check is tests/integration/test_library_fit_real.py).
"""

from __future__ import annotations

import pytest

from trayai.core.library.fit import (
    MIB,
    MIN_CONTEXT,
    RUNTIME_OVERHEAD,
    Fit,
    MemoryNeed,
    ModelShape,
    Verdict,
    estimate,
    gigabytes,
    judge,
    short_context,
)

GB = 1_000_000_000
# Llama 3.2 3B: 28 layers, 8 KV heads of 128: 28 × 8 × (128 + 128) × 2 bytes = 114,688 bytes a token.
LLAMA_3B = ModelShape(layers=28, kv_heads=8, key_length=128, value_length=128, context_length=131072)
# Gemma 3 4B: 34 layers, 29 of them on a 1024-token window.
GEMMA_4B = ModelShape(34, 4, 256, 256, 131072, window=1024, window_layers=29)


def test_kv_cache_is_layers_times_context_times_kv_width_times_two_times_f16() -> None:
    need = estimate(2 * GB, LLAMA_3B, 4096)
    assert need.kv_cache == 28 * 4096 * (8 * 128) * 2 * 2 == 469_762_048
    assert need.total == 2 * GB + 469_762_048 + RUNTIME_OVERHEAD
    assert estimate(2 * GB, LLAMA_3B, 4096, bytes_per_element=1.0).kv_cache == 469_762_048 // 2  # q8_0 cache


def test_windowed_layers_keep_only_their_window_for_each_parallel_answer() -> None:
    per_layer_token = 4 * 512 * 2
    window_cache = 1024 * 4 + 512  # four parallel answers' windows and one batch
    need = estimate(0, GEMMA_4B, 32768)
    assert need.kv_cache == per_layer_token * (5 * 32768 + 29 * window_cache)
    short = estimate(0, GEMMA_4B, 2048)  # a context shorter than the window cache: all of it
    assert short.kv_cache == per_layer_token * 34 * 2048


def test_fits_at_the_full_context_when_there_is_room() -> None:
    fit = judge(2 * GB, LLAMA_3B, free=20 * GB)
    assert fit.verdict is Verdict.FITS
    assert fit.context == 131072
    assert fit.words == "fits"
    assert fit.gpu_offload is None


def test_otherwise_the_largest_power_of_two_context_that_fits() -> None:
    # 2 GB weights + 160 MiB; each 4k of context is 470 MB: 4k fits in 2.9 GB, 8k does not.
    fit = judge(2 * GB, LLAMA_3B, free=int(2.9 * GB))
    assert fit.verdict is Verdict.SMALLER_CONTEXT
    assert fit.context == 4096
    assert fit.words == "fits with 4k context"
    assert fit.need.total <= int(2.9 * GB) < estimate(2 * GB, LLAMA_3B, 8192).total


def test_an_asked_context_that_is_not_a_power_of_two_falls_back_to_one() -> None:
    fit = judge(2 * GB, LLAMA_3B, free=int(2.8 * GB), context=6000)  # 6000 tokens: 2.86 GB
    assert (fit.verdict, fit.context) == (Verdict.SMALLER_CONTEXT, 4096)
    assert judge(2 * GB, LLAMA_3B, free=20 * GB, context=6000).context == 6000


def test_too_large_says_what_it_needs_at_the_smallest_context_and_what_is_free() -> None:
    fit = judge(int(9.3 * GB), LLAMA_3B, free=int(7.1 * GB))
    assert fit.verdict is Verdict.TOO_LARGE
    assert fit.context == MIN_CONTEXT
    need = int(9.3 * GB) + 28 * MIN_CONTEXT * 1024 * 4 + 160 * MIB
    assert fit.need.total == need
    assert (
        fit.words
        == f"too large (needs ~{need / GB:.1f} GB, 7.1 GB free)"
        == ("too large (needs ~9.7 GB, 7.1 GB free)")
    )


def test_a_gpu_with_room_for_all_of_it_is_said() -> None:
    assert judge(2 * GB, LLAMA_3B, free=20 * GB, context=8192, gpu_free=8 * GB).words == (
        "fits, whole on the GPU"
    )
    small_gpu = judge(2 * GB, LLAMA_3B, free=20 * GB, context=8192, gpu_free=2 * GB)
    assert small_gpu.gpu_offload is False and small_gpu.words == "fits"


@pytest.mark.parametrize(
    ("tokens", "text"), [(4096, "4k"), (131072, "128k"), (32768, "32k"), (1536, "1536"), (2048, "2k")]
)
def test_contexts_are_spoken_in_binary_thousands(tokens: int, text: str) -> None:
    assert short_context(tokens) == text


def test_gigabytes_are_decimal_with_one_decimal() -> None:
    assert gigabytes(9_800_000_000) == "9.8 GB"
    assert gigabytes(639_447_744) == "0.6 GB"


def test_the_words_of_each_verdict() -> None:
    need = MemoryNeed(weights=5 * GB, kv_cache=4 * GB, overhead=800_000_000, context=8192)
    assert Fit(Verdict.FITS, need, 20 * GB).words == "fits"
    assert Fit(Verdict.SMALLER_CONTEXT, need, 10 * GB).words == "fits with 8k context"
    assert Fit(Verdict.TOO_LARGE, need, 7_100_000_000).words == "too large (needs ~9.8 GB, 7.1 GB free)"
