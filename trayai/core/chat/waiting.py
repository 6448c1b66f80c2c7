"""What a person is told between Send and the first word: the wait, in words that change as it goes.

A bare header for six seconds reads as "broken" (UX review, 08). The chat's placeholder shows these
words, refreshed each second: how long it has been, and — where a server says so — that the model is
loading into memory or how far the prompt has been read. Qt-free, so the wording is tested alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from trayai.core.net.backends.records import ModelRecord, ModelState
from trayai.core.net.prompt_progress import PromptProgress, progress_words
from trayai.core.strenum import StrEnum


class WaitPhase(StrEnum):
    """Where a request is before its first token, as far as trayai can tell."""

    SENDING = "sending"  # sent; the server says nothing more
    STARTING = "starting"  # the built-in server is starting
    LOADING = "loading"  # the server reports the model loading into memory
    READING = "reading"  # the server reports prompt-processing progress


@dataclass(frozen=True)
class Wait:
    """One moment of the wait."""

    phase: WaitPhase
    elapsed: float  # seconds since Send
    model: str
    progress: float | None = None  # 0–1 of the prompt read, when the server reports only that
    reading: PromptProgress | None = None  # the server's report with its token counts (llama.cpp)


def wait_words(wait: Wait) -> str:
    """ "Waiting for qwen3… 4 s", "Loading qwen3 into memory… 12 s",
    "Reading the prompt… 45 % (1,840 / 4,096 tokens) · 3 s"."""
    seconds = f"{math.floor(wait.elapsed)} s"
    if wait.phase is WaitPhase.STARTING:
        return f"Starting the built-in server… {seconds}"
    if wait.phase is WaitPhase.LOADING:
        return f"Loading {wait.model} into memory… {seconds}"
    if wait.phase is WaitPhase.READING and wait.reading is not None:
        return f"{progress_words(wait.reading)} · {seconds}"
    if wait.phase is WaitPhase.READING and wait.progress is not None:
        return f"Reading your message… {round(100 * min(1.0, max(0.0, wait.progress)))} % · {seconds}"
    return f"Waiting for {wait.model}… {seconds}"


def thinking_words(elapsed: float, *, done: bool) -> str:
    """The thinking line: a live "Thinking… 4 s", then "Thought for 12 s" (a tenth below 10 s)."""
    said = f"{elapsed:.1f} s" if elapsed < 10 else f"{round(elapsed)} s"
    return f"Thought for {said}" if done else f"Thinking… {math.floor(elapsed)} s"


def phase_from_records(model: str, records: Sequence[ModelRecord] | None) -> WaitPhase:
    """LOADING when the server's model list says ``model`` is loading now (llama.cpp router status,
    LM Studio, the on-demand built-in server), else SENDING: never a guess from the time alone."""
    for record in records or ():
        if record.id == model and record.state is ModelState.LOADING:
            return WaitPhase.LOADING
    return WaitPhase.SENDING


__all__ = ["Wait", "WaitPhase", "phase_from_records", "thinking_words", "wait_words"]
