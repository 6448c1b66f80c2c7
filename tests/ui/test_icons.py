"""The icons come from the package (the folder importlib.resources names) and a broken installation says so at start-up."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from importlib.resources import files
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from trayai.core.paths import AppPaths
from trayai.core.status import ServerState
from trayai.ui import icons
from trayai.ui.icons import IconMissing, check_icons, icon_names, icon_path

PACKAGE = Path(__file__).resolve().parents[2] / "trayai"


def test_icons_are_package_resources_and_all_draw(qapp: QApplication) -> None:
    # `trayai desktop install` reads the app icon from exactly this place.
    assert icon_path("trayai") == Path(str(files("trayai") / "resources/icons/trayai.svg"))
    assert icon_path("trayai").is_file() and icon_path("trayai").is_relative_to(PACKAGE)
    assert set(icon_names()) == {"trayai", *(s.value for s in ServerState)}
    line = check_icons()
    assert (
        f"trayai.svg and {len(ServerState)} state icons loaded from" in line
        and str(icons.icons_dir()) in line
    )


def copy_of_icons(tmp_path: Path) -> Path:
    copy = tmp_path / "icons"
    shutil.copytree(icons.icons_dir(), copy)
    return copy


def test_a_missing_icon_is_named(qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = copy_of_icons(tmp_path)
    (copy / "ready.svg").unlink()
    monkeypatch.setattr(icons, "icons_dir", lambda: copy)
    with pytest.raises(IconMissing) as missing:
        check_icons()
    assert missing.value.message == f"icon file missing: {copy / 'ready.svg'}"
    assert "reinstall" in missing.value.hint


@pytest.mark.qt_log_ignore("Cannot read file .*trayai.svg")  # Qt's own word on the bad file
def test_an_undrawable_icon_is_named(
    qapp: QApplication, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = copy_of_icons(tmp_path)
    (copy / "trayai.svg").write_text("<html>404 Not Found</html>")
    monkeypatch.setattr(icons, "icons_dir", lambda: copy)
    with pytest.raises(IconMissing, match=r"icon cannot be drawn .*trayai\.svg"):
        check_icons()


def test_start_up_with_a_missing_icon_fails_clearly(tmp_path: Path, paths: AppPaths) -> None:
    """A damaged installation (here a copy of the package without one icon) exits 1 and says which
    file and what to do, on stderr and in the log — not an invisible tray icon."""
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "trayai", ignore=shutil.ignore_patterns("__pycache__"))
    missing = site / "trayai" / "resources" / "icons" / "trayai.svg"
    missing.unlink()
    env = dict(os.environ, PYTHONPATH=str(site), QT_QPA_PLATFORM="offscreen")
    done = subprocess.run(
        [sys.executable, "-m", "trayai.cli"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"error: icon file missing: {missing}" in done.stderr
    assert "reinstall" in done.stderr
    log = (paths.log_dir / "trayai.log").read_text()
    assert f"icon file missing: {missing}" in log and "ERROR" in log
