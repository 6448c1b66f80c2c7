"""Logging set-up shared by the CLI and the tray; the API key never appears in a log record.

HTTP libraries log headers at debug level: a filter on the root handlers redacts every record.
"""

from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from trayai.core.paths import ensure_private_dir
from trayai.core.redact import Redactor


class RedactingFilter(logging.Filter):
    """Passes each record through a :class:`~trayai.core.redact.Redactor` (the app's, when given).

    Covers the message, its arguments and any traceback or stack text, since an exception's message
    can carry a key as easily as a log call can.
    """

    def __init__(self, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.redactor = redactor if redactor is not None else Redactor()

    def add_secret(self, secret: str) -> None:
        self.redactor.add_secret(secret)

    def redact(self, text: str) -> str:
        return self.redactor.redact(text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message, formatted = record.getMessage(), True
        except Exception:  # noqa: BLE001 - a bad call (wrong arguments, a failing __str__) must not raise
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
    log_dir: Path | None,
    *,
    debug: bool = False,
    stderr: bool = False,
    filename: str = "trayai.log",
    redactor: Redactor | None = None,
) -> RedactingFilter:
    """Configure the root logger: a rotating user-only file in ``log_dir`` and/or stderr.

    Pass the caller's ``redactor`` so the keys it learns are redacted from the logs too.
    """
    root = logging.getLogger()
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    log_filter = RedactingFilter(redactor)
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
        handler.addFilter(log_filter)
        root.addHandler(handler)
    if not debug:
        for noisy in ("httpx2", "httpcore", "httpcore2", "openai"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
    return log_filter
