"""Global hotkeys: one interface (``base.HotkeyBackend``), one backend per platform, picked by
:func:`create_backend` (docs/architecture.md, "Quick prompt and hotkeys").
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Mapping

from PySide6.QtCore import QObject

from trayai.ui.hotkeys.base import HotkeyBackend, NoBackend, Registration

log = logging.getLogger(__name__)


def create_backend(parent: QObject | None = None, environ: Mapping[str, str] | None = None) -> HotkeyBackend:
    env = os.environ if environ is None else environ
    if sys.platform in ("win32", "darwin"):
        # lazy: loaded when first used: the tray stays light
        from trayai.ui.hotkeys.pynput_backend import PynputHotkeys

        return PynputHotkeys(parent)
    wayland = bool(env.get("WAYLAND_DISPLAY")) or env.get("XDG_SESSION_TYPE", "").lower() == "wayland"
    if wayland:
        # lazy: loaded when first used: the tray stays light
        from trayai.ui.hotkeys.portal import PortalHotkeys

        return PortalHotkeys(parent)
    if env.get("DISPLAY"):
        try:
            # lazy: loaded when first used: the tray stays light
            from trayai.ui.hotkeys.x11 import X11Hotkeys

            return X11Hotkeys(env.get("DISPLAY"), parent)
        except Exception as exc:  # noqa: BLE001 - no X server after all, python-xlib's own error types…
            log.warning("X11 hotkeys unavailable: %s", exc)
            return NoBackend(f"Global hotkeys are unavailable ({type(exc).__name__}: {exc}).", parent)
    return NoBackend("No graphical session (X11 or Wayland) was found for a global hotkey.", parent)


__all__ = ["HotkeyBackend", "NoBackend", "Registration", "create_backend"]
