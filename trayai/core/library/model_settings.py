"""Each library model's own settings made concrete for this machine: "auto" resolved, the chat template
override checked, and the default sampling a request lacks.

Auto context is the largest of (the model's trained context, 32k, 16k, 8k, 4k, 2k) that fits the memory
free now with the weights (core/library/fit.py's estimate); auto threads are physical cores but one
(``embedded.default_threads``, measured); GPU layers are offered only when the engine build sees a GPU.
The library window, ``trayai library show|set`` and the on-demand server all resolve through here, so
"auto (8,192 — fits 7.1 GB free)" means the same thing everywhere.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trayai.core.embedded import default_threads
from trayai.core.errors import ConfigError
from trayai.core.library.fit import RUNTIME_OVERHEAD, ModelShape, estimate, gigabytes
from trayai.core.library.ggufmeta import GgufError, read_metadata
from trayai.core.library.need import GUESS_KV_BYTES_PER_TOKEN
from trayai.core.settings.config import ModelSettings, Settings
from trayai.core.settings.fields import coerce_value, field_specs
from trayai.core.strenum import StrEnum

CONTEXT_STEPS = (32_768, 16_384, 8_192, 4_096, 2_048)  # tokens, tried below the model's own context
UNKNOWN_SHAPE_CONTEXT = 4_096  # auto for a file whose header cannot be read (its load will tell)
MAX_TEMPLATE_FILE = 1 << 20  # bytes: a Jinja chat template is a few KB; anything larger is not one
# llama.cpp's built-in chat templates (src/llama-chat.cpp, LLM_CHAT_TEMPLATES) in the pinned xllamacpp:
# each name is in its library. A name runs through llama.cpp's own formatter, not Jinja.
BUILTIN_TEMPLATES = (
    "bailing",
    "bailing-think",
    "bailing2",
    "chatglm3",
    "chatglm4",
    "chatml",
    "command-r",
    "deepseek",
    "deepseek-ocr",
    "deepseek2",
    "deepseek3",
    "dots1",
    "exaone-moe",
    "exaone3",
    "exaone4",
    "falcon3",
    "gemma",
    "gigachat",
    "glmedge",
    "gpt-oss",
    "granite",
    "granite-4.0",
    "granite-4.1",
    "grok-2",
    "hunyuan-dense",
    "hunyuan-moe",
    "hunyuan-vl",
    "kimi-k2",
    "llama2",
    "llama2-sys",
    "llama2-sys-bos",
    "llama2-sys-strip",
    "llama3",
    "llama4",
    "megrez",
    "minicpm",
    "mistral-v1",
    "mistral-v3",
    "mistral-v3-tekken",
    "mistral-v7",
    "mistral-v7-tekken",
    "monarch",
    "openchat",
    "orion",
    "pangu-embedded",
    "phi3",
    "phi4",
    "rwkv-world",
    "seed_oss",
    "smolvlm",
    "solar-open",
    "vicuna",
    "vicuna-orca",
    "yandex",
    "zephyr",
)
# A default sampling setting → the request fields that already say it (a client's own value wins).
SAMPLING_FIELDS: Mapping[str, tuple[str, ...]] = {
    "temperature": ("temperature",),
    "top_p": ("top_p",),
    "top_k": ("top_k",),
    "min_p": ("min_p",),
    "repeat_penalty": ("repeat_penalty",),
    "max_tokens": ("max_tokens", "max_completion_tokens", "n_predict"),
}
LOAD_FIELDS = ("context_size", "threads", "gpu_layers", "chat_template")  # apply on the next load
EDITABLE = (*LOAD_FIELDS, *SAMPLING_FIELDS)


class TemplateKind(StrEnum):
    """What a chat template override is: none (the model's own), a built-in name, or a Jinja file."""

    NONE = "none"
    NAME = "name"
    FILE = "file"


@dataclass(frozen=True)
class ModelFacts:
    """What the auto choices need from a model: its weights' bytes and, when its header reads, its shape."""

    weights: int
    shape: ModelShape | None

    @classmethod
    def of_file(cls, path: Path) -> ModelFacts:
        """Read from the GGUF's header (a damaged one leaves ``shape`` None; its load will tell)."""
        size = path.stat().st_size
        try:
            return cls(size, read_metadata(path).shape())
        except (GgufError, OSError):
            return cls(size, None)

    def need(self, context: int) -> int:
        """Bytes in memory at ``context`` tokens: weights + KV cache + engine (without a shape, a guess)."""
        if self.shape is None:
            return self.weights + context * GUESS_KV_BYTES_PER_TOKEN + RUNTIME_OVERHEAD
        return estimate(self.weights, self.shape, context).total


@dataclass(frozen=True)
class Machine:
    """This machine as the auto choices see it: RAM free now (bytes), auto threads, a GPU in the engine."""

    free: int
    threads: int
    gpu: bool


def probe_machine() -> Machine:
    """RAM available now (psutil), physical cores but one, and whether the engine build sees a GPU."""
    # lazy: psutil is loaded only when used: start-up time and memory
    import psutil

    return Machine(int(psutil.virtual_memory().available), default_threads(), engine_has_gpu())


@functools.cache
def engine_has_gpu() -> bool:
    """Does the installed engine (xllamacpp) see a GPU device? Its build decides: a CPU wheel never does.

    Asked once per process (the device list does not change while it runs).
    """
    try:
        # lazy: the engine is ~100 MB of native code, loaded only to ask its devices
        import xllamacpp

        devices = xllamacpp.get_device_info()
    except (ImportError, AttributeError, RuntimeError, OSError):
        return False
    return any("GPU" in str(device.get("type", "")) for device in devices)


@dataclass(frozen=True)
class ContextChoice:
    """A context size with its fit: ``need`` bytes at ``tokens`` against ``free`` (None: shape unknown)."""

    tokens: int
    auto: bool
    need: int
    free: int
    known: bool = True  # False: the file's header could not be read, the need is a guess

    @property
    def fits(self) -> bool:
        return self.need <= self.free

    @property
    def fit_words(self) -> str:
        """ "fits" / "too large (needs ~9.8 GB, 7.1 GB free)" (the editor's live line)."""
        if self.fits:
            return "fits" if self.known else "fits, by a guess (the file's header is unreadable)"
        return f"too large (needs ~{gigabytes(self.need)}, {gigabytes(self.free)} free)"

    @property
    def words(self) -> str:
        """ "auto (8,192 — fits 7.1 GB free)" or "16,384 — too large (needs ~9.8 GB, 7.1 GB free)"."""
        fit = f"fits {gigabytes(self.free)} free" if self.fits else self.fit_words
        if not self.known and self.fits:
            fit = "fit unknown: the file's header is unreadable"
        text = f"{self.tokens:,} — {fit}"
        return f"auto ({text})" if self.auto else text


def context_candidates(trained: int) -> list[int]:
    """The model's own context, then each step below it, largest first."""
    return [trained, *(step for step in CONTEXT_STEPS if step < trained)]


def auto_context(facts: ModelFacts, free: int) -> ContextChoice:
    """The largest candidate that fits ``free`` bytes with the weights; the smallest when none does."""
    if facts.shape is None:
        tokens = UNKNOWN_SHAPE_CONTEXT
        return ContextChoice(tokens, True, facts.need(tokens), free, known=False)
    candidates = context_candidates(facts.shape.context_length)
    for tokens in candidates:
        need = facts.need(tokens)
        if need <= free:
            return ContextChoice(tokens, True, need, free)
    smallest = candidates[-1]
    return ContextChoice(smallest, True, facts.need(smallest), free)


def context_at(facts: ModelFacts, tokens: int, free: int) -> ContextChoice:
    """A context the person set, with its fit."""
    return ContextChoice(tokens, False, facts.need(tokens), free, known=facts.shape is not None)


@dataclass(frozen=True)
class LoadPlan:
    """What one engine child starts with (the pool's memory need is at this context)."""

    context: int
    threads: int
    gpu_layers: int | None  # None: the engine's own choice (and always None without a GPU)
    template: str  # "" = the model's own
    template_kind: TemplateKind
    need: int  # bytes, by estimate


@dataclass(frozen=True)
class Effective:
    """One model's settings as they apply here: each value and whether it is auto."""

    name: str
    context: ContextChoice
    threads: int
    threads_auto: bool
    gpu: bool  # the engine build sees a GPU: GPU layers mean something
    gpu_layers: int | None
    template: str
    sampling: Mapping[str, float | int]

    @property
    def template_kind(self) -> TemplateKind:
        return template_kind(self.template)

    def plan(self) -> LoadPlan:
        return LoadPlan(
            self.context.tokens,
            self.threads,
            self.gpu_layers if self.gpu else None,
            self.template,
            self.template_kind,
            self.context.need,
        )


def resolve(entry: ModelSettings, facts: ModelFacts, machine: Machine) -> Effective:
    """``entry``'s values, each auto one chosen for ``machine``."""
    if entry.context_size is None:
        context = auto_context(facts, machine.free)
    else:
        context = context_at(facts, entry.context_size, machine.free)
    return Effective(
        name=entry.name,
        context=context,
        threads=entry.threads or machine.threads,
        threads_auto=entry.threads is None,
        gpu=machine.gpu,
        gpu_layers=entry.gpu_layers,
        template=entry.chat_template,
        sampling=sampling_defaults(entry),
    )


# --------------------------------------------------------------------------- chat templates


def template_kind(value: str) -> TemplateKind:
    """A built-in name, else (anything that is not empty) a file path."""
    if not value:
        return TemplateKind.NONE
    return TemplateKind.NAME if value in BUILTIN_TEMPLATES else TemplateKind.FILE


def template_problem(value: str) -> str | None:
    """Why ``value`` cannot be a chat template override (None: it can): an unknown name, a file that is
    missing, unreadable, too large or not text."""
    kind = template_kind(value)
    if kind is not TemplateKind.FILE:
        return None
    path = Path(value).expanduser()
    looks_like_path = "/" in value or value.startswith("~") or path.suffix in (".jinja", ".j2", ".txt")
    if not looks_like_path:
        return (
            f"{value!r} is not one of llama.cpp's built-in chat templates (e.g. chatml, llama3, gemma, "
            "phi4, mistral-v7) nor a template file's path"
        )
    try:
        if not path.is_file():
            return f"No chat template file at {path}"
        if path.stat().st_size > MAX_TEMPLATE_FILE:
            return f"{path} is larger than {MAX_TEMPLATE_FILE // 1024} KB: not a chat template"
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return f"Cannot read {path}: {exc.strerror or exc}"
    except UnicodeDecodeError:
        return f"{path} is not UTF-8 text: not a chat template"
    if "{{" not in text and "{%" not in text:
        return f"{path} holds no Jinja ({{{{ … }}}} or {{% … %}}): not a chat template"
    return None


def read_template_file(value: str) -> str:
    """The Jinja source of a template file override (checked first: ConfigError with its words)."""
    problem = template_problem(value)
    if problem:
        raise ConfigError(problem)
    return Path(value).expanduser().read_text(encoding="utf-8")


# --------------------------------------------------------------------------- default sampling


def sampling_defaults(entry: ModelSettings) -> dict[str, float | int]:
    """The default sampling ``entry`` sets, by request field name (what is auto is left out)."""
    found: dict[str, float | int] = {}
    for name in SAMPLING_FIELDS:
        value = getattr(entry, name)
        if value is not None:
            found[name] = value
    return found


def with_sampling_defaults(
    body: Mapping[str, Any], defaults: Mapping[str, float | int]
) -> dict[str, Any] | None:
    """``body`` with each default it does not say itself added; None when nothing was added.

    A client's own value always wins, ``null`` included (it asked for the engine's default); a
    ``max_tokens`` default yields to ``max_completion_tokens`` or llama.cpp's ``n_predict`` too.
    """
    added = {
        name: value
        for name, value in defaults.items()
        if not any(key in body for key in SAMPLING_FIELDS[name])
    }
    return {**body, **added} if added else None


# --------------------------------------------------------------------------- editing


def set_values(settings: Settings, name: str, changes: Mapping[str, object]) -> ModelSettings:
    """Apply ``changes`` (setting → value, None = auto) to ``name``'s entry in ``settings``.

    Every value is checked first (kind, bounds, the template's name or file): ConfigError and nothing
    changed when one is wrong. An entry left all auto is removed. Returns the entry as it is now.
    """
    specs = field_specs(ModelSettings)
    current = settings.model_entry(name)
    values: dict[str, object] = {}
    for key, value in changes.items():
        if key not in EDITABLE:
            raise ConfigError(f"{key!r} is not a per-model setting (these are: {', '.join(EDITABLE)})")
        if key == "chat_template":
            text = "" if value is None else str(value).strip()
            problem = template_problem(text)
            if problem:
                raise ConfigError(problem)
            values[key] = text
            continue
        try:
            values[key] = coerce_value(value, specs[key])
        except ConfigError as exc:
            raise ConfigError(f"{key}: {exc}") from None
    updated = dataclasses.replace(current, **values)  # type: ignore[arg-type]  # checked above
    entries = settings.model_settings
    if is_all_auto(updated):
        settings.model_settings = [entry for entry in entries if entry.name != name]
    elif any(entry.name == name for entry in entries):
        settings.model_settings = [updated if entry.name == name else entry for entry in entries]
    else:
        settings.model_settings = [*entries, updated]
    return updated


def is_all_auto(entry: ModelSettings) -> bool:
    """Nothing set: the entry says no more than its absence."""
    return dataclasses.replace(entry, name="") == ModelSettings()


def changed_on_reload(before: ModelSettings, after: ModelSettings) -> list[str]:
    """The load settings that differ (they apply when the model loads next; sampling applies at once)."""
    return [key for key in LOAD_FIELDS if getattr(before, key) != getattr(after, key)]
