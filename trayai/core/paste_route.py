"""How the quick prompt can put an answer in place of the text selected in another window: the paste
keystroke sent to that window, where the desktop lets a program send one. Decided before Qt, so the
reasons a person is given ("why only Copy here") are tested alone.

X11: the XTEST extension (python-xlib, which the X11 hotkey already uses), or ``xdotool``. Wayland
gives no program another's keyboard: ``wtype`` (compositors with the virtual-keyboard protocol: sway,
Hyprland, river) or ``ydotool`` (its daemon, through uinput) where installed. Elsewhere: none.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from trayai.core.strenum import StrEnum


class PasteRoute(StrEnum):
    """Which way the paste keystroke reaches the other window."""

    XTEST = "xtest"  # X11, python-xlib's XTEST
    XDOTOOL = "xdotool"  # X11 without python-xlib
    WTYPE = "wtype"  # Wayland, the virtual-keyboard protocol
    YDOTOOL = "ydotool"  # Wayland (or anywhere), uinput through ydotoold
    NONE = "none"


@dataclass(frozen=True)
class PasteWay:
    """The route, and — when there is none — why, in words for the Copy button's tooltip."""

    route: PasteRoute
    why_not: str = ""

    @property
    def can_replace(self) -> bool:
        return self.route is not PasteRoute.NONE


_COPY_INSTEAD = "The answer is copied instead: paste it yourself with Ctrl+V."


def paste_way(
    platform: str,
    env: Mapping[str, str] | None = None,
    which: Callable[[str], str | None] = shutil.which,
    has_xlib: Callable[[], bool] | None = None,
) -> PasteWay:
    """The way for Qt's ``platform`` ("xcb", "wayland…", "offscreen", …) on this machine."""
    env = os.environ if env is None else env
    xlib = has_xlib() if has_xlib is not None else importlib.util.find_spec("Xlib") is not None
    if platform == "xcb":
        if xlib:
            return PasteWay(PasteRoute.XTEST)
        if which("xdotool"):
            return PasteWay(PasteRoute.XDOTOOL)
        return PasteWay(PasteRoute.NONE, f"Replacing needs python-xlib or xdotool on X11. {_COPY_INSTEAD}")
    if platform.startswith("wayland"):
        if which("wtype"):
            return PasteWay(PasteRoute.WTYPE)
        if which("ydotool"):
            return PasteWay(PasteRoute.YDOTOOL)
        return PasteWay(
            PasteRoute.NONE,
            "Wayland lets no program type into another window unless wtype (sway, Hyprland) or ydotool "
            f"(its daemon running) is installed. {_COPY_INSTEAD}",
        )
    if platform in ("offscreen", "minimal", "vnc"):
        return PasteWay(PasteRoute.NONE, f"There is no desktop window to paste into here. {_COPY_INSTEAD}")
    return PasteWay(
        PasteRoute.NONE,
        f"trayai cannot send the paste key to another window on this system ({platform}). {_COPY_INSTEAD}",
    )


def paste_command(route: PasteRoute) -> list[str]:
    """The program that presses Ctrl+V for routes that use one (XTEST is in-process)."""
    if route is PasteRoute.XDOTOOL:
        return ["xdotool", "key", "--clearmodifiers", "ctrl+v"]
    if route is PasteRoute.WTYPE:
        return ["wtype", "-M", "ctrl", "v", "-m", "ctrl"]
    if route is PasteRoute.YDOTOOL:
        return ["ydotool", "key", "29:1", "47:1", "47:0", "29:0"]  # Left Ctrl, V (Linux input codes)
    return []


__all__ = ["PasteRoute", "PasteWay", "paste_command", "paste_way"]
