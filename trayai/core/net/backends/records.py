"""The one model record every backend is mapped to, the server kinds and their capability flags.

Typed so the tray, the CLI and the tests read the same facts, whichever API they came from.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field, replace
from typing import Literal, TypedDict

from trayai.core.errors import TrayaiError
from trayai.core.net.wire import JSONObject
from trayai.core.strenum import StrEnum


class ServerKind(StrEnum):
    """Which server answers: decided once per endpoint by :mod:`.fingerprint`."""

    OLLAMA = "ollama"
    LLAMACPP = "llama.cpp"
    LLAMACPP_ROUTER = "llama.cpp-router"
    LMSTUDIO = "lmstudio"
    LMSTUDIO_V0 = "lmstudio-v0"
    DMR = "docker-model-runner"
    LOCALAI = "localai"
    VLLM = "vllm"
    JAN = "jan"
    GENERIC = "openai-compatible"
    BUILTIN = "builtin"

    @property
    def label(self) -> str:
        """How a person calls it: "Ollama", "llama.cpp (router)", "LM Studio"."""
        return _LABELS[self]

    @property
    def reports_prompt_progress(self) -> bool:
        """The per-backend switch for ``return_progress`` (core/net/prompt_progress.py): only servers
        known to stream ``prompt_progress`` get the field — an unknown field can break a strict one."""
        return self in _PROMPT_PROGRESS

    @classmethod
    def from_owner(cls, owned_by: str | None) -> ServerKind | None:
        """The kind a ``/models`` row's ``owned_by`` proves, where it proves one ("llamacpp"), else None."""
        return _OWNERS.get((owned_by or "").lower())


_LABELS = {
    ServerKind.OLLAMA: "Ollama",
    ServerKind.LLAMACPP: "llama.cpp",
    ServerKind.LLAMACPP_ROUTER: "llama.cpp (router)",
    ServerKind.LMSTUDIO: "LM Studio",
    ServerKind.LMSTUDIO_V0: "LM Studio (v0 API)",
    ServerKind.DMR: "Docker Model Runner",
    ServerKind.LOCALAI: "LocalAI",
    ServerKind.VLLM: "vLLM",
    ServerKind.JAN: "Jan",
    ServerKind.GENERIC: "OpenAI-compatible",
    ServerKind.BUILTIN: "built-in llama.cpp",
}


# llama.cpp's server streams prompt_progress when asked (b6399 and later; earlier ones ignore the
# field); the built-in engine is that server. vLLM, Ollama, LM Studio, LocalAI, DMR: never sent.
_PROMPT_PROGRESS = frozenset({ServerKind.LLAMACPP, ServerKind.LLAMACPP_ROUTER, ServerKind.BUILTIN})
_OWNERS = {"llamacpp": ServerKind.LLAMACPP}  # single and router mode both list owned_by "llamacpp"


class ModelState(StrEnum):
    AVAILABLE = "available"  # on the server's disk, not in memory
    LOADING = "loading"
    LOADED = "loaded"
    SLEEPING = "sleeping"  # llama.cpp / vLLM: weights released while idle, the next request wakes it
    DOWNLOADING = "downloading"
    FAILED = "failed"  # the last load failed
    UNKNOWN = "unknown"  # the server cannot say (generic OpenAI servers: /v1/models only)

    @property
    def in_memory(self) -> bool:
        return self in (ModelState.LOADED, ModelState.SLEEPING, ModelState.LOADING)


@dataclass(frozen=True)
class Capabilities:
    """What this server lets trayai do; an optional call that 404s switches its flag off."""

    loaded_state: bool = False  # it can tell loaded from available
    load: bool = False
    unload: bool = False
    pull: bool = False
    busy: bool = False  # a real "generating now" signal, whoever the client is
    keep_alive: bool = False  # load takes a keep-alive duration (Ollama)

    def without(self, **flags: bool) -> Capabilities:
        return replace(self, **{k: False for k, v in flags.items() if not v})


class ModelRecordDict(TypedDict):
    """One model in ``--json`` output (``expires_at``: epoch seconds, "never", or None)."""

    id: str
    state: str
    size_bytes: int | None
    memory_bytes: int | None
    vram_bytes: int | None
    context_loaded: int | None
    context_trained: int | None
    expires_at: float | Literal["never"] | None
    remote: bool


@dataclass(frozen=True)
class ModelRecord:
    """One model as every backend is mapped: facts the server did not give stay None.

    ``memory_bytes`` is real resident memory (Ollama ``size``, LocalAI's monitor); elsewhere only
    ``size_bytes`` — the file — is known, and the display says "file size".
    """

    id: str
    state: ModelState
    size_bytes: int | None = None
    memory_bytes: int | None = None
    vram_bytes: int | None = None
    context_loaded: int | None = None
    context_trained: int | None = None
    expires_at: float | None = None  # epoch seconds; math.inf = kept loaded forever
    remote: bool = False  # a cloud model behind a local server (Ollama): never loaded or unloaded here
    instances: tuple[str, ...] = ()  # LM Studio instance ids (unload is per instance)
    detail: str | None = None  # why a load failed, what a download is doing

    @property
    def loaded(self) -> bool:
        return self.state in (ModelState.LOADED, ModelState.SLEEPING)

    @property
    def keeps_forever(self) -> bool:
        return self.expires_at is not None and math.isinf(self.expires_at)

    def to_dict(self) -> ModelRecordDict:
        return {
            "id": self.id,
            "state": self.state.value,
            "size_bytes": self.size_bytes,
            "memory_bytes": self.memory_bytes,
            "vram_bytes": self.vram_bytes,
            "context_loaded": self.context_loaded,
            "context_trained": self.context_trained,
            "expires_at": None
            if self.expires_at is None
            else ("never" if self.keeps_forever else round(self.expires_at, 3)),
            "remote": self.remote,
        }


class SnapshotDict(TypedDict):
    """A server snapshot in ``trayai models --json`` and ``status --json``."""

    kind: str
    kind_label: str
    version: str | None
    capabilities: dict[str, bool]
    busy: bool | None
    autoload: bool
    models: list[ModelRecordDict]
    error: JSONObject | None


@dataclass(frozen=True)
class ServerSnapshot:
    """What one look at a server found: its kind, what it allows and its models, loaded first."""

    kind: ServerKind
    caps: Capabilities
    models: tuple[ModelRecord, ...] = ()
    busy: bool | None = None  # None: this server gives no busy signal
    version: str | None = None
    autoload: bool = True  # a request for a model not in memory loads it (off: --no-models-autoload)
    error: TrayaiError | None = field(default=None, compare=False)  # the words vary; the kind does not
    checked_at: float = field(default_factory=time.time, compare=False)

    @property
    def loaded(self) -> tuple[ModelRecord, ...]:
        return tuple(m for m in self.models if m.loaded)

    def find(self, model_id: str) -> ModelRecord | None:
        return next((m for m in self.models if m.id == model_id), None)

    def to_dict(self) -> SnapshotDict:
        return {
            "kind": self.kind.value,
            "kind_label": self.kind.label,
            "version": self.version,
            "capabilities": {k: getattr(self.caps, k) for k in self.caps.__dataclass_fields__},
            "busy": self.busy,
            "autoload": self.autoload,
            "models": [m.to_dict() for m in self.models],
            "error": None if self.error is None else self.error.to_dict(),
        }


_STATE_ORDER = {
    ModelState.LOADED: 0,
    ModelState.LOADING: 1,
    ModelState.SLEEPING: 2,
    ModelState.DOWNLOADING: 3,
    ModelState.FAILED: 4,
    ModelState.AVAILABLE: 5,
    ModelState.UNKNOWN: 6,
}


def loaded_first(models: list[ModelRecord]) -> tuple[ModelRecord, ...]:
    """Loaded models first (then loading, sleeping, …), each group in the server's own order."""
    return tuple(sorted(models, key=lambda m: _STATE_ORDER[m.state]))


@dataclass(frozen=True)
class PullProgress:
    """One step of a pull, normalised from NDJSON (Ollama, DMR), SSE (llama.cpp) or job polling
    (LM Studio, LocalAI). ``completed``/``total`` are bytes summed over layers or files."""

    phase: str
    completed: int | None = None
    total: int | None = None
    done: bool = False

    @property
    def fraction(self) -> float | None:
        if self.total and self.completed is not None:
            return max(0.0, min(1.0, self.completed / self.total))
        return None
