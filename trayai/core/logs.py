"""Logging set-up shared by the CLI and the tray, with secrets redacted from every record.

The brief's rule: the API key never appears in logs. HTTP libraries log headers at debug level, so a
filter on the root handlers replaces any registered secret and any ``Authorization: Bearer …`` value.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

from trayai.core.paths import ensure_private_dir

_BEARER = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")
_KEY_FIELD = re.compile(
    r"""(?i)(["']?(?:api[_-]?key|authorization)["']?\s*[:=]\s*["']?)(?!bearer\s)[^"',\s}]+"""
)


class RedactingFilter(logging.Filter):
    """Replaces registered secrets and bearer tokens in messages with ``[redacted]``."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add_secret(self, secret: str) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        text = _BEARER.sub(r"\1[redacted]", text)
        return _KEY_FIELD.sub(r"\1[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def setup_logging(
    log_dir: Path | None, *, debug: bool = False, stderr: bool = False, filename: str = "trayai.log"
) -> RedactingFilter:
    """Configure the root logger: a rotating user-only file in ``log_dir`` and/or stderr."""
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    redactor = RedactingFilter()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    handlers: list[logging.Handler] = []
    if log_dir is not None:
        ensure_private_dir(log_dir)
        path = log_dir / filename
        file_handler = logging.handlers.RotatingFileHandler(
            path, maxBytes=2_000_000, backupCount=3, encoding="utf-8"
        )
        path.chmod(0o600)
        handlers.append(file_handler)
    if stderr:
        handlers.append(logging.StreamHandler())
    for handler in handlers:
        handler.setFormatter(fmt)
        handler.addFilter(redactor)
        root.addHandler(handler)
    if not debug:
        for noisy in ("httpx2", "httpcore", "httpcore2", "openai"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return redactor
