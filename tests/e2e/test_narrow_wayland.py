"""The chat and the settings at 480 px under a real Wayland compositor (headless sway): sway floats
and sizes each window (``resize set``), its tree and Qt must agree on the size, then the X11 test's
fit checks run (tests/support/fitting.py) and grim takes the screenshots (``narrow-chat-wayland.png``,
``narrow-settings-wayland*.png``). Also the layout issue 18 showed cut ("Tempe", "Max to"): the chat
tiled at half the output beside the settings. The checks need the windows' own Qt on the ``wayland``
platform, so they run in tests/support/narrow_session.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from PySide6.QtGui import QImage

from tests.e2e.conftest import ARTIFACTS
from tests.support.narrow_session import HEIGHT
from tests.support.screens import NARROW
from tests.support.wayland import HEIGHT as OUTPUT_HEIGHT
from tests.support.wayland import WIDTH as OUTPUT_WIDTH
from tests.support.wayland import WaylandDesktop
from trayai.ui.settings.dialog import SECTIONS


def narrow_session(wayland: WaylandDesktop, layout: str) -> dict[str, Any]:
    """``narrow_session.py LAYOUT`` on the fixture's sway (QT_QPA_PLATFORM=wayland): its JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "tests.support.narrow_session", str(ARTIFACTS), layout],
        env=wayland.env,
        cwd=ARTIFACTS.parent.parent,  # the repository: `tests` is importable from there
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    assert result["platform"] == "wayland"
    return result


def on_output(content: list[int]) -> bool:
    x, y, width, height = content
    return x >= 0 and y >= 0 and x + width <= OUTPUT_WIDTH and y + height <= OUTPUT_HEIGHT


def assert_drawn(path: Path, width: int, height: int) -> None:
    """grim wrote ``width``x``height`` pixels with text and frames in them (a blank grab has a few shades)."""
    image = QImage(str(path))
    assert not image.isNull(), path
    assert (image.width(), image.height()) == (width, height), path
    shades = {image.pixel(x, y) for x in range(0, image.width(), 2) for y in range(0, image.height(), 2)}
    assert len(shades) > 20, path


def test_chat_and_every_settings_page_fit_480_px_under_sway(wayland: WaylandDesktop) -> None:
    result = narrow_session(wayland, "floating")
    assert result["problems"] == {}
    sizes = result["sizes"]
    narrow = [s for s in sizes if s["where"].endswith("at 480") or s["where"].endswith("for Alt+A")]
    assert len(narrow) == 1 + len(SECTIONS) + 1  # the chat, each page, the page Alt+A is typed into
    for size in narrow:  # as sway's tree gives it: the compositor's size, not the one Qt asked for
        assert size["content"][2:] == [NARROW, HEIGHT] and size["qt"] == [NARROW, HEIGHT], size
    for size in sizes:
        assert size["floating"] and size["qt"] == size["content"][2:], size
        assert on_output(size["content"]), size
    wheres = {s["where"] for s in sizes}
    assert {"chat at its minimum size", "chat at its default size"} <= wheres
    assert {"settings General at 480x400", "settings General at 921x560"} <= wheres

    shots = [Path(p) for p in result["shots"]]
    names = [p.name for p in shots]
    assert names[:3] == [
        "narrow-chat-wayland.png",
        "narrow-chat-list-wayland.png",
        "narrow-chat-options-wayland.png",
    ]
    assert names[3] == "narrow-settings-wayland.png" and len(names) == 3 + len(SECTIONS)
    for path in shots:
        if path.name == "narrow-chat-options-wayland.png":  # the output: the popup where sway put it
            assert_drawn(path, OUTPUT_WIDTH, OUTPUT_HEIGHT)
        else:
            assert_drawn(path, NARROW, HEIGHT)


def test_chat_tiled_beside_settings_is_whole(wayland: WaylandDesktop) -> None:
    """Issue 18's layout: chat and settings side by side on a 1024 px output, the toolbar cut."""
    result = narrow_session(wayland, "tiled")
    assert result["problems"] == {}
    chat, settings = result["sizes"]
    assert not chat["floating"] and not settings["floating"]
    half = OUTPUT_WIDTH // 2
    for view in (chat, settings):  # half the output each, less sway's 2 px borders
        assert half - 8 <= view["content"][2] <= half and view["qt"] == view["content"][2:], view
    assert chat["content"][0] < half <= settings["content"][0]  # side by side, the chat on the left
    toolbar = result["seen"]["chat toolbar"]
    for text in ("Chats", "Model", "Options"):  # the checks looked at the toolbar, and it was whole
        assert text in toolbar, toolbar
    (shot,) = result["shots"]
    assert Path(shot).name == "narrow-tiled-wayland.png"
    assert_drawn(Path(shot), OUTPUT_WIDTH, OUTPUT_HEIGHT)
