"""The words between Send and the first token, and for a model's thinking."""

from __future__ import annotations

from trayai.core.chat.waiting import Wait, WaitPhase, phase_from_records, thinking_words, wait_words
from trayai.core.net.backends.records import ModelRecord, ModelState


def test_each_phase_in_words_with_whole_seconds() -> None:
    assert wait_words(Wait(WaitPhase.SENDING, 4.9, "qwen3")) == "Waiting for qwen3… 4 s"
    assert wait_words(Wait(WaitPhase.LOADING, 12.2, "qwen3")) == "Loading qwen3 into memory… 12 s"
    assert wait_words(Wait(WaitPhase.STARTING, 0.4, "ai/smollm2")) == "Starting the built-in server… 0 s"
    assert wait_words(Wait(WaitPhase.READING, 3.0, "q", progress=0.404)) == "Reading your message… 40 % · 3 s"
    assert wait_words(Wait(WaitPhase.READING, 3.0, "q")) == "Waiting for q… 3 s"  # no figure: no claim


def test_thinking_live_then_done() -> None:
    assert thinking_words(4.7, done=False) == "Thinking… 4 s"
    assert thinking_words(3.24, done=True) == "Thought for 3.2 s"
    assert thinking_words(12.6, done=True) == "Thought for 13 s"


def test_loading_only_when_the_server_says_so() -> None:
    records = [ModelRecord("qwen3", ModelState.LOADING), ModelRecord("gemma", ModelState.LOADED)]
    assert phase_from_records("qwen3", records) is WaitPhase.LOADING
    assert phase_from_records("gemma", records) is WaitPhase.SENDING
    assert phase_from_records("qwen3", None) is WaitPhase.SENDING
