"""``trayai library``: the catalog as a table and as JSON, what does not fit hidden and counted, the
downloaded ones marked — with this machine's memory faked.

Why: the command is how a person (or a script) chooses what to download; its columns, its footer and
its JSON are the interface.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import time

import pytest

from tests.support.blackhole import black_hole
from tests.support.cli import cli
from tests.support.fake_hub import FakeHub
from tests.support.ports import free_port
from tests.unit.library.conftest import GATED, SMOL, TINY
from trayai.cli import library as library_cli
from trayai.core.embedded import bundled_model_path
from trayai.core.library.catalog import load_catalog
from trayai.core.library.machine import MachineMemory
from trayai.core.paths import AppPaths

GB = 1_000_000_000


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> list[MachineMemory]:
    """The machine the command sees: set ``memory[0]``."""
    machine = [MachineMemory(16 * GB, 7_100_000_000)]
    monkeypatch.setattr(library_cli, "probe_memory", lambda: machine[0])
    return machine


def rows(out: str) -> dict[str, list[str]]:
    """Table rows by model name: the lines between the header and the first blank line."""
    lines = out.splitlines()
    start = lines.index(next(line for line in lines if line.startswith("MODEL")))
    table = lines[start + 1 : lines.index("", start) if "" in lines[start:] else None]
    return {line.split()[0]: re.split(r"\s{2,}", line.strip()) for line in table}


def test_the_table_shows_what_fits_and_counts_what_does_not(memory: list[MachineMemory]) -> None:
    code, out, err = cli("library")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "This machine: 7.1 GB of 16.0 GB RAM free; no GPU seen."
    assert lines[2].split() == ["MODEL", "PARAMS", "QUANT", "SIZE", "FIT", "DOWNLOADED"]
    shown = rows(out)
    assert shown["qwen3-0.6b"] == ["qwen3-0.6b", "0.6B", "Q8_0", "~0.6 GB", "fits", "no"]
    assert shown["qwen3-4b"][4] == "fits with 16k context"
    assert "gemma-3-12b" not in shown  # 7.3 GB of weights alone: too large, hidden
    every = load_catalog().models
    hidden = len(every) - len(shown)
    assert hidden >= 1
    more = "1 more does not fit" if hidden == 1 else f"{hidden} more do not fit"
    assert f"{more} this machine: --all shows them" in lines
    assert (
        lines[-1] == "~ sizes are the catalog's first guesses; a download takes the real ones from the Hub."
    )


def test_all_shows_the_ones_that_do_not_fit_with_what_they_need(memory: list[MachineMemory]) -> None:
    code, out, _ = cli("library", "--all")
    assert code == 0
    shown = rows(out)
    assert len(shown) == len(load_catalog().models)
    assert shown["gemma-3-12b"][4].startswith("too large (needs ~")
    assert shown["gemma-3-12b"][4].endswith(", 7.1 GB free)")
    assert "--all shows them" not in out


def test_a_downloaded_model_is_marked_with_its_real_size(
    memory: list[MachineMemory], paths: AppPaths
) -> None:
    smol = bundled_model_path()
    assert smol is not None
    paths.models_dir.mkdir(parents=True)
    shutil.copyfile(smol, paths.models_dir / "Llama-3.2-1B-Instruct-Q8_0.gguf")
    code, out, _ = cli("library")
    assert code == 0
    row = rows(out)["llama-3.2-1b"]
    assert row[2] == "Q8_0"  # the downloaded file, though the catalog prefers Q4_K_M
    assert row[3] == f"{smol.stat().st_size / GB:.1f} GB"  # no ~: the file's own size
    assert row[5] == "yes"


def test_json_has_every_figure_and_the_hidden_count(memory: list[MachineMemory], paths: AppPaths) -> None:
    code, out, err = cli("library", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["machine"] == {"ram_total": 16 * GB, "ram_available": 7_100_000_000, "gpus": []}
    assert data["models_dir"] == str(paths.models_dir)
    names = [m["name"] for m in data["models"]]
    assert data["hidden"] == len(load_catalog().models) - len(names) >= 1
    qwen = next(m for m in data["models"] if m["name"] == "qwen3-4b")
    assert (
        qwen["repo"] == "Qwen/Qwen3-4B-GGUF" and qwen["source"] == "https://huggingface.co/Qwen/Qwen3-4B-GGUF"
    )
    assert qwen["quant"] == "Q4_K_M" and qwen["file"] == "Qwen3-4B-Q4_K_M.gguf"
    assert qwen["size_is_guess"] is True and qwen["downloaded"] is False and qwen["path"] is None
    assert qwen["capabilities"] == {"tools": True, "vision": False, "thinking": True}
    assert qwen["fit"]["verdict"] == "smaller_context" and qwen["fit"]["context"] == 16384
    assert qwen["fit"]["words"] == "fits with 16k context"
    assert qwen["fit"]["needs"] <= qwen["fit"]["free"] == 7_100_000_000
    _, everything, _ = cli("library", "--json", "--all")
    assert len(json.loads(everything)["models"]) == len(load_catalog().models)


def test_ctx_judges_every_model_at_that_context(memory: list[MachineMemory]) -> None:
    memory[0] = MachineMemory(64 * GB, 60 * GB)
    code, out, _ = cli("library", "--json", "--ctx", "8192")
    assert code == 0
    fits = [m["fit"] for m in json.loads(out)["models"]]
    assert all(f["verdict"] == "fits" and f["context"] == 8192 for f in fits)


@pytest.mark.parametrize(("value", "words"), [("100", "at least 2048 tokens"), ("lots", "not a number")])
def test_a_ctx_too_small_or_not_a_number_is_a_usage_error(
    value: str, words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli("library", "--ctx", value)
    assert exited.value.code == 2
    assert f"trayai library: error: argument --ctx: {words}" in capsys.readouterr().err


def test_library_search_lists_gguf_repositories_from_the_hub(hub: FakeHub) -> None:
    code, out, err = cli("library", "search", "trayai-test")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].split() == ["REPOSITORY", "DOWNLOADS", "LIKES"]
    assert lines[1].startswith(SMOL) and lines[3].startswith(GATED) and lines[3].endswith("gated")
    assert "trayai get REPO[:QUANT]" in out
    code, out, _ = cli("library", "search", "trayai-test", "--json")
    assert code == 0 and [h["repo"] for h in json.loads(out)] == [SMOL, TINY, GATED]
    code, out, _ = cli("library", "search", "no-such-words")
    assert code == 0 and "No GGUF repository" in out


def test_library_search_without_the_hub_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # Offline mode rather than a dead port: huggingface_hub retries a listing with back-off (~23 s).
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # read once at import: an earlier test imported it
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    code, _, err = cli("library", "search", "qwen3")
    assert code == 1 and "switched off here (HF_HUB_OFFLINE is set)" in err


@pytest.mark.parametrize("where", ["dead port", "black hole"])
def test_library_search_says_the_hub_is_unreachable_within_three_seconds(
    monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with contextlib.ExitStack() as stack:
        url = f"http://127.0.0.1:{free_port()}" if where == "dead port" else stack.enter_context(black_hole())
        monkeypatch.setenv("HF_ENDPOINT", url)
        began = time.monotonic()
        code, _, err = cli("library", "search", "qwen3")
        took = time.monotonic() - began
    assert code == 1 and "Hugging Face is unreachable: " in err, err
    assert "`trayai library` shows the catalog with its offline figures" in err
    assert took < 3.5, f"{where}: {took:.1f} s"  # huggingface_hub's own retries took ~23 s (or for ever)
