"""The Get models window's search with Hugging Face unreachable — a dead loopback port and a black hole that
takes the connection and never answers: it says so within ~3 s and that the catalog below is offline
figures (huggingface_hub's own retries took ~23 s against the dead port, and never ended on the other)."""

from __future__ import annotations

import contextlib
import time
from typing import Any

import pytest

from tests.support.blackhole import black_hole
from tests.support.ports import free_port
from tests.support.waiting import until
from trayai.core.library.hub import Hub
from trayai.ui.library.search import HubSearch


@pytest.mark.parametrize("where", ["dead port", "black hole"])
def test_the_windows_search_says_the_hub_is_unreachable_within_three_seconds(
    run: Any, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    with contextlib.ExitStack() as stack:
        url = f"http://127.0.0.1:{free_port()}" if where == "dead port" else stack.enter_context(black_hole())
        search = HubSearch(lambda: Hub(endpoint=url), lambda _controls, _target: None)
        search.show()
        search.box.setText("qwen3")

        async def go() -> float:
            began = time.monotonic()
            search.search()
            assert search.note.text() == "Searching Hugging Face for “qwen3”…"
            await until(lambda: "unreachable" in search.note.text(), 10, "the search to give up")
            return time.monotonic() - began

        took = run(go())
        text = search.note.text()
        assert text.startswith("Hugging Face is unreachable: ") and text.endswith(
            "; the catalog below is offline figures."
        )
        assert search.button.isEnabled() and search.hits == []
        assert took < 3.5, f"{where}: {took:.1f} s"
        run(search.tasks.cancel_all())
        search.close()
