"""Which file of a catalog model is offered here: the catalog's preferred one when it fits, the one that
fits the longest context otherwise, and a downloaded file first, judged on its own metadata.

Why: "quant picked for this machine" is advice a person follows with a multi-gigabyte download.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from trayai.core.embedded import bundled_model_path
from trayai.core.library.catalog import CatalogModel, Quant, load_catalog
from trayai.core.library.fit import Verdict
from trayai.core.library.ggufmeta import read_metadata
from trayai.core.library.machine import Gpu, MachineMemory
from trayai.core.library.pick import downloaded_files, pick, pick_all

GB = 1_000_000_000
ROOMY = MachineMemory(64 * GB, 60 * GB)
SMALL = MachineMemory(8 * GB, 3 * GB)


def model(name: str) -> CatalogModel:
    found = load_catalog().get(name)
    assert found is not None
    return found


def test_the_catalogs_first_file_when_it_fits_at_full_context() -> None:
    chosen = pick(model("qwen3-0.6b"), ROOMY, {})
    assert chosen.file.quant is Quant.Q8_0  # the catalog puts Q8_0 first for this small model
    assert chosen.fit.verdict is Verdict.FITS and chosen.fit.context == 32768
    assert chosen.size == chosen.file.size_guess and chosen.size_is_guess and not chosen.downloaded


def test_with_little_memory_the_file_that_holds_the_longest_context() -> None:
    chosen = pick(model("qwen3-4b"), SMALL, {})
    assert chosen.file.quant is Quant.Q4_K_M
    assert chosen.fit.verdict is Verdict.SMALLER_CONTEXT
    assert chosen.fit.need.total <= SMALL.ram_available


def test_what_fits_nowhere_offers_its_smallest_file_as_too_large() -> None:
    chosen = pick(model("gemma-3-12b"), SMALL, {})
    assert chosen.fit.verdict is Verdict.TOO_LARGE
    assert chosen.file.quant is Quant.Q4_K_M
    assert chosen.fit.words.startswith("too large (needs ~")
    assert chosen.fit.words.endswith(", 3.0 GB free)")


def test_a_vision_models_projector_counts_in_its_need() -> None:
    gemma = model("gemma-3-4b")
    chosen = pick(gemma, ROOMY, {})
    assert gemma.projector is not None
    assert chosen.fit.need.weights == chosen.file.size_guess + gemma.projector.size_guess


def test_a_downloaded_file_is_the_pick_judged_on_its_own_metadata_and_size(tmp_path: Path) -> None:
    smol = bundled_model_path()
    assert smol is not None
    folder = tmp_path / "models" / "unsloth"
    folder.mkdir(parents=True)
    shutil.copyfile(smol, folder / "Qwen3-0.6B-Q4_K_M.gguf")  # the second file in the catalog's order
    on_disk = downloaded_files(tmp_path / "models")
    chosen = pick(model("qwen3-0.6b"), ROOMY, on_disk)
    assert chosen.file.quant is Quant.Q4_K_M and chosen.path == folder / "Qwen3-0.6B-Q4_K_M.gguf"
    assert chosen.size == smol.stat().st_size and not chosen.size_is_guess
    shape = read_metadata(smol).shape()
    assert chosen.fit.need.kv_cache == round(shape.kv_bytes(32768))  # SmolLM2's figures, not Qwen3's


def test_a_damaged_file_in_the_folder_is_not_a_download(tmp_path: Path) -> None:
    (tmp_path / "Qwen3-0.6B-Q8_0.gguf").write_bytes(b"GGUF" + bytes(10))
    chosen = pick(model("qwen3-0.6b"), ROOMY, downloaded_files(tmp_path))
    assert not chosen.downloaded and chosen.size_is_guess


def test_every_catalog_model_gets_a_pick_and_the_gpu_is_said() -> None:
    with_gpu = MachineMemory(64 * GB, 60 * GB, (Gpu("RTX", 24 * GB, 20 * GB),))
    picks = pick_all(load_catalog(), with_gpu, None, context=4096)
    assert len(picks) == len(load_catalog().models)
    assert all(p.fit.verdict is Verdict.FITS and p.fit.context == 4096 for p in picks)
    assert all(p.fit.gpu_offload for p in picks)
    assert downloaded_files(None) == {}


def test_a_context_asked_beyond_a_models_own_is_judged_at_its_own() -> None:
    chosen = pick(model("qwen3-8b"), ROOMY, {}, context=131072)
    assert chosen.fit.verdict is Verdict.FITS and chosen.fit.context == 32768
