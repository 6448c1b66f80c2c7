"""The examples once against the real built-in llama.cpp server with SmolLM2."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.examples.conftest import PYTHON, node_ready, run_example  # noqa: F401 - fixture
from trayai.core.embedded import EmbeddedServer

pytestmark = pytest.mark.integration


def test_python_and_javascript_examples_against_smollm2(
    builtin_server: EmbeddedServer,
    node_ready: Path,  # noqa: F811 - the fixture, imported by name
) -> None:
    python = run_example([PYTHON, "python/chat_client.py", "Say hi."], builtin_server.base_url)
    assert python.returncode == 0, python.stderr
    assert python.stdout.strip()
    node = run_example(["node", "chat-client.js", "Say hi."], builtin_server.base_url, cwd=node_ready)
    assert node.returncode == 0, node.stderr
    assert node.stdout.strip()
    curl = run_example(
        ["bash", "rest/rest-api-curl.sh"],
        builtin_server.base_url,
        cwd=Path(__file__).resolve().parents[2] / "docs" / "examples",
    )
    assert curl.returncode == 0, curl.stderr
    assert "data: [DONE]" in curl.stdout
