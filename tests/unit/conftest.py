"""The unit tier's async tests run on anyio's pytest plugin (``@pytest.mark.anyio``), on asyncio."""

from __future__ import annotations

import pytest


@pytest.fixture
def anyio_backend() -> str:
    """asyncio only: trayai runs on asyncio (qasync in the app), never on trio."""
    return "asyncio"
