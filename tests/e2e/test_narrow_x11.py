"""The chat and the settings at 480 px on a real X server: every control whole at 480 px, at the
minimum size and at the default size, Ctrl+B / Esc / Alt+A pressed through the server, and the
screenshots (``narrow-chat-x11.png``, ``narrow-settings-x11.png`` and one per settings page) left in
tests/artifacts/ for a person to look at."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from PySide6.QtGui import QImage

from tests.e2e.conftest import ARTIFACTS, Desktop
from trayai.ui.settings.dialog import SECTIONS


def test_chat_and_every_settings_page_fit_480_px(desktop: Desktop) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.screens", str(ARTIFACTS), "narrow"],
        env=desktop.env,
        cwd=ARTIFACTS.parent.parent,  # the repository: `tests` is importable from there
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["platform"] == "x11"
    assert result["problems"] == {}
    shots = [Path(p) for p in result["shots"]]
    names = [p.name for p in shots]
    assert names[:3] == ["narrow-chat-x11.png", "narrow-chat-list-x11.png", "narrow-chat-options-x11.png"]
    assert names[3] == "narrow-settings-x11.png" and len(names) == 3 + len(SECTIONS)
    for path in shots:
        image = QImage(str(path))
        assert not image.isNull(), path
        if path.name != "narrow-chat-options-x11.png":  # the popover is as wide as its form
            assert image.width() == 480, path
        # Not a blank grab: text and frames make many shades (an empty window has a handful).
        shades = {image.pixel(x, y) for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
        assert len(shades) > 20, path
