"""Compiled bytecode kept between test processes, outside the source tree.

Why: with ``PYTHONDONTWRITEBYTECODE`` set (many developer and CI shells set it to keep ``__pycache__``
out of checkouts), every ``python -m trayai.cli`` a test starts compiled all of trayai again: ~0.2 s
of CPU per child, about 50 children in the unit tier. Python's ``PYTHONPYCACHEPREFIX`` keeps that
wish (nothing is written beside the sources) while the children share one compiled copy.
"""

from __future__ import annotations

import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

from tests.support.llama_router_build import cache_root


def bytecode_cache() -> Path:
    """``${XDG_CACHE_HOME:-~/.cache}/trayai-tests/pycache``: a mirror of the source paths, so several
    checkouts share it without clashing (a stale entry is recompiled: its source's mtime differs)."""
    return cache_root() / "pycache"


def share_compiled_bytecode(environ: MutableMapping[str, str] = os.environ) -> Path | None:
    """When bytecode is not to be written beside the sources, write it under :func:`bytecode_cache`
    instead, for this process's later imports and every child it starts. Returns the cache used, or
    None when nothing changes (bytecode is written as usual, or a prefix is already chosen)."""
    if not environ.get("PYTHONDONTWRITEBYTECODE") or environ.get("PYTHONPYCACHEPREFIX"):
        return None
    cache = bytecode_cache()
    environ.pop("PYTHONDONTWRITEBYTECODE")
    environ["PYTHONPYCACHEPREFIX"] = str(cache)
    if environ is os.environ:
        sys.pycache_prefix = str(cache)
        sys.dont_write_bytecode = False
    return cache
