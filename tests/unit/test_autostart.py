"""Start at login: the Linux XDG entry for real (it launches trayai); Windows/macOS on their content."""

from __future__ import annotations

import configparser
import io
import plistlib
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from trayai import __version__
from trayai.cli import main
from trayai.core.autostart import (
    apply_autostart,
    autostart_enabled,
    desktop_entry,
    launch_agent_plist,
    windows_run_value,
)


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return tmp_path / "xdg" / "autostart" / "trayai.desktop"


def test_linux_entry_is_written_parsed_and_launches_trayai(xdg: Path) -> None:
    message = apply_autostart(enabled=True, platform="linux")
    assert str(xdg) in message and autostart_enabled("linux")
    entry = configparser.ConfigParser(interpolation=None)
    entry.read(xdg)
    section = entry["Desktop Entry"]
    assert section["Type"] == "Application" and section["Name"] == "trayai"
    # The Exec line really starts this trayai (asked for its version instead of the tray here).
    argv = [*shlex.split(section["Exec"]), "--version"]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.splitlines()[0] == f"trayai {__version__}"
    assert "will not" in apply_autostart(enabled=False, platform="linux")
    assert not xdg.exists() and not autostart_enabled("linux")


def test_linux_entry_passes_desktop_file_validate(xdg: Path) -> None:
    import shutil

    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.fail("desktop-file-validate is missing: run `bash resources/bootstrap.sh --test`")
    apply_autostart(enabled=True, platform="linux")
    result = subprocess.run([validator, str(xdg)], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr
    apply_autostart(enabled=False, platform="linux")
    assert not xdg.exists()


def test_paths_with_spaces_are_quoted() -> None:
    command = ["/opt/my apps/python3", "-m", "trayai.cli"]
    exec_line = next(line for line in desktop_entry(command).splitlines() if line.startswith("Exec="))
    assert shlex.split(exec_line[len("Exec=") :]) == command
    assert windows_run_value(["C:\\Program Files\\Py\\python.exe", "-m", "trayai.cli"]) == (
        '"C:\\Program Files\\Py\\python.exe" -m trayai.cli'
    )


def test_macos_launch_agent_content() -> None:
    data = plistlib.loads(launch_agent_plist([sys.executable, "-m", "trayai.cli"]))
    assert data["Label"] == "io.trayai" and data["RunAtLoad"] is True
    assert data["ProgramArguments"] == [sys.executable, "-m", "trayai.cli"]


def test_config_set_start_at_login_applies_it(xdg: Path) -> None:
    err = io.StringIO()
    assert main(["config", "set", "start_at_login", "true"], stdout=io.StringIO(), stderr=err) == 0
    assert xdg.exists() and "will start at login" in err.getvalue()
    assert main(["config", "set", "start_at_login", "false"], stdout=io.StringIO(), stderr=err) == 0
    assert not xdg.exists()
