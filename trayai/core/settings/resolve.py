"""Settings + environment + flags → the one endpoint a command talks to, with where each value came
from (flag > environment/.env > profile; docs/architecture.md, "Resolving what to talk to").
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import ConfigError, make_error
from trayai.core.net.client import Endpoint
from trayai.core.net.urls import InvalidURLError, normalize_base_url
from trayai.core.settings.config import Profile
from trayai.core.settings.secrets import PLACEHOLDER_KEY, SecretStore
from trayai.core.settings.store import LoadedConfig


@dataclass(frozen=True)
class ResolvedEndpoint:
    """The endpoint to use and the provenance of each of its values."""

    profile: Profile
    endpoint: Endpoint
    model: str
    url_changes: list[str] = field(default_factory=list)
    sources: dict[str, str] = field(default_factory=dict)
    key_source: str = "none"

    @property
    def base_url(self) -> str:
        return self.endpoint.base_url

    @property
    def has_real_key(self) -> bool:
        return self.endpoint.api_key != PLACEHOLDER_KEY

    @property
    def own_profile(self) -> str | None:
        """The profile's name when the server is the profile's own; None when ``--endpoint`` or an
        environment variable sent the run elsewhere (a record must not name a profile it skipped)."""
        return self.profile.name if self.sources.get("base_url", "").startswith("profile ") else None

    @property
    def where(self) -> str:
        """The server used, as a person reads it: "profile 'Local' (URL)", or "URL (from --endpoint)"."""
        if self.own_profile is not None:
            return f"profile {self.own_profile!r} ({self.base_url})"
        return f"{self.base_url} (from {self.sources.get('base_url', 'an override')})"


def resolve_endpoint(
    loaded: LoadedConfig,
    secrets: SecretStore | None,
    *,
    profile: str | None = None,
    base_url: str | None = None,
    model: str | None = None,
) -> ResolvedEndpoint:
    """Pick the profile, apply overrides, normalise the URL and find the key.

    Raises :class:`ConfigError` for an unknown profile and a ``TrayaiError`` (INVALID_URL) for a base
    URL that cannot be used.
    """
    settings = loaded.settings
    if profile is not None and not settings.has_profile(profile):
        names = ", ".join(repr(p.name) for p in settings.profiles)
        raise ConfigError(f"No profile named {profile!r} (profiles: {names})")
    chosen = loaded.effective_profile(profile)
    explicit_other = profile is not None and profile != settings.active().name
    sources = {"base_url": f"profile {chosen.name!r}", "model": f"profile {chosen.name!r}"}
    if not explicit_other:
        for name in ("base_url", "model"):
            if name in loaded.overrides:
                override = loaded.overrides[name]
                sources[name] = f"{override.variable} ({override.source})"
    if base_url:
        chosen = replace(chosen, base_url=base_url)
        sources["base_url"] = "--endpoint"
    if model:
        chosen = replace(chosen, model=model)
        sources["model"] = "--model"
    try:
        normalized = normalize_base_url(chosen.base_url)
    except InvalidURLError as exc:
        raise make_error(ErrorCode.INVALID_URL, f"Invalid base URL ({sources['base_url']}): {exc}") from exc

    env_key = loaded.env_api_key
    key: str | None = None
    key_source = "none needed (placeholder sent)"
    if env_key is not None and not explicit_other:
        key, key_source = env_key.value, f"{env_key.variable} ({env_key.source})"
    elif secrets is not None and chosen.key_in_keychain:
        # Only profiles known to have a key touch the keychain: a lookup can start a keyring daemon
        # and block on an unlock prompt, which must never happen for a keyless local server.
        stored = secrets.get(chosen.name)
        if stored:
            key, key_source = stored, f"keychain ({secrets.backend_name})"
    endpoint = Endpoint(
        base_url=normalized.url,
        api_key=key or PLACEHOLDER_KEY,
        name=chosen.name,
        first_token_timeout=chosen.first_token_timeout,
        stall_timeout=chosen.stall_timeout,
        answer_timeout=chosen.answer_timeout,
    )
    return ResolvedEndpoint(
        profile=chosen,
        endpoint=endpoint,
        model=chosen.model,
        url_changes=normalized.changes,
        sources=sources,
        key_source=key_source,
    )
