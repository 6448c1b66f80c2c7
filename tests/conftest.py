"""Shared fixtures: every test gets private config/data dirs, an in-memory keychain, no real env.

Qt is forced offscreen before any QApplication can exist (tests that need a real screen start
their own Xvfb). Nothing here reaches beyond loopback.
"""

from __future__ import annotations

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

from tests.support.scripted_server import ScriptedServer
from trayai.core.paths import AppPaths
from trayai.core.secrets import MemoryKeyring, SecretStore

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


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AppPaths:
    """Point trayai at temporary directories and hide the developer's own settings."""
    for name in _ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TRAYAI_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("TRAYAI_DATA_DIR", str(tmp_path / "data"))
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
