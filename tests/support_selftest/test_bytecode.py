"""The bytecode cache the suite's processes share (tests/support/bytecode.py): used only when bytecode
is not to be written beside the sources, and then by this very session."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tests.support.bytecode import bytecode_cache, share_compiled_bytecode


def test_bytecode_goes_to_the_shared_cache_only_when_not_beside_the_sources() -> None:
    assert share_compiled_bytecode({}) is None  # bytecode written as usual: nothing to change
    chosen = {"PYTHONDONTWRITEBYTECODE": "1", "PYTHONPYCACHEPREFIX": "/elsewhere"}
    assert share_compiled_bytecode(chosen) is None and chosen["PYTHONPYCACHEPREFIX"] == "/elsewhere"
    environ = {"PYTHONDONTWRITEBYTECODE": "1", "HOME": "/home/someone"}
    assert share_compiled_bytecode(environ) == bytecode_cache()
    assert environ == {"HOME": "/home/someone", "PYTHONPYCACHEPREFIX": str(bytecode_cache())}
    assert bytecode_cache().parts[-2:] == ("trayai-tests", "pycache")


def test_this_session_shares_its_bytecode_outside_the_tree() -> None:
    """The suite's own processes: never a __pycache__ beside the sources when that is not wanted."""
    if os.environ.get("PYTHONPYCACHEPREFIX"):
        assert sys.pycache_prefix == os.environ["PYTHONPYCACHEPREFIX"]
        tree = Path(__file__).resolve().parents[2]
        assert not Path(sys.pycache_prefix).resolve().is_relative_to(tree / "trayai")
    else:
        assert not os.environ.get("PYTHONDONTWRITEBYTECODE")
