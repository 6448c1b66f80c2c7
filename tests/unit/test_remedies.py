"""One error catalogue, two renderings: the terminal's commands, the window's words and buttons."""

from __future__ import annotations

import re

import pytest

from trayai.core.error_catalog import ERROR_CATALOG, ErrorCode, Remedy
from trayai.core.errors import make_error
from trayai.core.remedies import Situation, gui_help, plain


@pytest.mark.parametrize("code", list(ErrorCode))
def test_every_code_has_window_words_without_terminal_talk(code: ErrorCode) -> None:
    entry = ERROR_CATALOG[code]
    assert entry.gui, f"{code} has no words for a window"
    assert "`" not in entry.gui  # no Markdown in a window
    assert not re.search(
        r"\btrayai (ask|models|serve|servers|status|key|load|unload|pull|config|profile)\b|--[a-z]|\bdocker\b|\bpip\b|\bcurl\b",
        entry.gui,
    ), entry.gui
    assert len(set(entry.remedies)) == len(entry.remedies)


def test_a_refused_connection_offers_what_can_help_here() -> None:
    error = make_error(ErrorCode.CONNECTION_REFUSED, "Nothing is listening on 127.0.0.1:8000")
    bare = gui_help(error)
    assert [a.label for a in bare.actions] == ["Open Settings", "Retry"]  # no server ready, no built-in
    rich = gui_help(error, Situation(ready_servers=["ollama", "lab", "third"], builtin_can_start=True))
    assert [a.label for a in rich.actions] == [
        "Switch to ollama",
        "Switch to lab",
        "Start the built-in server",
        "Open Settings",
        "Retry",
    ]
    assert rich.actions[0].remedy is Remedy.SWITCH_SERVER and rich.actions[0].target == "ollama"
    assert "docker" not in rich.text.lower()  # the review found Docker hints for a vLLM profile


def test_a_missing_model_offers_its_close_matches_then_the_list_and_no_retry() -> None:
    error = make_error(
        ErrorCode.MODEL_MISSING, "Model `gpt-4o` is not on 127.0.0.1:8080", suggestions=["gpt-4o-mini"]
    )
    help_ = gui_help(error, Situation(model="gpt-4o", models=["ai/smollm2", "gpt-4o-mini", "qwen3"]))
    assert [a.label for a in help_.actions][:3] == ["Use gpt-4o-mini", "Use ai/smollm2", "Use qwen3"]
    assert all(a.remedy is not Remedy.RETRY for a in help_.actions)  # the same request cannot work
    assert help_.title == "Model gpt-4o is not on 127.0.0.1:8080"  # backticks gone


def test_a_router_model_not_loaded_offers_to_load_it() -> None:
    error = make_error(ErrorCode.MODEL_NOT_LOADED)
    help_ = gui_help(error, Situation(model="qwen3", models=["qwen3", "gemma"]))
    assert help_.actions[0].label == "Load qwen3" and help_.actions[0].target == "qwen3"


def test_context_exceeded_offers_a_new_chat_not_a_retry() -> None:
    labels = [a.label for a in gui_help(make_error(ErrorCode.CONTEXT_EXCEEDED)).actions]
    assert labels == ["New chat"]


def test_plain_drops_code_marks_only() -> None:
    assert plain("Run `trayai models` now") == "Run trayai models now"
