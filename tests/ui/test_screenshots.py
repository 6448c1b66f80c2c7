"""Screenshots of chat, quick prompt and settings in light and dark, at 1x and 2x scale, produced
for a person to look at in tests/artifacts/ (each scale needs its own Qt program)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_every_window_at_1x_and_2x(theme: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    sizes: dict[str, dict[str, tuple[int, int]]] = {}
    for scale in ("1", "2"):
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
        done = subprocess.run(
            [sys.executable, "-m", "tests.support.screens", str(ARTIFACTS), theme],
            env=env,
            cwd=ARTIFACTS.parent.parent,  # the repository: `tests` is importable from there
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        more = (ARTIFACTS / f"more-{theme}-{scale}x.txt").read_text().split()
        assert len(more) >= 10  # every settings page, the tray menu, Servers ▸, Tools ▸, the picker, the chip
        for name in ("chat", "prompt", "settings", *(m.removesuffix(f"-{theme}-{scale}x.png") for m in more)):
            image = QImage(str(ARTIFACTS / f"{name}-{theme}-{scale}x.png"))
            assert not image.isNull(), name
            sizes.setdefault(name, {})[scale] = (image.width(), image.height())
    for name, by_scale in sizes.items():
        (w1, h1), (w2, h2) = by_scale["1"], by_scale["2"]
        if name.startswith(("tray-", "picker")):  # menus: text widths round differently at 2x
            assert abs(w2 - 2 * w1) <= 8 and abs(h2 - 2 * h1) <= 8, name
        else:
            assert (w2, h2) == (2 * w1, 2 * h1), name  # the same layout, twice the pixels
    chat = QImage(str(ARTIFACTS / f"chat-{theme}-1x.png"))
    # The middle row's typical pixel (a single one may fall on a line of text): the background.
    row = sorted(chat.pixelColor(x, chat.height() // 2).lightness() for x in range(chat.width()))
    corner = row[len(row) // 2]
    assert (corner < 100) if theme == "dark" else (corner > 150)  # the transcript follows the palette
