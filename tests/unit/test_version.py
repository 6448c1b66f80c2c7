"""One version, pyproject.toml's, read from the installation's metadata; ``--version`` says what runs."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

import trayai
from trayai.cli.parser import version_report

ROOT = Path(__file__).resolve().parents[2]


def pyproject_version() -> str:
    found = re.search(r'^version = "([^"]+)"$', (ROOT / "pyproject.toml").read_text(), re.MULTILINE)
    assert found, "pyproject.toml has no static version"
    return found.group(1)


def test_the_version_is_pyprojects_through_the_metadata() -> None:
    assert trayai.__version__ == version("trayai") == pyproject_version()
    assert pyproject_version() not in (ROOT / "trayai" / "__init__.py").read_text()  # not written twice


def test_without_metadata_the_version_says_unknown(tmp_path: Path) -> None:
    """A bare copy of the package (no installation, no site-packages) does not guess a version."""
    (tmp_path / "trayai").mkdir()
    shutil.copy(ROOT / "trayai" / "__init__.py", tmp_path / "trayai" / "__init__.py")
    code = f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import trayai; print(trayai.__version__)"
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0+unknown"


def test_version_flag_names_trayai_engine_qt_and_python() -> None:
    import PySide6
    from PySide6 import QtCore

    out = subprocess.run(
        [sys.executable, "-m", "trayai.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert out.stdout.splitlines() == [
        f"trayai {trayai.__version__}",
        f"engine: xllamacpp {version('xllamacpp')}",
        f"Qt: PySide6 {PySide6.__version__}, Qt {QtCore.qVersion()}",
        f"Python: {sys.version.split()[0]}",
    ]


def test_version_report_without_the_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib.metadata

    real = importlib.metadata.version

    def no_engine(name: str) -> str:
        if name == "xllamacpp":
            raise importlib.metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", no_engine)
    assert "engine: not installed (the built-in server needs: pip install 'trayai[local]')" in (
        version_report().splitlines()
    )
