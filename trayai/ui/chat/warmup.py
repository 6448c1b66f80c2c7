"""Get the chat path hot before the first prompt: imports in a worker thread, then ``gc.freeze()``
(the stalls this removes: docs/architecture.md, "The chat window").
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time

from trayai.core.chat.render import MarkdownRenderer
from trayai.core.net.client import ModelClient

log = logging.getLogger(__name__)


def _prime_rendering() -> None:
    renderer = MarkdownRenderer()
    renderer.render("Warm **up**\n\n```python\nx = [i for i in range(3)]\n```\n\n- a\n- b\n")


async def warm_up_chat(client: ModelClient) -> None:
    """Import and initialise the SDK and the renderer off the UI thread, then freeze the heap."""
    started = time.perf_counter()
    try:
        await client.warm_up()
        await asyncio.to_thread(_prime_rendering)
    except Exception:  # warming is an optimisation: never let it break the chat
        log.exception("chat warm-up failed")
        return
    gc.collect()
    gc.freeze()  # long-lived objects: later collections no longer walk them (no mid-reply pauses)
    log.info("chat warm-up done in %.2f s", time.perf_counter() - started)


__all__ = ["warm_up_chat"]
