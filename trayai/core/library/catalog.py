"""The curated catalog: a dozen instruct GGUFs from the package's data file, checked into typed entries.

The models are data (trayai/resources/library/catalog.json), not code: a new one is a JSON entry.
Every figure there is checked here once, so the rest of trayai never meets a half-filled entry.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import NoReturn, TypeVar

from trayai.core.errors import AppError
from trayai.core.library.fit import ModelShape
from trayai.core.strenum import StrEnum

CATALOG_RESOURCE = "resources/library/catalog.json"
SCHEMA = 1
HUB = "https://huggingface.co/"
_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]*$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)


class CatalogError(AppError, ValueError):
    """The catalog file is missing or an entry is incomplete: a broken installation, said plainly."""


class Quant(StrEnum):
    """The quantisations the catalog may name (llama.cpp's spelling)."""

    Q2_K = "Q2_K"
    Q3_K_M = "Q3_K_M"
    Q4_0 = "Q4_0"
    Q4_K_S = "Q4_K_S"
    Q4_K_M = "Q4_K_M"
    IQ4_XS = "IQ4_XS"
    Q5_K_M = "Q5_K_M"
    Q6_K = "Q6_K"
    Q8_0 = "Q8_0"
    F16 = "F16"
    BF16 = "BF16"


# Nominal bits per weight of each quantisation (llama.cpp's figures for 7B models); a file is somewhat
# larger for small models, whose embeddings are a bigger share and kept at higher precision.
QUANT_BITS: Mapping[Quant, float] = {
    Quant.Q2_K: 3.0,
    Quant.Q3_K_M: 3.9,
    Quant.Q4_0: 4.5,
    Quant.Q4_K_S: 4.6,
    Quant.Q4_K_M: 4.85,
    Quant.IQ4_XS: 4.25,
    Quant.Q5_K_M: 5.7,
    Quant.Q6_K: 6.6,
    Quant.Q8_0: 8.5,
    Quant.F16: 16.0,
    Quant.BF16: 16.0,
}


class Licence(StrEnum):
    APACHE_2_0 = "apache-2.0"
    MIT = "mit"
    GEMMA = "gemma"
    LLAMA_3_2 = "llama3.2"


@dataclass(frozen=True)
class ModelCapabilities:
    tools: bool
    vision: bool
    thinking: bool

    @property
    def words(self) -> str:
        """``tools, thinking`` (empty when none)."""
        named = (("tools", self.tools), ("vision", self.vision), ("thinking", self.thinking))
        return ", ".join(name for name, has in named if has)


@dataclass(frozen=True)
class QuantFile:
    """One quantisation's file in the repository. ``size_guess`` is the catalog's own first guess:
    a download takes the real size (and sha256) from the Hub's listing."""

    quant: Quant
    file: str
    size_guess: int
    sha256: str | None = None


@dataclass(frozen=True)
class ProjectorFile:
    """A vision model's image encoder (``mmproj``), loaded beside the weights."""

    file: str
    size_guess: int


@dataclass(frozen=True)
class CatalogModel:
    """One curated model; ``files`` in order of preference (the first is the one to pick when it fits)."""

    name: str
    title: str
    family: str
    params_b: float  # billions of parameters
    repo: str
    source: str  # the repository's page on the Hub
    licence: Licence
    context_length: int
    shape: ModelShape
    capabilities: ModelCapabilities
    files: tuple[QuantFile, ...]
    projector: ProjectorFile | None
    description: str
    note: str = ""  # which figures are uncertain, and why

    def file_for(self, quant: Quant) -> QuantFile | None:
        return next((f for f in self.files if f.quant is quant), None)


@dataclass(frozen=True)
class Catalog:
    models: tuple[CatalogModel, ...]
    about: str

    def get(self, name: str) -> CatalogModel | None:
        return next((m for m in self.models if m.name == name.lower()), None)


def load_catalog(text: str | None = None) -> Catalog:
    """The package's catalog (or ``text``), checked; raises :class:`CatalogError` naming the bad entry."""
    if text is None:
        try:
            text = resources.files("trayai").joinpath(CATALOG_RESOURCE).read_text(encoding="utf-8")
        except OSError as exc:
            raise CatalogError(
                f"The model catalog is missing from this installation ({exc})",
                "Reinstall trayai: the file trayai/resources/library/catalog.json ships with it.",
            ) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise CatalogError(f"The model catalog is not valid JSON: {exc}") from exc
    doc = _Fields(data, "catalog")
    if doc.integer("schema") != SCHEMA:
        raise CatalogError(f"The model catalog has schema {data.get('schema')!r}; this trayai reads {SCHEMA}")
    models = tuple(_model(item) for item in doc.items("models"))
    seen: set[str] = set()
    for model in models:
        if model.name in seen:
            raise CatalogError(f"The model catalog names {model.name!r} twice")
        seen.add(model.name)
    return Catalog(models, doc.text("about"))


def _model(item: object) -> CatalogModel:
    fields = _Fields(item, "a catalog entry")
    name = fields.text("name")
    fields.where = f"catalog entry {name!r}"
    if not _NAME.match(name):
        fields.fail("name", "lower-case letters, digits, dots and dashes")
    repo = fields.text("repo")
    if not _REPO.match(repo):
        fields.fail("repo", "owner/name")
    source = fields.text("source")
    if source != HUB + repo:
        fields.fail("source", f"its repository's page, {HUB + repo}")
    context = fields.integer("context_length")
    arch = _Fields(fields.value("architecture", dict), f"{fields.where}'s architecture")
    head_dim = arch.integer("head_dim")
    layers, window_layers = arch.integer("layers"), arch.count("window_layers")
    window = arch.count("sliding_window")
    if (window == 0) != (window_layers == 0) or window_layers >= layers:
        arch.fail("window_layers", "fewer than the layers, given together with sliding_window")
    shape = ModelShape(layers, arch.integer("kv_heads"), head_dim, head_dim, context, window, window_layers)
    caps = _Fields(fields.value("capabilities", dict), f"{fields.where}'s capabilities")
    capabilities = ModelCapabilities(caps.flag("tools"), caps.flag("vision"), caps.flag("thinking"))
    files = tuple(_quant_file(f, fields.where) for f in fields.items("files"))
    if len({f.quant for f in files}) != len(files):
        fields.fail("files", "one file per quantisation")
    projector = _projector(fields.data.get("projector"), fields.where)
    if capabilities.vision != (projector is not None):
        fields.fail("projector", "a projector file exactly when the model has vision")
    return CatalogModel(
        name=name,
        title=fields.text("title"),
        family=fields.text("family"),
        params_b=fields.number("params_b"),
        repo=repo,
        source=source,
        licence=fields.choice("licence", Licence),
        context_length=context,
        shape=shape,
        capabilities=capabilities,
        files=files,
        projector=projector,
        description=fields.text("description"),
        note=fields.text("note", required=False),
    )


def _quant_file(item: object, where: str) -> QuantFile:
    fields = _Fields(item, f"{where}'s files")
    file = fields.text("file")
    if not file.endswith(".gguf") or "/" in file:
        fields.fail("file", "a .gguf file name at the repository's top level")
    sha = fields.data.get("sha256")
    if sha is not None and not (isinstance(sha, str) and _SHA256.match(sha)):
        fields.fail("sha256", "64 lower-case hex digits")
    return QuantFile(fields.choice("quant", Quant), file, fields.integer("size_guess"), sha)


def _projector(item: object, where: str) -> ProjectorFile | None:
    if item is None:
        return None
    fields = _Fields(item, f"{where}'s projector")
    file = fields.text("file")
    if not file.endswith(".gguf"):
        fields.fail("file", "a .gguf file name")
    return ProjectorFile(file, fields.integer("size_guess"))


class _Fields:
    """Typed reads from one JSON object; a wrong or missing field is a :class:`CatalogError` naming it."""

    def __init__(self, data: object, where: str) -> None:
        if not isinstance(data, dict):
            raise CatalogError(f"The model catalog's {where} is not an object")
        self.data: Mapping[str, object] = data
        self.where = where

    def fail(self, key: str, wanted: str) -> NoReturn:
        raise CatalogError(f"The model catalog's {self.where} has a bad {key!r}: wanted {wanted}")

    def value(self, key: str, kind: type[T]) -> T:
        """The field, of ``kind`` (a JSON true/false is not a number here)."""
        if key not in self.data:
            raise CatalogError(f"The model catalog's {self.where} has no {key!r}")
        value = self.data[key]
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            self.fail(key, kind.__name__)
        return value

    def text(self, key: str, *, required: bool = True) -> str:
        if not required and key not in self.data:
            return ""
        value = self.value(key, str)
        if not value.strip():
            self.fail(key, "some text")
        return value

    def integer(self, key: str) -> int:
        value = self.value(key, int)
        if value <= 0:
            self.fail(key, "a positive integer")
        return value

    def count(self, key: str) -> int:
        """An optional non-negative integer (0 when absent)."""
        if key not in self.data:
            return 0
        value = self.value(key, int)
        if value < 0:
            self.fail(key, "zero or more")
        return value

    def number(self, key: str) -> float:
        value = self.data.get(key)
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            self.fail(key, "a positive number")
        return float(value)

    def flag(self, key: str) -> bool:
        return self.value(key, bool)

    def items(self, key: str) -> list[object]:
        value: list[object] = self.value(key, list)
        if not value:
            self.fail(key, "at least one item")
        return value

    def choice(self, key: str, enum: type[E]) -> E:
        value = self.text(key)
        try:
            return enum(value)
        except ValueError:
            self.fail(key, "one of " + ", ".join(member.value for member in enum))
