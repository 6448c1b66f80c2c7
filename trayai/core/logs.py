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

_BEARER = re.compile(r"(?i)((?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+")
_KEY_FIELD = re.compile(
    r"""(?i)(["']?(?:api[_-]?key|authorization)["']?\s*[:=]\s*["']?)(?!(?:bearer|basic)\s)[^"',\s}]+"""
)


class RedactingFilter(logging.Filter):
    """Replaces registered secrets and bearer/basic credentials with ``[redacted]``.

    Covers the message, its arguments and any traceback or stack text, since an exception's message
    can carry a key as easily as a log call can.
    """

    def __init__(self) -> None:
        super().__init__()
        self._secrets: set[str] = set()

    def add_secret(self, secret: str) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):  # longest first: no leftovers
            text = text.replace(secret, "[redacted]")
        text = _BEARER.sub(r"\1[redacted]", text)
        return _KEY_FIELD.sub(r"\1[redacted]", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message, formatted = record.getMessage(), True
        except Exception:  # a malformed call (wrong argument count) must not raise into the caller
            message, formatted = f"{record.msg} {record.args!r}", False
        redacted = self.redact(message)
        if redacted != message or not formatted:
            record.msg, record.args = redacted, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
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
