"""The one secret redactor for logs, output, ``--json``, history and the chat window.

A server can echo the key back (docs/architecture.md, "Security: untrusted server text and the API key").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

REDACTED = "[redacted]"
_BEARER = re.compile(r"(?i)((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+")
_KEY_FIELD = re.compile(
    r"""(?i)(["']?(?:api[_-]?key|authorization)["']?\s*[:=]\s*["']?)(?!(?:bearer|basic)\s)[^"',\s}]+"""
)
MIN_SECRET_LENGTH = 4  # shorter "secrets" would mangle ordinary words


class Redactor:
    """Replaces registered secrets (the keys in use) and credential-looking fields with ``[redacted]``.

    Built once where keys are resolved (the CLI's ``Context``, the tray app) and passed in: no global.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: list[str] = []
        for secret in secrets:
            self.add_secret(secret)

    def add_secret(self, secret: str) -> None:
        if secret and len(secret) >= MIN_SECRET_LENGTH and secret not in self._secrets:
            self._secrets.append(secret)
            self._secrets.sort(key=len, reverse=True)  # longest first: no leftovers

    def redact_secrets(self, text: str) -> str:
        """Only the registered secrets: for stored text (answers, prompts), which the patterns
        below would mangle (an answer may show ``Authorization: Bearer <token>`` as an example)."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def redact(self, text: str) -> str:
        """Secrets and credential patterns (``Bearer …``, ``api_key=…``): for logs and errors."""
        text = _BEARER.sub(rf"\1{REDACTED}", self.redact_secrets(text))
        return _KEY_FIELD.sub(rf"\1{REDACTED}", text)

    def redact_data(self, value: Any, *, patterns: bool = True) -> Any:
        """Every string inside JSON-like data, so ``--json`` output stays valid and key-free."""
        if isinstance(value, str):
            return self.redact(value) if patterns else self.redact_secrets(value)
        if isinstance(value, dict):
            return {k: self.redact_data(v, patterns=patterns) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [self.redact_data(v, patterns=patterns) for v in value]
        return value
