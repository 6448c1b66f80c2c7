"""How far a server has read the prompt before its first token: llama.cpp's ``prompt_progress``.

A long prompt on a CPU is read for seconds to minutes before anything is written; llama.cpp's server
says how far it got when the request asks (``"return_progress": true``), in chunks with an empty
delta. Only servers known to understand the field are asked (``ServerKind.reports_prompt_progress``):
an unknown field is ignored by vLLM and Ollama but refused by strict servers (LM Studio refuses even
``stream_options``). Qt-free, so the parsing and the wording are tested alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from trayai.core.net.wire import JSONObject

PROGRESS_FIELD = "return_progress"  # the request's switch (llama.cpp server, b6399 and later)


@dataclass(frozen=True)
class PromptProgress:
    """One ``prompt_progress`` report: of ``total`` prompt tokens, ``processed`` are read (the
    ``cache`` tokens reused from an earlier request among them); ``time_ms`` spent reading so far."""

    total: int
    processed: int
    cache: int = 0
    time_ms: int = 0

    @property
    def fraction(self) -> float:
        """0–1 of the prompt read (cached tokens count as read: the server does not read them again)."""
        return min(1.0, self.processed / self.total) if self.total > 0 else 1.0

    @property
    def done(self) -> bool:
        return self.processed >= self.total


def _count(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def parse_prompt_progress(event: JSONObject) -> PromptProgress | None:
    """The report an SSE event carries, or None (absent, or not numbers a server would send)."""
    raw = event.get("prompt_progress")
    if not isinstance(raw, dict):
        return None
    total, processed = _count(raw.get("total")), _count(raw.get("processed"))
    if total is None or processed is None or total == 0:
        return None
    cache = _count(raw.get("cache")) or 0
    time_ms = _count(raw.get("time_ms")) or 0
    return PromptProgress(total, min(processed, total), min(cache, total), time_ms)


def progress_words(progress: PromptProgress) -> str:
    """ "Reading the prompt… 45 % (1,840 / 4,096 tokens)": the same words in the chat and the terminal."""
    percent = round(100 * progress.fraction)
    if not progress.done:
        percent = min(99, percent)  # "100 %" only once it is all read
    return f"Reading the prompt… {percent} % ({progress.processed:,} / {progress.total:,} tokens)"


__all__ = ["PROGRESS_FIELD", "PromptProgress", "parse_prompt_progress", "progress_words"]
