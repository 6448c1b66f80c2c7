"""AGENTS.md's module map names every module under trayai/, and nothing that does not exist."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOTED = ("trayai/", "tests/", "resources/")


def module_map_names() -> set[str]:
    """Paths named in the map's first column. A name that does not start at the repository root
    (``__main__.py``, ``core/__init__.py``) is relative to the directory of the first name in its cell."""
    text = (ROOT / "AGENTS.md").read_text(encoding="utf-8")
    section = text.split("## Module map", 1)[1].split("\n## ", 1)[0]
    names: set[str] = set()
    for line in section.splitlines():
        if not line.startswith("| `"):
            continue
        cell = line.split("|")[1]
        entries = re.findall(r"`([^`]+)`", cell)
        base = entries[0].rsplit("/", 1)[0] + "/" if "/" in entries[0].rstrip("/") else ""
        for entry in entries:
            names.add(entry if entry.startswith(ROOTED) else base + entry)
    return names


def test_the_map_names_only_paths_that_exist() -> None:
    names = module_map_names()
    assert len(names) > 50  # the table was found and read
    missing = sorted(n for n in names if not (ROOT / n).exists())
    assert not missing, f"AGENTS.md names what does not exist: {missing}"


def test_the_map_names_every_module_under_trayai() -> None:
    names = module_map_names()
    modules = {p.relative_to(ROOT).as_posix() for p in (ROOT / "trayai").rglob("*.py")}
    unnamed = sorted(modules - names)
    assert not unnamed, f"add these to AGENTS.md's module map: {unnamed}"


def test_relative_names_resolve_against_their_row() -> None:
    names = module_map_names()
    assert {"trayai/cli/__main__.py", "trayai/ui/chat/prompt_input.py", "trayai/core/__init__.py"} <= names
