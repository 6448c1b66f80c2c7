"""`trayai get` and `trayai rm`: a download killed with SIGKILL at ~50 % resumes in the next process, the
failures are said with their exit codes, `rm` removes only what is in the models folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.support.cli import cli
from tests.support.fake_hub import FakeHub, Faults, synthetic_gguf
from tests.support.waiting import wait_until
from tests.unit.library.conftest import GATED, SMOL, SMOL_FILE, TINY
from trayai.core.library.catalog import Quant, load_catalog
from trayai.core.paths import AppPaths


def test_a_download_killed_at_half_resumes_in_the_next_process(hub: FakeHub, paths: AppPaths) -> None:
    size = hub.file(SMOL, SMOL_FILE).size
    hub.fault(SMOL, SMOL_FILE, Faults(rate=30_000_000))
    part = paths.models_dir / f"{SMOL_FILE}.part"
    first = subprocess.Popen(
        [sys.executable, "-m", "trayai.cli", "get", f"{SMOL}:Q4_1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
    )
    try:
        wait_until(
            lambda: (part.is_file() and part.stat().st_size > size // 2) or first.poll() is not None,
            timeout=60,
            what="the part file past half",
        )
        assert first.poll() is None, first.communicate()[0]
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
    finally:
        if first.poll() is None:
            first.kill()
        first.communicate()
    kept = part.stat().st_size
    assert size // 2 < kept < size
    hub.fault(SMOL, SMOL_FILE, None)
    code, out, err = cli("get", f"{SMOL}:Q4_1", "--json")
    assert code == 0, err
    (done,) = json.loads(out)["files"]
    assert (done["verified"], done["resumed_from"]) == (True, kept)
    assert (paths.models_dir / SMOL_FILE).stat().st_size == size
    refetched = hub.served(SMOL, SMOL_FILE) - size  # over both processes
    assert refetched < 0.05 * size, f"{refetched} bytes fetched twice"
    assert not part.exists()


def test_get_says_what_it_downloaded_and_that_it_is_there_already(hub: FakeHub, paths: AppPaths) -> None:
    code, out, err = cli("get", f"{TINY}:q8_0")
    assert code == 0, err
    assert out == f"downloaded {paths.models_dir / 'tiny-Q8_0.gguf'} (3.0 MB, sha256 verified)\n"
    assert "tiny-Q8_0.gguf: 100% 3.0 MB / 3.0 MB" in err  # plain lines when not on a terminal
    code, out, err = cli("get", f"{TINY}/tiny-Q8_0.gguf")
    assert (code, out) == (0, "")
    assert "tiny-Q8_0.gguf is already downloaded (3.0 MB)" in err


def test_get_explains_gated_missing_and_ambiguous(hub: FakeHub) -> None:
    code, _, err = cli("get", GATED)
    assert code == 1
    assert f"error: {GATED} needs a Hugging Face token with access: none is stored" in err
    assert "trayai get --set-token" in err
    code, _, err = cli("get", "trayai-test/nothing-GGUF")
    assert (code, err.splitlines()[0]) == (
        1,
        "error: Hugging Face has no repository trayai-test/nothing-GGUF",
    )
    code, _, err = cli("get", f"{TINY}:Q2_K")
    assert code == 1 and "has no Q2_K file; it has: Q4_K_M, Q8_0" in err
    code, _, err = cli("get", "too/many/parts")
    assert code == 2 and "not a repository name" in err


def test_rm_removes_a_downloaded_model_and_refuses_files_outside_the_folder(
    hub: FakeHub, paths: AppPaths, tmp_path: Path
) -> None:
    assert cli("get", f"{TINY}:Q4_K_M")[0] == 0
    model = paths.models_dir / "tiny-Q4_K_M.gguf"
    (paths.models_dir / "tiny-Q4_K_M.gguf.part.json").write_text("{}")  # a stale sidecar goes too
    outside = tmp_path / "elsewhere.gguf"
    outside.write_bytes(b"GGUF")
    code, _, err = cli("rm", str(outside))
    assert code == 1 and "is outside the models folder" in err and outside.exists()
    code, _, err = cli("rm", "../../elsewhere.gguf")
    assert code == 1 and outside.exists()
    code, out, _ = cli("rm", "tiny-Q4_K_M")
    assert code == 0
    assert out.splitlines() == [f"removed {model} (2.0 MB)", f"removed {model}.part.json (2 bytes)"]
    assert not model.exists()
    code, _, err = cli("rm", "tiny-Q4_K_M")
    assert code == 1 and "No downloaded model tiny-Q4_K_M" in err


def test_a_catalog_name_gets_its_file_for_this_machine_and_its_projector(
    hub: FakeHub, paths: AppPaths
) -> None:
    model = load_catalog().get("gemma-3-4b")
    assert model is not None and model.projector is not None
    files: dict[str, bytes | Path] = {
        f.file: synthetic_gguf(300_000 + i, i) for i, f in enumerate(model.files)
    }
    files[model.projector.file] = synthetic_gguf(100_000, 99)
    hub.add_repo(model.repo, files)  # the catalog's own repository and file names, small bytes
    code, out, err = cli("get", "gemma-3-4b:q4_k_m", "--json")
    assert code == 0, err
    got = sorted(Path(f["path"]).name for f in json.loads(out)["files"])
    listed = model.file_for(Quant.Q4_K_M)
    assert listed is not None
    assert got == sorted([listed.file, model.projector.file])
    code, out, err = cli("get", "gemma-3-4b")  # no quantisation: the one `trayai library` picks here
    assert code == 0, err
    code, _, err = cli("get", "no-such-model")
    assert code == 1 and "No model no-such-model in the catalog" in err
