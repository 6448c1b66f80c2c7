"""State icons (SVG in ``resources/icons``), loaded once and cached."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

from trayai.core.status import ServerState


def resources_dir() -> Path:
    """``resources/`` in a checkout/editable install, or ``trayai/resources`` in a wheel."""
    packaged = Path(__file__).resolve().parents[1] / "resources"
    if (packaged / "icons").is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "resources"


def icon_path(name: str) -> Path:
    return resources_dir() / "icons" / f"{name}.svg"


@cache
def app_icon() -> QIcon:
    return QIcon(str(icon_path("trayai")))


@cache
def state_icon(state: ServerState) -> QIcon:
    return QIcon(str(icon_path(state.value)))
