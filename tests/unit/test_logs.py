"""Logging set-up: a user-only file, and no secret ever reaching it."""

from __future__ import annotations

import io
import logging
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from trayai.core.logs import RedactingFilter, setup_logging

NOISY = ("httpx2", "httpcore", "httpcore2", "openai")


@pytest.fixture
def root_logger() -> Iterator[logging.Logger]:
    """Undo whatever setup_logging does to the root logger and the noisy library loggers."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    noisy_levels = {name: logging.getLogger(name).level for name in NOISY}
    yield root
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    for name, noisy_level in noisy_levels.items():
        logging.getLogger(name).setLevel(noisy_level)


def make_record(msg: str, *args: object, exc_info: object = None) -> logging.LogRecord:
    return logging.LogRecord("t", logging.INFO, __file__, 1, msg, args or None, exc_info)  # type: ignore[arg-type]


def filtered(redactor: RedactingFilter, msg: str, *args: object) -> str:
    record = make_record(msg, *args)
    assert redactor.filter(record) is True  # redaction never drops a record
    return record.getMessage()


def test_registered_secrets_are_redacted_in_messages_with_args() -> None:
    redactor = RedactingFilter()
    redactor.add_secret("sk-very-secret-1")
    assert filtered(redactor, "key is %s", "sk-very-secret-1") == "key is [redacted]"
    assert filtered(redactor, "sk-very-secret-1 twice sk-very-secret-1") == "[redacted] twice [redacted]"
    assert filtered(redactor, "request %r", {"headers": {"x": "sk-very-secret-1"}}) == (
        "request {'headers': {'x': '[redacted]'}}"
    )


def test_messages_without_secrets_are_left_alone() -> None:
    redactor = RedactingFilter()
    redactor.add_secret("sk-very-secret-1")
    record = make_record("%d tokens from %s", 12, "ai/smollm2")
    redactor.filter(record)
    assert record.msg == "%d tokens from %s"
    assert record.args == (12, "ai/smollm2")
    assert record.getMessage() == "12 tokens from ai/smollm2"


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("Authorization: Bearer xyz", "Authorization: Bearer [redacted]"),
        ("authorization: bearer sk-abc.def_ghi/jk+l=", "authorization: bearer [redacted]"),
        ("headers={'authorization': 'Bearer sk-abc'}", "headers={'authorization': 'Bearer [redacted]'}"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic [redacted]"),
        ("api_key=sk-123 sent", "api_key=[redacted] sent"),
        ("api-key: sk-123", "api-key: [redacted]"),
        ("APIKEY=sk-123", "APIKEY=[redacted]"),
        ('{"api_key": "sk-123", "model": "m"}', '{"api_key": "[redacted]", "model": "m"}'),
        ("{'api_key': 'sk-123'}", "{'api_key': '[redacted]'}"),
        ("GET /v1/models?api_key=sk-123", "GET /v1/models?api_key=[redacted]"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_bearer_tokens_and_key_fields_are_redacted(message: str, expected: str) -> None:
    assert filtered(RedactingFilter(), "%s", message) == expected
    assert RedactingFilter().redact(message) == expected


def test_short_or_empty_secrets_are_not_registered() -> None:
    redactor = RedactingFilter()
    redactor.add_secret("")
    redactor.add_secret("abc")  # too short: redacting it would mangle ordinary words
    assert redactor.redact("abc is fine") == "abc is fine"
    redactor.add_secret("abcd")
    assert redactor.redact("abcd!") == "[redacted]!"


def test_a_secret_containing_another_secret_is_fully_redacted() -> None:
    redactor = RedactingFilter()
    for secret in ("sk-ab", "sk-abcdefgh", "sk-abcd"):
        redactor.add_secret(secret)
    text = redactor.redact("x sk-abcdefgh y")
    assert text == "x [redacted] y"
    assert "efgh" not in text


def test_a_malformed_log_call_neither_raises_nor_leaks() -> None:
    redactor = RedactingFilter()
    redactor.add_secret("sk-very-secret-1")
    record = make_record("%s and %s", "sk-very-secret-1")  # one argument short
    assert redactor.filter(record) is True
    message = record.getMessage()
    assert "sk-very-secret-1" not in message
    assert "%s and %s" in message


def test_exception_text_is_redacted() -> None:
    redactor = RedactingFilter()
    redactor.add_secret("sk-very-secret-1")
    try:
        raise RuntimeError("401 for key sk-very-secret-1 (Authorization: Bearer sk-other)")
    except RuntimeError:
        import sys

        record = make_record("request failed", exc_info=sys.exc_info())
    redactor.filter(record)
    text = logging.Formatter().format(record)
    assert "RuntimeError: 401 for key [redacted] (Authorization: Bearer [redacted])" in text
    assert "sk-very-secret-1" not in text
    assert "sk-other" not in text


# --------------------------------------------------------------------------- setup_logging


@pytest.mark.expect_log("trayai.test", "call failed")
def test_setup_logging_writes_a_user_only_file_without_secrets(
    root_logger: logging.Logger, tmp_path: Path
) -> None:
    log_dir = tmp_path / "logs"
    redactor = setup_logging(log_dir)
    redactor.add_secret("sk-live-123456")
    path = log_dir / "trayai.log"
    assert path.is_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(log_dir.stat().st_mode) == 0o700

    log = logging.getLogger("trayai.test")
    log.info("using key %s for %s", "sk-live-123456", "http://localhost:8080/v1")
    log.info("header Authorization: Bearer sk-unregistered-999")
    log.info("payload %s", {"api_key": "sk-field-777"})
    log.debug("debug line is below INFO")
    try:
        raise ValueError("bad key sk-live-123456")
    except ValueError:
        log.exception("call failed")
    for handler in root_logger.handlers:
        handler.flush()

    text = path.read_text(encoding="utf-8")
    assert "using key [redacted] for http://localhost:8080/v1" in text
    assert "Authorization: Bearer [redacted]" in text
    assert "'api_key': '[redacted]'" in text
    assert "ValueError: bad key [redacted]" in text
    assert "INFO trayai.test:" in text
    for leaked in ("sk-live-123456", "sk-unregistered-999", "sk-field-777", "debug line"):
        assert leaked not in text
    assert root_logger.level == logging.INFO
    assert all(logging.getLogger(name).level == logging.WARNING for name in NOISY)


def test_setup_logging_debug_level_and_custom_filename(root_logger: logging.Logger, tmp_path: Path) -> None:
    setup_logging(tmp_path, debug=True, filename="cli.log")
    logging.getLogger("trayai.test").debug("visible at debug")
    for handler in root_logger.handlers:
        handler.flush()
    assert root_logger.level == logging.DEBUG
    assert "visible at debug" in (tmp_path / "cli.log").read_text(encoding="utf-8")
    assert not (tmp_path / "trayai.log").exists()


@pytest.mark.expect_log("trayai.test", "key [redacted]")
def test_setup_logging_to_stderr_is_redacted(
    root_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    redactor = setup_logging(None, stderr=True)
    redactor.add_secret("sk-live-123456")
    added = [h for h in root_logger.handlers if isinstance(h, logging.StreamHandler) and h.stream is stream]
    assert len(added) == 1
    logging.getLogger("trayai.test").warning("key %s", "sk-live-123456")
    assert "WARNING trayai.test: key [redacted]" in stream.getvalue()
    assert "sk-live-123456" not in stream.getvalue()


def test_setup_logging_without_destinations_adds_no_handler(root_logger: logging.Logger) -> None:
    before = list(root_logger.handlers)
    assert isinstance(setup_logging(None), RedactingFilter)
    assert root_logger.handlers == before


def test_the_log_rotates_under_its_cap_keeping_user_only_backups(tmp_path: Path) -> None:
    from trayai.core.logs import RotatingLog

    logs = tmp_path / "logs"
    logs.mkdir()
    path = logs / "trayai.log"
    handler = RotatingLog(path, max_bytes=1_000, backups=2)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("test.rotation")
    logger.propagate = False
    logger.addHandler(handler)
    try:
        for n in range(100):
            logger.warning("line %03d %s", n, "x" * 40)  # 49 bytes a line: ~5 files' worth
    finally:
        logger.removeHandler(handler)
        handler.close()
    files = sorted(p.name for p in logs.iterdir())
    assert files == ["trayai.log", "trayai.log.1", "trayai.log.2"]  # the oldest were dropped
    for name in files:
        assert (logs / name).stat().st_size <= 1_000
        assert stat.S_IMODE((logs / name).stat().st_mode) == 0o600
    assert path.read_text().splitlines()[-1].startswith("line 099 ")
    newest_backup = (logs / "trayai.log.1").read_text().splitlines()
    current_first = int(path.read_text().split()[1])
    assert int(newest_backup[-1].split()[1]) == current_first - 1  # nothing lost between files
