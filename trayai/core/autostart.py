"""Start trayai at login: XDG autostart entry, Windows Run key or macOS LaunchAgent.

The content is built by pure functions (tested on every platform); only :func:`apply_autostart` acts.
The command and the entry's common keys (name, ``Icon=trayai``, Exec quoting) come from
``core/desktop_entry.py``, so the login item and the applications-menu entry start the same trayai.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from pathlib import Path
from typing import Any

from trayai.core.desktop_entry import entry_head, launch_command

RUN_KEY = r"Software\Microsoft\Windows\CurrentVersion\Run"
LAUNCH_AGENT_LABEL = "io.trayai"


def desktop_entry(command: list[str]) -> str:
    """An XDG autostart entry: the menu entry's common keys, started a little after login."""
    lines = [*entry_head(command), "X-GNOME-Autostart-enabled=true", "X-GNOME-Autostart-Delay=3"]
    return "\n".join(lines) + "\n"


def windows_run_value(command: list[str]) -> str:
    """The string stored under the Run key: each part double-quoted (paths may contain spaces)."""
    return " ".join(f'"{part}"' if " " in part or not part else part for part in command)


def launch_agent_plist(command: list[str]) -> bytes:
    # lazy: platform-specific: only this OS has it
    import plistlib  # macOS only: kept off the tray's start-up

    return plistlib.dumps(
        {
            "Label": LAUNCH_AGENT_LABEL,
            "ProgramArguments": command,
            "RunAtLoad": True,
            "KeepAlive": False,
            "ProcessType": "Interactive",
        }
    )


def xdg_autostart_file(environ: dict[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "autostart" / "trayai.desktop"


def launch_agent_file() -> Path:
    return Path.home() / "Library" / "LaunchAgents" / f"{LAUNCH_AGENT_LABEL}.plist"


def apply_autostart(*, enabled: bool, platform: str | None = None, command: list[str] | None = None) -> str:
    """Install or remove the login item; returns a sentence saying what was done."""
    platform = platform or sys.platform
    command = command or launch_command()
    if platform.startswith("win"):
        winreg: Any = importlib.import_module("winreg")  # Windows-only module

        with winreg.OpenKey(winreg.HKEY_CURRENT_USER, RUN_KEY, 0, winreg.KEY_SET_VALUE) as key:
            if enabled:
                winreg.SetValueEx(key, "trayai", 0, winreg.REG_SZ, windows_run_value(command))
                return "trayai will start at login (registry Run key)"
            with contextlib.suppress(FileNotFoundError):
                winreg.DeleteValue(key, "trayai")
            return "trayai will not start at login"
    path = launch_agent_file() if platform == "darwin" else xdg_autostart_file()
    if enabled:
        path.parent.mkdir(parents=True, exist_ok=True)
        if platform == "darwin":
            path.write_bytes(launch_agent_plist(command))
        else:
            path.write_text(desktop_entry(command), encoding="utf-8")
        return f"trayai will start at login ({path})"
    if path.exists():
        path.unlink()
    return "trayai will not start at login"


def autostart_enabled(platform: str | None = None) -> bool:
    platform = platform or sys.platform
    if platform.startswith("win"):
        return False  # read back only on Windows itself; the setting is the source of truth
    return (launch_agent_file() if platform == "darwin" else xdg_autostart_file()).exists()


__all__ = [
    "apply_autostart",
    "autostart_enabled",
    "desktop_entry",
    "launch_agent_plist",
    "launch_command",
    "windows_run_value",
    "xdg_autostart_file",
]
