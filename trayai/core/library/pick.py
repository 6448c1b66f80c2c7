"""Which file of a catalog model suits this machine, whether it is downloaded, and how it fits.

A downloaded model is judged on its GGUF's own metadata and real size; one not yet downloaded on the
catalog's figures. What ``trayai library`` shows (and the tray's catalog will).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from trayai.core.library.catalog import Catalog, CatalogModel, QuantFile
from trayai.core.library.fit import Fit, ModelShape, Verdict, judge
from trayai.core.library.ggufmeta import GgufError, read_metadata
from trayai.core.library.machine import MachineMemory

_RANK = {Verdict.FITS: 0, Verdict.SMALLER_CONTEXT: 1, Verdict.TOO_LARGE: 2}


@dataclass(frozen=True)
class Pick:
    """A catalog model's file for this machine, with its fit; ``path`` when it is in the models folder."""

    model: CatalogModel
    file: QuantFile
    fit: Fit
    size: int  # the file's real size when downloaded, else the catalog's first guess
    path: Path | None = None

    @property
    def downloaded(self) -> bool:
        return self.path is not None

    @property
    def size_is_guess(self) -> bool:
        return self.path is None


def downloaded_files(models_dir: Path | None) -> Mapping[str, Path]:
    """Each readable ``.gguf`` under the models folder by file name (what the built-in server serves)."""
    if models_dir is None or not models_dir.is_dir():
        return {}
    found: dict[str, Path] = {}
    for path in sorted(models_dir.rglob("*.gguf")):
        found.setdefault(path.name, path)
    return found


def pick(
    model: CatalogModel,
    memory: MachineMemory,
    on_disk: Mapping[str, Path],
    *,
    context: int | None = None,
) -> Pick:
    """The downloaded file when there is one, else the first file in the catalog's order that fits at
    the full context, else the one that fits the longest context, else the smallest."""
    wanted = min(context or model.context_length, model.context_length)  # never past its training
    candidates = [_judged(model, f, memory, on_disk.get(f.file), wanted) for f in model.files]
    downloaded = [c for c in candidates if c.downloaded]
    pool = downloaded or candidates
    best = min(pool, key=lambda c: (_RANK[c.fit.verdict], -c.fit.context))  # ties: catalog order
    if best.fit.verdict is Verdict.TOO_LARGE:
        return min(pool, key=lambda c: c.fit.need.total)
    return best


def pick_all(
    catalog: Catalog, memory: MachineMemory, models_dir: Path | None, *, context: int | None = None
) -> list[Pick]:
    on_disk = downloaded_files(models_dir)
    return [pick(model, memory, on_disk, context=context) for model in catalog.models]


def _judged(
    model: CatalogModel, file: QuantFile, memory: MachineMemory, path: Path | None, context: int
) -> Pick:
    shape, size = model.shape, file.size_guess
    if path is not None:
        measured = _measured(path)
        if measured is None:
            path = None  # a damaged or partial file is not a download the server could load
        else:
            shape, size = measured
    extra = model.projector.size_guess if model.projector is not None else 0
    fit = judge(size + extra, shape, memory.ram_available, context=context, gpu_free=memory.vram_free)
    return Pick(model, file, fit, size, path)


def _measured(path: Path) -> tuple[ModelShape, int] | None:
    try:
        return read_metadata(path).shape(), path.stat().st_size
    except (GgufError, OSError):
        return None
