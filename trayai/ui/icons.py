"""State icons (SVG in the package's ``resources/icons``), checked at start-up, loaded once and cached.

The icons live inside the package, beside its own files, so a wheel, an sdist build, an editable
install, pipx and a checkout on ``PYTHONPATH`` all read the same files (tests/ui/test_icons.py checks
it is the folder ``importlib.resources`` names; the tray does not import that: ~0.5 MB with zipfile).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon, QImage

import trayai
from trayai.core.errors import AppError
from trayai.core.status import ServerState

APP_ICON = "trayai"
REINSTALL_HINT = (
    "this trayai installation is incomplete: reinstall it (pipx reinstall trayai, "
    "pip install --force-reinstall trayai, or bash resources/bootstrap.sh in a checkout)"
)


class IconMissing(AppError):
    """An icon file of the package is missing or Qt cannot draw it: the tray icon would be invisible."""


def icons_dir() -> Path:
    """``trayai/resources/icons`` of the imported package (a real directory for every install kind)."""
    return Path(trayai.__file__).parent / "resources" / "icons"


def icon_path(name: str) -> Path:
    return icons_dir() / f"{name}.svg"


def icon_names() -> list[str]:
    """Every icon the app shows: its own and one per server state."""
    return [APP_ICON, *(state.value for state in ServerState)]


def check_icons(size: int = 32) -> str:
    """Draw every icon once (needs a QGuiApplication); a missing or undrawable one raises
    :class:`IconMissing` naming the file. Returns a line for the log saying what was loaded."""
    for name in icon_names():
        path = icon_path(name)
        if not path.is_file():
            raise IconMissing(f"icon file missing: {path}", REINSTALL_HINT)
        pixmap = QIcon(str(path)).pixmap(size, size)
        if pixmap.isNull() or not _has_visible_pixels(pixmap.toImage()):
            raise IconMissing(f"icon cannot be drawn (not a valid SVG?): {path}", REINSTALL_HINT)
    return f"{APP_ICON}.svg and {len(icon_names()) - 1} state icons loaded from {icons_dir()} ({size} px)"


def _has_visible_pixels(image: QImage) -> bool:
    """A blank pixmap is what Qt gives for a file it cannot parse; the first opaque pixel is enough."""
    width, height = image.width(), image.height()
    return any(image.pixelColor(x, y).alpha() > 0 for y in range(height) for x in range(width))


@cache
def app_icon() -> QIcon:
    return QIcon(str(icon_path(APP_ICON)))


@cache
def state_icon(state: ServerState) -> QIcon:
    return QIcon(str(icon_path(state.value)))
