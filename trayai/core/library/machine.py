"""This machine's memory as the fit verdicts need it: RAM (psutil) and the VRAM of visible GPUs.

NVIDIA through ``nvidia-smi`` (with a deadline: a wedged driver must not hang the catalog), AMD through
amdgpu's sysfs counters; anything else is "no GPU seen".
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from trayai.core.library.fit import MIB

NVIDIA_SMI_TIMEOUT = 3.0  # seconds
DRM_ROOT = Path("/sys/class/drm")
AMD_VENDOR = "0x1002"

Runner = Callable[[Sequence[str], float], str | None]


@dataclass(frozen=True)
class Gpu:
    name: str
    total: int  # bytes
    free: int


@dataclass(frozen=True)
class MachineMemory:
    """What a model may take: ``ram_available`` (psutil's "available"), and each visible GPU's VRAM."""

    ram_total: int
    ram_available: int
    gpus: tuple[Gpu, ...] = ()

    @property
    def vram_free(self) -> int | None:
        """Free VRAM of the roomiest GPU (llama.cpp splits across GPUs, but one is the common case)."""
        return max((gpu.free for gpu in self.gpus), default=None)

    @property
    def words(self) -> str:
        """ "22.1 GB of 23.4 GB RAM free; GPU NVIDIA RTX 4060: 7.6 GB of 8.0 GB free"."""
        ram = f"{self.ram_available / 1e9:.1f} GB of {self.ram_total / 1e9:.1f} GB RAM free"
        if not self.gpus:
            return f"{ram}; no GPU seen"
        gpus = "; ".join(
            f"GPU {gpu.name}: {gpu.free / 1e9:.1f} GB of {gpu.total / 1e9:.1f} GB free" for gpu in self.gpus
        )
        return f"{ram}; {gpus}"


def probe_memory(*, run: Runner | None = None, drm_root: Path = DRM_ROOT) -> MachineMemory:
    """RAM now, and the GPUs ``nvidia-smi`` and amdgpu report (``run`` replaces the program call in tests)."""
    # lazy: psutil is loaded only when used: start-up time and memory
    import psutil

    memory = psutil.virtual_memory()
    gpus = nvidia_gpus(run or run_program) + amd_gpus(drm_root)
    return MachineMemory(int(memory.total), int(memory.available), gpus)


def run_program(argv: Sequence[str], timeout: float) -> str | None:
    """``argv``'s standard output, or None when it is missing, fails or overruns ``timeout``."""
    if shutil.which(argv[0]) is None:
        return None
    try:
        done = subprocess.run(
            list(argv), capture_output=True, text=True, timeout=timeout, check=False, stdin=subprocess.DEVNULL
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def nvidia_gpus(run: Runner) -> tuple[Gpu, ...]:
    """Each NVIDIA GPU ``nvidia-smi`` lists, with total and free memory (it reports MiB)."""
    argv = ["nvidia-smi", "--query-gpu=name,memory.total,memory.free", "--format=csv,noheader,nounits"]
    output = run(argv, NVIDIA_SMI_TIMEOUT)
    found: list[Gpu] = []
    for line in (output or "").splitlines():
        parts = [part.strip() for part in line.rsplit(",", 2)]
        if len(parts) != 3:
            continue
        try:
            total, free = int(float(parts[1])) * MIB, int(float(parts[2])) * MIB
        except ValueError:  # "[N/A]" on some boards
            continue
        found.append(Gpu(parts[0], total, free))
    return tuple(found)


def amd_gpus(drm_root: Path) -> tuple[Gpu, ...]:
    """Each amdgpu card's VRAM from sysfs (``mem_info_vram_total`` / ``_used``, in bytes)."""
    found: list[Gpu] = []
    for card in sorted(drm_root.glob("card[0-9]*")):
        if not card.name[4:].isdigit():  # card0-DP-1 and the like are connectors, not cards
            continue
        device = card / "device"
        try:
            if (device / "vendor").read_text().strip() != AMD_VENDOR:
                continue
            total = int((device / "mem_info_vram_total").read_text())
            used = int((device / "mem_info_vram_used").read_text())
        except (OSError, ValueError):
            continue
        found.append(Gpu(f"AMD {card.name}", total, max(0, total - used)))
    return tuple(found)
