"""This machine's memory: RAM from psutil, NVIDIA VRAM from ``nvidia-smi`` (never a hang), AMD's from sysfs.

Why: a fit verdict is only as good as the free memory it is measured against, and a wedged GPU driver
must not freeze `trayai library` or the tray's catalog.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from trayai.core.library.fit import MIB
from trayai.core.library.machine import Gpu, MachineMemory, amd_gpus, nvidia_gpus, probe_memory, run_program

NVIDIA_SMI = (
    "NVIDIA GeForce RTX 4060, 8188, 7800\nTesla T4, [N/A], [N/A]\nNVIDIA A100-SXM4-40GB, 40960, 1024\n"
)


def test_nvidia_smi_lines_become_gpus_in_bytes() -> None:
    asked: list[Sequence[str]] = []

    def run(argv: Sequence[str], timeout: float) -> str:
        asked.append(argv)
        assert timeout <= 5
        return NVIDIA_SMI

    gpus = nvidia_gpus(run)
    assert gpus == (
        Gpu("NVIDIA GeForce RTX 4060", 8188 * MIB, 7800 * MIB),
        Gpu("NVIDIA A100-SXM4-40GB", 40960 * MIB, 1024 * MIB),
    )
    assert asked[0][0] == "nvidia-smi" and "--query-gpu=name,memory.total,memory.free" in asked[0]


def test_no_nvidia_smi_means_no_nvidia_gpu() -> None:
    assert nvidia_gpus(lambda argv, timeout: None) == ()
    assert run_program(["trayai-no-such-program-here"], 1.0) is None


def test_a_program_that_hangs_is_given_up_on_at_its_deadline() -> None:
    started = time.monotonic()
    hung = run_program([sys.executable, "-c", "import time; time.sleep(60)"], 0.5)
    assert hung is None
    assert time.monotonic() - started < 10  # the deadline held, the 60 s did not
    assert run_program([sys.executable, "-c", "print('ok')"], 10.0) == "ok\n"
    assert run_program([sys.executable, "-c", "raise SystemExit(3)"], 10.0) is None


def card(root: Path, name: str, vendor: str, total: int | None, used: int | None) -> None:
    device = root / name / "device"
    device.mkdir(parents=True)
    (device / "vendor").write_text(vendor + "\n")
    if total is not None:
        (device / "mem_info_vram_total").write_text(f"{total}\n")
    if used is not None:
        (device / "mem_info_vram_used").write_text(f"{used}\n")


def test_amd_cards_are_read_from_sysfs_and_others_ignored(tmp_path: Path) -> None:
    card(tmp_path, "card0", "0x8086", None, None)  # Intel: no VRAM counters
    card(tmp_path, "card1", "0x1002", 16 * 2**30, 2 * 2**30)
    card(tmp_path, "card1-DP-1", "0x1002", 1, 1)  # a connector, not a card
    card(tmp_path, "card2", "0x1002", None, None)  # an APU without the counters
    assert amd_gpus(tmp_path) == (Gpu("AMD card1", 16 * 2**30, 14 * 2**30),)
    assert amd_gpus(tmp_path / "absent") == ()


def test_probe_reads_this_machines_ram_and_the_gpus_reported(tmp_path: Path) -> None:
    memory = probe_memory(run=lambda argv, timeout: NVIDIA_SMI, drm_root=tmp_path)
    assert 0 < memory.ram_available <= memory.ram_total
    assert len(memory.gpus) == 2
    assert memory.vram_free == 7800 * MIB  # the roomiest card
    bare = probe_memory(run=lambda argv, timeout: None, drm_root=tmp_path)
    assert bare.gpus == () and bare.vram_free is None


def test_memory_in_words() -> None:
    assert MachineMemory(16_000_000_000, 7_100_000_000).words == "7.1 GB of 16.0 GB RAM free; no GPU seen"
    with_gpu = MachineMemory(16_000_000_000, 7_100_000_000, (Gpu("RTX", 8_000_000_000, 7_600_000_000),))
    assert with_gpu.words == "7.1 GB of 16.0 GB RAM free; GPU RTX: 7.6 GB of 8.0 GB free"
