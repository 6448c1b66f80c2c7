"""Reasoning models' thinking, kept apart from the answer: ``reasoning_content`` / ``reasoning``
deltas (llama.cpp, vLLM, LM Studio, Ollama) and a ``<think>…</think>`` block at the start of the
content (DeepSeek-R1, Qwen3 served raw). Thinking is shown and stored, never sent back, never copied
as the answer.
"""

from __future__ import annotations

from dataclasses import dataclass

from trayai.core.strenum import StrEnum

OPEN, CLOSE = "<think>", "</think>"


class PartKind(StrEnum):
    ANSWER = "answer"
    THINKING = "thinking"


@dataclass(frozen=True)
class StreamPart:
    """A piece of a streamed reply: answer text or thinking."""

    kind: PartKind
    text: str


class _Phase(StrEnum):
    START = "start"  # nothing but whitespace yet: a <think> may still open
    THINKING = "thinking"
    ANSWER = "answer"


def _partial_suffix(text: str, tag: str) -> int:
    """Length of the longest end of ``text`` that is a start of ``tag`` (a tag split across deltas)."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


class ThinkSplitter:
    """Splits content deltas into thinking and answer, whatever the delta boundaries.

    Only a ``<think>`` that opens the reply counts: the same tag later in an answer (a model
    explaining HTML, say) is answer text.
    """

    def __init__(self) -> None:
        self._phase = _Phase.START
        self._pending = ""
        self._answer_started = False

    @property
    def thinking(self) -> bool:
        return self._phase is _Phase.THINKING

    def feed(self, text: str) -> list[StreamPart]:
        if self._phase is _Phase.ANSWER:
            return self._answer(text)
        self._pending += text
        if self._phase is _Phase.START:
            head = self._pending.lstrip()
            if head.startswith(OPEN):
                self._phase = _Phase.THINKING
                self._pending = head[len(OPEN) :]
            elif OPEN.startswith(head):
                return []  # "", "<", "<thi"…: wait for more
            else:
                self._phase = _Phase.ANSWER
                pending, self._pending = self._pending, ""
                return self._answer(pending)
        return self._in_thinking()

    def _in_thinking(self) -> list[StreamPart]:
        end = self._pending.find(CLOSE)
        if end >= 0:
            thought, rest = self._pending[:end], self._pending[end + len(CLOSE) :]
            self._pending = ""
            self._phase = _Phase.ANSWER
            parts = [StreamPart(PartKind.THINKING, thought)] if thought else []
            return parts + self._answer(rest)
        keep = _partial_suffix(self._pending, CLOSE)
        thought = self._pending[: len(self._pending) - keep]
        self._pending = self._pending[len(self._pending) - keep :]
        return [StreamPart(PartKind.THINKING, thought)] if thought else []

    def _answer(self, text: str) -> list[StreamPart]:
        if not self._answer_started:
            text = text.lstrip("\n")  # the blank line after </think> is not the answer's
            if not text:
                return []
            self._answer_started = True
        return [StreamPart(PartKind.ANSWER, text)]

    def flush(self) -> list[StreamPart]:
        """The end of the stream: text held back (a partial tag) goes where it was heading."""
        pending, self._pending = self._pending, ""
        if not pending:
            return []
        if self._phase is _Phase.THINKING:
            return [StreamPart(PartKind.THINKING, pending)]
        self._phase = _Phase.ANSWER
        return self._answer(pending)


def split_thinking(text: str) -> tuple[str, str]:
    """(thinking, answer) of a whole reply (a non-streamed completion)."""
    splitter = ThinkSplitter()
    parts = splitter.feed(text) + splitter.flush()
    thinking = "".join(p.text for p in parts if p.kind is PartKind.THINKING)
    answer = "".join(p.text for p in parts if p.kind is PartKind.ANSWER)
    return thinking, answer
