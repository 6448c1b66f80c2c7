"""Logging set-up shared by the CLI and the tray; the API key never appears in a log record.

HTTP libraries log headers at debug level: a filter on the root handlers redacts every record.
"""

from __future__ import annotations

import io
import logging
import os
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


class RotatingLog(logging.FileHandler):
    """A user-only (0600) log file kept under ``max_bytes``, the ``backups`` older ones beside it.

    Why not ``logging.handlers.RotatingFileHandler``: importing that module (pickle, queue with it)
    costs the tray ~1.5 MB for the few lines used here; and its new files took the umask's mode.
    """

    def __init__(self, path: Path, *, max_bytes: int, backups: int) -> None:
        self.max_bytes = max_bytes
        self.backups = backups
        super().__init__(path, encoding="utf-8")

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        return io.TextIOWrapper(io.FileIO(fd, "a"), encoding=self.encoding, errors=self.errors)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = self.stream
            if stream is not None and stream.tell() + len(self.format(record)) + 1 > self.max_bytes:
                self.rotate()
        except Exception:  # noqa: BLE001 - logging must never raise into the app (the stdlib's rule)
            self.handleError(record)
            return
        super().emit(record)

    def rotate(self) -> None:
        """trayai.log → trayai.log.1 → … → trayai.log.N (the oldest dropped), then a new file."""
        if self.stream is not None:
            self.stream.close()
            self.stream = None
        base = Path(self.baseFilename)
        for index in range(self.backups - 1, 0, -1):
            older = base.with_name(f"{base.name}.{index}")
            if older.exists():
                older.replace(base.with_name(f"{base.name}.{index + 1}"))
        if base.exists():
            base.replace(base.with_name(f"{base.name}.1"))
        self.stream = self._open()


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
        file_handler = RotatingLog(path, max_bytes=2_000_000, backups=3)
        path.chmod(0o600)  # a file an older version made with the umask's mode
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
