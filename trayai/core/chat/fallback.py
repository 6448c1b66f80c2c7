"""Fallback profiles (the original brief's "fallback strategy"): when a profile's server is down or
fails before its first token, the next profile in its ``fallback`` list that can be used answers —
never after a first token, never silently, never to a profile whose key is not stored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import AppError, TrayaiError
from trayai.core.settings.resolve import ResolvedEndpoint, resolve_endpoint

if TYPE_CHECKING:
    from trayai.core.settings.secrets import SecretStore
    from trayai.core.settings.store import LoadedConfig

# Failures that say "this server cannot answer now" — before any text, so trying another is safe.
FALLBACK_CODES = frozenset(
    {
        ErrorCode.CONNECTION_REFUSED,
        ErrorCode.DNS,
        ErrorCode.CONNECT_TIMEOUT,
        ErrorCode.NETWORK,
        ErrorCode.TLS,
        ErrorCode.SERVER_ERROR,
        ErrorCode.MODEL_NOT_FOUND,
        ErrorCode.MODEL_MISSING,
        ErrorCode.NO_MODELS,
        ErrorCode.HTML_RESPONSE,
        ErrorCode.FIRST_TOKEN_TIMEOUT,
        ErrorCode.DISCONNECTED,
    }
)


def worth_falling_back(error: TrayaiError, *, text_so_far: str = "") -> bool:
    """True when ``error`` came before any answer text and says the server cannot answer now."""
    return not text_so_far and not error.partial and error.code in FALLBACK_CODES


@dataclass(frozen=True)
class FallbackChain:
    """The endpoints to try in order: the chosen profile first, then its usable fallbacks."""

    endpoints: list[ResolvedEndpoint]
    skipped: list[str] = field(default_factory=list)  # "'cloud' — needs a key that is not stored"

    @property
    def primary(self) -> ResolvedEndpoint:
        return self.endpoints[0]

    def next_after(self, index: int) -> ResolvedEndpoint | None:
        return self.endpoints[index + 1] if index + 1 < len(self.endpoints) else None


def fallback_chain(
    loaded: LoadedConfig,
    secrets: SecretStore | None,
    primary: ResolvedEndpoint,
    known: Callable[[ResolvedEndpoint], ResolvedEndpoint] = lambda r: r,
    *,
    explicit: bool = False,
) -> FallbackChain:
    """``primary`` plus its profile's fallbacks that can be used.

    ``explicit``: the user gave ``--endpoint`` / ``--model`` — the answer must come from there, so
    there is no fallback.
    """
    if explicit:
        return FallbackChain([primary])
    endpoints, skipped = [primary], []
    for name in primary.profile.fallback_names():
        if not loaded.settings.has_profile(name):
            skipped.append(f"{name!r} — no such profile")
            continue
        profile = loaded.settings.profile(name)
        try:
            resolved = known(resolve_endpoint(loaded, secrets, profile=name))
        except AppError as exc:
            skipped.append(f"{name!r} — {exc}")
            continue
        if profile.key_in_keychain and not resolved.has_real_key:
            skipped.append(f"{name!r} — needs a key that is not stored (`trayai key set {name}`)")
            continue
        if any(_same_target(e, resolved) for e in endpoints):
            continue  # another profile for the same server, key and model: it failed already
        endpoints.append(resolved)
    return FallbackChain(endpoints, skipped)


def _same_target(a: ResolvedEndpoint, b: ResolvedEndpoint) -> bool:
    """Whether two profiles would send the same request (their names and timeouts aside)."""
    return (a.base_url, a.endpoint.api_key, a.model) == (b.base_url, b.endpoint.api_key, b.model)


def fallback_note(primary: str, used: str, why: TrayaiError) -> str:
    """The words shown wherever a fallback answered (``primary`` and ``used``: profile names, or
    URLs where no profile is the server's own)."""
    return f"answered by fallback {used!r}: {primary!r} failed ({why.message})"
