"""Shared fixtures: every test gets private config/data dirs, an in-memory keychain, no real env.

Qt is forced offscreen before any QApplication can exist (tests that need a real screen start
their own Xvfb). Nothing here reaches beyond loopback.
"""

from __future__ import annotations

import logging
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# A shell without job control (a CI runner's background step) starts commands with SIGINT ignored,
# and an ignored signal stays ignored across exec: the processes the tests stop with Ctrl+C would
# never see it. Python's own handler here turns back into the default disposition in children.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

from tests.support.bytecode import share_compiled_bytecode
from tests.support.scripted_server import ScriptedServer
from trayai.core.paths import AppPaths
from trayai.core.settings.secrets import MemoryKeyring, SecretStore

# The developer's own session too: an app under test must never grab a hotkey on their real desktop
# (end-to-end tests give their processes their own Xvfb display explicitly).
_ENV_VARS = (
    "LOCAL_MODEL_BASE_URL",
    "LOCAL_MODEL_NAME",
    "LOCAL_API_KEY",
    "TRAYAI_LOG_DIR",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "XDG_SESSION_TYPE",
)


def pytest_configure(config: pytest.Config) -> None:
    """Before any test module is imported: with PYTHONDONTWRITEBYTECODE set, this process and every
    `trayai` child a test starts would compile all of trayai from source again (support/bytecode.py)."""
    share_compiled_bytecode()


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    """Point trayai at temporary directories and hide the developer's own settings."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRAYAI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TRAYAI_DATA_DIR", str(tmp_path / "data"))
    # `trayai desktop install` and the settings dialog's menu button write under it: never the real one
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)  # so a developer's ./.env never leaks into a test
    return AppPaths.from_env()


@pytest.fixture
def paths(isolated_env: AppPaths) -> AppPaths:
    return isolated_env


@pytest.fixture
def keyring_backend() -> MemoryKeyring:
    return MemoryKeyring()


@pytest.fixture
def secrets(keyring_backend: MemoryKeyring) -> SecretStore:
    return SecretStore(keyring_backend)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted OpenAI-compatible server on a free loopback port."""
    with ScriptedServer() as scripted:
        yield scripted


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def _matches(record: logging.LogRecord, logger: str, text: str) -> bool:
    named = record.name == logger or record.name.startswith(logger + ".")
    return named and text in record.getMessage()


@pytest.fixture(autouse=True)
def no_unexpected_warnings(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail a test on a WARNING-or-above record from a ``trayai`` logger it did not declare.

    A warning is trayai telling a person something went wrong; a test that provokes one on purpose
    says so with ``@pytest.mark.expect_log(logger, text)`` (the record's logger or a parent, and a
    substring of its message), and then the record must come: a declared warning that never appears
    fails too, unless declared with ``optional=True`` (for a retry that happens only sometimes).
    """
    handler = _Collect()
    root = logging.getLogger("trayai")
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    expected = [
        (m.args[0], m.args[1], m.kwargs.get("optional", False))
        for m in request.node.iter_markers("expect_log")
    ]
    unexpected = [
        r for r in handler.records if not any(_matches(r, logger, text) for logger, text, _ in expected)
    ]
    missing = [
        f"{logger}: {text!r}"
        for logger, text, optional in expected
        if not optional and not any(_matches(r, logger, text) for r in handler.records)
    ]
    problems = [f"unexpected {r.levelname} from {r.name}: {r.getMessage()}" for r in unexpected]
    problems += [f"expected log record never came: {what}" for what in missing]
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)
