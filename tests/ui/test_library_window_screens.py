"""Screenshots of Tray ▸ Get models… in light and dark, at 1x and 2x, at its default width and at 480 px,
for a person to look at in tests/artifacts/ (each scale is its own Qt program: ``QT_SCALE_FACTOR``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_the_library_window_at_1x_and_2x_wide_and_narrow(theme: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    sizes: dict[str, dict[str, tuple[int, int]]] = {}
    for scale in ("1", "2"):
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
        done = subprocess.run(
            [sys.executable, "-m", "tests.support.screens", str(ARTIFACTS), "library", theme],
            env=env,
            cwd=ARTIFACTS.parent.parent,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        printed = json.loads(done.stdout.strip().splitlines()[-1])
        problems = [line for line in printed if not line.endswith(".png")]
        assert problems == []  # nothing cut short, wide or at 480 px
        for name in ("library", "library-narrow"):
            image = QImage(str(ARTIFACTS / f"{name}-{theme}-{scale}x.png"))
            assert not image.isNull()
            sizes.setdefault(name, {})[scale] = (image.width(), image.height())
    for name, by_scale in sizes.items():
        (w1, h1), (w2, h2) = by_scale["1"], by_scale["2"]
        assert (w2, h2) == (2 * w1, 2 * h1), name
    assert sizes["library-narrow"]["1"][0] == 480
