"""API keys in the OS keychain (keyring), under service ``trayai`` and the profile name — never in a
file. Without a working backend keys are kept for this session only, and we say so. MCP tool servers'
secrets (env values, headers) live apart, under service ``trayai-tools`` (:data:`TOOLS_SERVICE`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from trayai.core.net.urls import is_local_url

SERVICE = "trayai"
# Tool servers' secrets, named ``SERVER/env/NAME`` or ``SERVER/headers/NAME`` (core/tools/config.py): a
# namespace of their own, so a tool server called like a profile never meets that profile's key.
TOOLS_SERVICE = "trayai-tools"
if TYPE_CHECKING:
    from trayai.core.settings.memory_keyring import MemoryKeyring

PLACEHOLDER_KEY = "dummy-key"  # local servers need no key, but the OpenAI client insists on one

log = logging.getLogger(__name__)

_BACKEND_NAMES = {
    "SecretService": "Secret Service (GNOME Keyring / KWallet)",
    "libsecret": "libsecret (GNOME Keyring)",
    "kwallet": "KWallet",
    "macOS": "macOS Keychain",
    "Windows": "Windows Credential Locker",
}


@dataclass(frozen=True)
class KeyOutcome:
    """Where a key ended up: in the keychain, or only in memory for this session (with why)."""

    persistent: bool
    backend: str
    warning: str | None = None


class SecretStore:
    """Per-profile API keys over a keyring backend, with a session-only fallback.

    Pass ``backend`` in tests (a :class:`MemoryKeyring`); by default keyring's recommended backend is
    used — chosen lazily, on the first real use: detecting it costs start-up time and may talk to
    D-Bus, which a keyless session never needs. ``service`` is the keychain's namespace: profiles'
    keys by default, :data:`TOOLS_SERVICE` for tool servers' secrets.
    """

    def __init__(self, backend: Any | None = None, *, service: str = SERVICE) -> None:
        self.service = service
        self._backend: Any = backend
        self._resolved = backend is not None
        self._session: dict[str, str] = {}
        self._broken_reason: str | None = None
        if backend is not None and not _usable(backend):
            self._broken_reason = "no keyring backend is available"

    @property
    def _broken(self) -> str | None:
        if not self._resolved:
            self._resolved = True
            try:
                # lazy: keyring is loaded only when used: start-up time and memory
                import keyring

                self._backend = keyring.get_keyring()
            except Exception as exc:  # noqa: BLE001 - a broken keyring installation: session-only keys
                self._broken_reason = f"{type(exc).__name__}: {exc}"[:160]
            else:
                if not _usable(self._backend):
                    self._broken_reason = "no keyring backend is available"
        return self._broken_reason

    @property
    def backend_name(self) -> str:
        """A human name for where keys go, e.g. "macOS Keychain", or the session-only notice."""
        if self._broken:
            return "this session only (no keychain available)"
        return describe_backend(self._backend)

    @property
    def persistent(self) -> bool:
        return self._broken is None

    def get(self, profile: str) -> str | None:
        if profile in self._session:
            return self._session[profile]
        if self._broken:
            return None
        try:
            value = self._backend.get_password(self.service, profile)
        except Exception as exc:  # noqa: BLE001 - backends raise their own types (D-Bus, keychain): non-fatal
            self._mark_broken(exc)
            return None
        return value if isinstance(value, str) else None

    def set(self, profile: str, key: str) -> KeyOutcome:
        if not key:
            self.delete(profile)
            return KeyOutcome(self.persistent, self.backend_name)
        if not self._broken:
            try:
                self._backend.set_password(self.service, profile, key)
                self._session.pop(profile, None)
                return KeyOutcome(True, self.backend_name)
            except Exception as exc:  # noqa: BLE001 - as in get(): session-only from now on
                self._mark_broken(exc)
        self._session[profile] = key
        return KeyOutcome(
            False,
            self.backend_name,
            f"No working keychain ({self._broken}): the key for {profile!r} is kept for this session "
            "only and will be forgotten when trayai exits. Install and unlock a keyring "
            "(e.g. gnome-keyring) to store it.",
        )

    def delete(self, profile: str) -> bool:
        """Forget the key everywhere; True if there was one."""
        found = self._session.pop(profile, None) is not None
        if not self._broken:
            try:
                self._backend.delete_password(self.service, profile)
                found = True
            except Exception as exc:  # noqa: BLE001 - as in get(): session-only from now on
                # lazy: keyring is loaded only when used: start-up time and memory
                from keyring.errors import PasswordDeleteError

                if not isinstance(exc, PasswordDeleteError):  # "there was none" is not a fault
                    self._mark_broken(exc)
        return found

    def rename(self, old: str, new: str) -> None:
        """Move a key when a profile is renamed."""
        if old == new:
            return  # moving it onto itself would end by deleting it
        key = self.get(old)
        if key is not None:
            self.set(new, key)
            self.delete(old)

    def _mark_broken(self, exc: BaseException) -> None:
        self._broken_reason = f"{type(exc).__name__}: {exc}".strip()[:160]
        log.warning("keychain unavailable, keys are session-only: %s", type(exc).__name__)


def resolve_api_key(
    store: SecretStore | None, profile: str, base_url: str, env_key: str | None = None
) -> str:
    """The key to send: ``LOCAL_API_KEY`` > keychain > placeholder.

    Every request needs *some* key for the OpenAI client; local servers ignore it, remote ones
    answer 401, which the error table turns into "store a key with trayai key set".
    """
    if env_key:
        return env_key
    if store is not None:
        stored = store.get(profile)
        if stored:
            return stored
    return PLACEHOLDER_KEY


def key_needed_hint(base_url: str) -> str | None:
    """A nudge for remote endpoints that have no key yet (local ones need none)."""
    return None if is_local_url(base_url) else "This endpoint is not local: it probably needs an API key."


def describe_backend(backend: Any) -> str:
    module = type(backend).__module__.rsplit(".", 1)[-1]
    if type(backend).__name__ == "MemoryKeyring":
        return "in-memory keyring (tests)"
    if type(backend).__name__ == "ChainerBackend":
        inner = getattr(backend, "backends", [])
        return " + ".join(describe_backend(b) for b in inner) or "keyring chain"
    for marker, name in _BACKEND_NAMES.items():
        if marker in type(backend).__module__ or marker == module:
            return name
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _usable(backend: Any) -> bool:
    module = type(backend).__module__
    if module.endswith((".fail", ".null")):
        return False
    if type(backend).__name__ == "ChainerBackend":
        return bool(getattr(backend, "backends", []))
    return True


__all__ = [
    "PLACEHOLDER_KEY",
    "SERVICE",
    "TOOLS_SERVICE",
    "KeyOutcome",
    "MemoryKeyring",
    "SecretStore",
    "describe_backend",
    "key_needed_hint",
    "resolve_api_key",
]


def __getattr__(name: str) -> Any:
    """``MemoryKeyring`` from here, as before, without importing keyring for every command: the
    package (and its entry-point scan) loads only when a key is really looked up."""
    if name == "MemoryKeyring":
        # lazy: keyring and its entry-point scan load only when a key is looked up
        from trayai.core.settings.memory_keyring import MemoryKeyring

        return MemoryKeyring
    raise AttributeError(name)
