"""A :class:`ModelManager` over a real client pointed at a fake server, and the small tweaks tests make
to a fake's routes (an optional call taken away, or answering 501) to watch a capability switch off.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.support.fake_backends import FakeBackend, RecordedRequest
from trayai.core.net.backends import lmstudio, localai, manager
from trayai.core.net.backends.manager import ModelManager
from trayai.core.net.client import Endpoint, ModelClient

KEY = "sk-test-key"  # what the fakes that want a key are given, and what the client sends


@contextlib.asynccontextmanager
async def managed(
    fake: FakeBackend, *, key: str = KEY, base_url: str | None = None
) -> AsyncIterator[ModelManager]:
    """A manager for ``fake`` (at its own base URL unless ``base_url`` says otherwise)."""
    async with ModelClient(Endpoint(base_url or fake.base_url, key)) as client:
        yield ModelManager(client)


def fast_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    """Poll job status and model state every 20 ms instead of every 250-500 ms: the same code, sooner."""
    monkeypatch.setattr(lmstudio, "JOB_POLL_SECONDS", 0.02)
    monkeypatch.setattr(localai, "JOB_POLL_SECONDS", 0.02)
    monkeypatch.setattr(manager, "STATE_POLL_SECONDS", 0.02)


def drop_route(fake: FakeBackend, method: str, path: str) -> None:
    """The server without this call (an older build, a flag not given): it answers 404 from now on."""
    del fake._api._routes[(method, path)]


def answer_route(fake: FakeBackend, method: str, path: str, status: int, body: Any) -> None:
    """The call answers ``status`` with the JSON ``body`` from now on (e.g. 501 "not supported")."""
    fake._api._routes[(method, path)] = lambda ex: ex.send_json(status, body)


def paths(fake: FakeBackend, method: str | None = None) -> list[str]:
    """The paths the fake was asked for so far (of ``method`` only when given), in order."""
    with fake.lock:
        return [r.path for r in fake.requests if method is None or r.method == method]


def posts(fake: FakeBackend) -> list[RecordedRequest]:
    with fake.lock:
        return [r for r in fake.requests if r.method == "POST"]
