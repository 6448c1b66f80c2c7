"""The curated catalog shipped in the package: every entry complete, names unique, quantisations known,
sizes plausible for parameters × bits — and a broken entry refused with a message naming it.

Why: the catalog is data a person edits by hand; a missing field or a size off by a factor of ten
must fail here, not as a wrong fit verdict on someone's machine.
"""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from trayai.core.errors import AppError
from trayai.core.library.catalog import (
    CATALOG_RESOURCE,
    HUB,
    QUANT_BITS,
    CatalogError,
    Licence,
    Quant,
    load_catalog,
)

# A file's bits per parameter against its quantisation's nominal figure: small models carry more
# (embeddings kept at higher precision are a larger share), never less than a quarter below it.
PLAUSIBLE_BITS = (0.75, 1.45)


def raw() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(resources.files("trayai").joinpath(CATALOG_RESOURCE).read_text())
    return data


def test_the_shipped_catalog_loads_a_dozen_complete_models() -> None:
    catalog = load_catalog()
    assert 12 <= len(catalog.models) <= 20
    names = [m.name for m in catalog.models]
    assert len(set(names)) == len(names)
    for model in catalog.models:
        assert model.title and model.family and model.description and model.note, (
            model.name
        )  # the note says which figures are uncertain
        assert model.source == HUB + model.repo
        assert model.repo.split("/")[0] in {"Qwen", "ggml-org", "unsloth", "bartowski"}, model.repo
        assert model.files and all(f.file.endswith(".gguf") for f in model.files)
        assert model.shape.layers > 0 and model.shape.kv_heads > 0 and model.shape.key_length > 0
        assert model.context_length >= 8192
        assert isinstance(model.licence, Licence)


def test_the_catalog_covers_what_the_issue_asks() -> None:
    catalog = load_catalog()
    families = {m.family for m in catalog.models}
    assert {"qwen3", "gemma3", "llama3.2", "phi4", "smollm3", "qwen2"} <= families
    vision = [m for m in catalog.models if m.capabilities.vision]
    assert vision and all(m.projector is not None and m.projector.file.startswith("mmproj") for m in vision)
    assert any("coder" in m.name for m in catalog.models)
    assert any(m.capabilities.thinking for m in catalog.models)
    assert any(m.capabilities.tools for m in catalog.models)


@pytest.mark.parametrize("model", load_catalog().models, ids=lambda m: m.name)
def test_sizes_are_plausible_for_parameters_times_bits(model: Any) -> None:
    for file in model.files:
        bits = file.size_guess * 8 / (model.params_b * 1e9)
        low, high = (QUANT_BITS[file.quant] * k for k in PLAUSIBLE_BITS)
        assert low <= bits <= high, f"{file.file}: {bits:.2f} bits per parameter for {file.quant}"
        assert file.sha256 is None or len(file.sha256) == 64
    if model.projector is not None:
        assert 100e6 < model.projector.size_guess < 2e9


def test_quantisations_are_from_the_known_set_and_the_file_names_say_them() -> None:
    for model in load_catalog().models:
        for file in model.files:
            assert file.quant in Quant
            assert file.quant.value.lower() in file.file.lower(), file.file


def broken(change: Any) -> str:
    data = raw()
    change(data["models"][0])
    return json.dumps(data)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda m: m.pop("repo"), "has no 'repo'"),
        (lambda m: m.update(params_b=-1), "bad 'params_b'"),
        (lambda m: m.update(params_b=True), "bad 'params_b'"),
        (lambda m: m["files"][0].update(quant="Q4_K_X"), "bad 'quant': wanted one of Q2_K"),
        (lambda m: m["files"][0].update(size_guess="big"), "bad 'size_guess'"),
        (lambda m: m["files"][0].update(sha256="abc"), "bad 'sha256'"),
        (lambda m: m["files"][0].update(file="sub/x.gguf"), "bad 'file'"),
        (lambda m: m.update(files=[]), "bad 'files': wanted at least one item"),
        (lambda m: m["files"].append(copy.deepcopy(m["files"][0])), "one file per quantisation"),
        (lambda m: m.update(source="https://example.com/"), "bad 'source'"),
        (lambda m: m.update(licence="wtfpl"), "bad 'licence'"),
        (lambda m: m["capabilities"].update(vision=True), "bad 'projector'"),
        (lambda m: m["capabilities"].pop("tools"), "capabilities has no 'tools'"),
        (lambda m: m["architecture"].update(window_layers=3), "bad 'window_layers'"),
        (lambda m: m.update(name="Qwen3 0.6B"), "bad 'name'"),
        (lambda m: m.update(description=" "), "bad 'description'"),
    ],
)
def test_a_broken_entry_is_refused_naming_it(change: Any, words: str) -> None:
    with pytest.raises(CatalogError) as caught:
        load_catalog(broken(change))
    assert words in str(caught.value)
    assert "qwen3-0.6b" in str(caught.value) or "name" in words


def test_catalog_errors_are_app_errors_a_front_end_shows() -> None:
    assert issubclass(CatalogError, AppError) and issubclass(CatalogError, ValueError)


def test_duplicate_names_wrong_schema_and_bad_json_are_refused() -> None:
    data = raw()
    data["models"].append(copy.deepcopy(data["models"][0]))
    with pytest.raises(CatalogError, match=r"names 'qwen3-0\.6b' twice"):
        load_catalog(json.dumps(data))
    with pytest.raises(CatalogError, match="schema 2"):
        load_catalog(json.dumps({**raw(), "schema": 2}))
    with pytest.raises(CatalogError, match="not valid JSON"):
        load_catalog("{")


def test_lookup_by_name_ignores_case() -> None:
    catalog = load_catalog()
    model = catalog.get("Qwen3-4B")
    assert model is not None and model.repo == "Qwen/Qwen3-4B-GGUF"
    assert model.file_for(Quant.Q4_K_M) is not None and model.file_for(Quant.F16) is None
    assert catalog.get("nope") is None
