"""``ActiveEndpoint``: what the app talks to now — the resolved endpoint (with where each value came
from) and the one client for it. A value, replaced whole when any of it changes, so every reader (the
monitor's polls, the chat, the menus) sees one consistent pair, never a client of one profile with
the model of another.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from trayai.core.net.client import ModelClient
from trayai.core.settings.resolve import ResolvedEndpoint


@dataclass(frozen=True)
class ActiveEndpoint:
    resolved: ResolvedEndpoint
    client: ModelClient

    @property
    def model(self) -> str:
        return self.resolved.model

    @property
    def base_url(self) -> str:
        return self.resolved.base_url

    def same_server(self, resolved: ResolvedEndpoint) -> bool:
        """Whether ``resolved`` can keep this client (same URL, key and timeouts)."""
        return resolved.endpoint == self.resolved.endpoint

    def with_model(self, model: str) -> ActiveEndpoint:
        """The same server and client, another model."""
        return ActiveEndpoint(replace(self.resolved, model=model), self.client)


__all__ = ["ActiveEndpoint"]
