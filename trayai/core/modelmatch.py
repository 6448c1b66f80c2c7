"""Matching the configured model against the server's list, tolerantly (registry prefixes, ``:latest``,
case): the server's own spelling is what must be sent back, and a miss offers the closest names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

_REGISTRY_PREFIXES = (
    "docker.io/library/",
    "index.docker.io/",
    "docker.io/",
    "registry.ollama.ai/library/",
    "registry.ollama.ai/",
    "hf.co/",
    "huggingface.co/",
)


@dataclass(frozen=True)
class ModelMatch:
    """Outcome of matching ``requested`` against the server's list.

    ``resolved`` is the server's spelling to send in requests, or None when the model is missing;
    ``how`` says which tolerance was needed ("exact", "case", "registry/tag", "base name",
    "name without namespace"); ``suggestions`` lists close names when missing or ambiguous.
    """

    requested: str
    resolved: str | None
    how: str | None = None
    suggestions: list[str] = field(default_factory=list)

    @property
    def found(self) -> bool:
        return self.resolved is not None


def canonical_model_name(name: str) -> str:
    """Lower-case, registry prefix removed, ``:latest`` dropped: the form used for comparison."""
    text = name.strip().lower()
    for prefix in _REGISTRY_PREFIXES:
        if text.startswith(prefix):
            text = text[len(prefix) :]
            break
    if text.endswith(":latest"):
        text = text[: -len(":latest")]
    return text


def _base(name: str) -> str:
    """Canonical name without any tag (``ai/smollm2:360M-Q4`` → ``ai/smollm2``)."""
    canonical = canonical_model_name(name)
    slash = canonical.rfind("/")
    colon = canonical.find(":", slash + 1)
    return canonical if colon == -1 else canonical[:colon]


def _last_segment(name: str) -> str:
    return _base(name).rsplit("/", 1)[-1]


def match_model(requested: str, available: Sequence[str]) -> ModelMatch:
    """Find ``requested`` among ``available`` with increasing tolerance; see :class:`ModelMatch`."""
    if requested in available:
        return ModelMatch(requested, requested, "exact")
    rules = (
        ("case", lambda n: n.lower()),
        ("registry/tag", canonical_model_name),
        ("base name", _base),
        # Namespace dropped but the tag kept: `ai/smollm2` → Ollama's `smollm2:latest` even when
        # `smollm2:360m` is listed too (the same choice `:latest` gets everywhere else).
        ("name without namespace", lambda n: canonical_model_name(n).rsplit("/", 1)[-1]),
        ("name without namespace", _last_segment),
    )
    for how, key in rules:
        wanted = key(requested)
        hits = [name for name in available if key(name) == wanted]
        if len(hits) == 1:
            return ModelMatch(requested, hits[0], how)
        if len(hits) > 1:
            # Several tags of one model: the user must choose; guessing would hide a real choice.
            return ModelMatch(requested, None, None, suggestions=sorted(hits))
    return ModelMatch(requested, None, None, suggestions=close_matches(requested, available))


def close_matches(requested: str, available: Sequence[str], limit: int = 3) -> list[str]:
    """The server's names closest to ``requested`` (compared in canonical form)."""
    # lazy: difflib is loaded only when used: start-up time and memory
    import difflib  # only when a name is not found: kept off the tray's start-up

    by_canonical: dict[str, str] = {}
    for name in available:
        by_canonical.setdefault(canonical_model_name(name), name)
    near = difflib.get_close_matches(canonical_model_name(requested), list(by_canonical), n=limit, cutoff=0.4)
    return [by_canonical[c] for c in near]
