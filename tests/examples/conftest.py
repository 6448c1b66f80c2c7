"""Running the documentation's examples as a user would: with LOCAL_MODEL_* pointing at a server."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
JS = EXAMPLES / "javascript"
Runner = Callable[..., subprocess.CompletedProcess[str]]


def example_env(base_url: str, model: str = "ai/smollm2") -> dict[str, str]:
    env = dict(os.environ)
    env.update({"LOCAL_MODEL_BASE_URL": base_url, "LOCAL_MODEL_NAME": model, "LOCAL_API_KEY": "dummy-key"})
    return env


def run_example(
    argv: list[str], base_url: str, *, cwd: Path = EXAMPLES, timeout: float = 120, model: str = "ai/smollm2"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=cwd,
        env=example_env(base_url, model),
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def node_ready() -> Path:
    """The JS examples' dependencies (openai, typescript) installed and the TypeScript compiled."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.fail("the JavaScript examples need Node.js and npm: run `bash resources/bootstrap.sh --test`")
    if not (JS / "node_modules" / "openai").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True, capture_output=True, timeout=600
        )
    subprocess.run(["npx", "--no-install", "tsc"], cwd=JS, check=True, capture_output=True, timeout=300)
    return JS


PYTHON = sys.executable
