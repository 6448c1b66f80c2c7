"""What qasync's event loop leaves out: the async-generator hooks every asyncio loop installs.

Why: ``asyncio.BaseEventLoop.run_forever`` registers ``sys.set_asyncgen_hooks`` so that an async
generator dropped half-way (httpx's byte streams, when a reply turns out malformed mid-stream) is
closed *on the loop*. qasync runs Qt's ``exec()`` instead and never registers them; such generators
are then finalised by the garbage collector outside any loop and fail noisily
("AsyncLibraryNotFoundError … Exception ignored"). Call :func:`install_asyncgen_hooks` once the
qasync loop runs.
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any


def install_asyncgen_hooks(loop: asyncio.AbstractEventLoop) -> Any:
    """Route async-generator finalisation to ``loop``; returns the previous hooks (to restore)."""
    previous = sys.get_asyncgen_hooks()
    firstiter = getattr(loop, "_asyncgen_firstiter_hook", None)
    finalizer = getattr(loop, "_asyncgen_finalizer_hook", None)
    if firstiter is not None and finalizer is not None:
        sys.set_asyncgen_hooks(firstiter=firstiter, finalizer=finalizer)
    return previous


__all__ = ["install_asyncgen_hooks"]
