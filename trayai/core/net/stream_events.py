"""What one streamed answer's events say, put together: each SSE line read into answer and thinking
parts (``<think>`` tags split off), the server's prompt-reading progress, the tool calls' fragments,
the model's own name and the usage, the clocks and the caps — and from all that the final
:class:`StreamResult`. Bytes, deadlines and the HTTP request are ``ChatStream``'s (core/net/stream.py).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

from trayai.core.chat.thinking import PartKind, StreamPart, ThinkSplitter
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.classify import extract_server_message
from trayai.core.net.prompt_progress import PromptProgress, parse_prompt_progress
from trayai.core.net.responses import completion_fields, message_reasoning, parse_json_object
from trayai.core.net.urls import host_port
from trayai.core.net.wire import JSONObject, StreamResult, Usage
from trayai.core.textsafe import valid_text
from trayai.core.tools.calls import ToolCallAssembler

# Caps against misbehaving servers (far above what a real server sends).
MAX_EVENT_BYTES = 1_000_000  # one SSE line; a real delta is a few hundred bytes
MAX_ANSWER_CHARS = 8_000_000  # one answer's text (the chat view stays responsive well past this)

Piece = StreamPart | PromptProgress  # what a stream yields: text (answer or thinking), or progress


@dataclass
class StreamClock:
    """What one streamed answer has shown so far (times are ``time.perf_counter()`` values)."""

    started: float
    model: str
    ttft: float | None = None  # first content token, for the figures
    last_progress: float | None = None  # last event carrying text (answer or reasoning): the stall clock
    finish: str | None = None
    usage: Usage | None = None
    times: list[float] = field(default_factory=list)
    events: int = 0  # content events (answer and thinking), for the max_tokens guard
    chars: int = 0
    thinking_started: float | None = None
    thinking_ended: float | None = None  # the first answer text after thinking


class Done:
    """The ``data: [DONE]`` event (a typed sentinel)."""


DONE = Done()


class AnswerEvents:
    """One answer's events, read in order; ``base_url`` names the server in errors, ``max_tokens``
    (when set) is the length a server must not run far past."""

    def __init__(self, base_url: str, model: str, max_tokens: int | None) -> None:
        self.clock = StreamClock(time.perf_counter(), model)
        self.progress: PromptProgress | None = None  # the server's last prompt-reading report
        self._base_url = base_url
        self._where = host_port(base_url)
        self._model = model
        self._max_tokens = max_tokens
        self._chunks: list[str] = []
        self._thinking: list[str] = []
        self._splitter = ThinkSplitter()
        self._calls = ToolCallAssembler()  # the turn's ``tool_calls`` fragments, put together

    @property
    def text(self) -> str:
        return "".join(self._chunks)

    @property
    def thinking(self) -> str:
        return "".join(self._thinking)

    @property
    def answering(self) -> bool:
        """A token (or some text) arrived: a failure from here is mid-answer, not before it."""
        return self.clock.ttft is not None or bool(self._chunks or self._thinking)

    # ------------------------------------------------------------------ reading

    def line(self, line: bytes) -> list[Piece] | Done | None:
        """Handle one SSE line; returns its answer/thinking parts (or progress), :data:`DONE` or None."""
        line = line.rstrip(b"\r")
        if not line.startswith(b"data:"):
            if not line or line.startswith((b":", b"event:", b"id:", b"retry:")):
                return None
            raise make_error(
                ErrorCode.MALFORMED_STREAM,
                f"{self._where} sent a line that is not a server-sent event",
                detail=line[:200].decode("utf-8", "replace"),
            )
        payload = line[5:].strip()
        if payload == b"[DONE]":
            return DONE
        try:
            data = json.loads(payload)
        except ValueError as exc:
            raise make_error(
                ErrorCode.MALFORMED_STREAM,
                f"{self._where} sent an event that is not valid JSON",
                detail=payload[:200].decode("utf-8", "replace"),
            ) from exc
        if not isinstance(data, dict):
            return None
        if data.get("error"):
            message = extract_server_message(json.dumps(data)) or "the server reported an error"
            raise make_error(
                ErrorCode.STREAM_ERROR, f"The server failed mid-reply: {message}", detail=message
            )
        return self._data(data)

    def _data(self, data: JSONObject) -> list[Piece] | None:
        clock = self.clock
        self._note_model_and_usage(data)
        progress: list[Piece] = [p] if (p := self._note_progress(data)) is not None else []
        choices = data.get("choices")
        if not choices or not isinstance(choices, list) or not isinstance(choices[0], dict):
            return progress or None
        choice = choices[0]
        if isinstance(choice.get("finish_reason"), str) and choice["finish_reason"]:
            clock.finish = choice["finish_reason"][:40]
        delta = choice.get("delta") or {}
        if not isinstance(delta, dict):
            return progress or None
        if delta.get("tool_calls"):
            clock.last_progress = time.perf_counter()  # the model is working: not a stall
            self._calls.feed(delta)
        parts: list[StreamPart] = []
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            parts.append(StreamPart(PartKind.THINKING, reasoning))
        content = delta.get("content")
        if isinstance(content, str) and content:
            parts.extend(self._splitter.feed(content))
        if not parts:
            return progress or None
        clock.events += 1
        taken = [self._took(StreamPart(p.kind, valid_text(p.text))) for p in parts]
        self._check_length()
        return progress + taken

    def whole(self, raw: bytes, content_type: str) -> list[StreamPart]:
        """A server that ignored stream=True (or an HTML page): the whole body, read once."""
        data = parse_json_object(raw.decode("utf-8", "replace"), content_type, self._base_url)
        text, finish, usage = completion_fields(data, self._base_url)
        clock = self.clock
        clock.ttft = time.perf_counter() - clock.started
        clock.finish, clock.usage = finish, usage
        self._calls.feed_message(data)
        parts = []
        reasoning = message_reasoning(data)
        if reasoning:
            parts.append(StreamPart(PartKind.THINKING, reasoning))
        parts += self._splitter.feed(text or "") + self._splitter.flush()
        return [self._took(StreamPart(p.kind, valid_text(p.text))) for p in parts]

    def flush(self) -> list[StreamPart]:
        """A tag-like tail the splitter held back: text after all, at the stream's end."""
        return [self._took(part) for part in self._splitter.flush()]

    def check_event_size(self, size: int) -> None:
        """One SSE line past :data:`MAX_EVENT_BYTES` is refused (a real delta is a few hundred bytes)."""
        if size > MAX_EVENT_BYTES:
            raise make_error(
                ErrorCode.TOO_LARGE,
                f"{self._where} sent a streamed event larger than {MAX_EVENT_BYTES // 1_000_000} MB",
            )

    # ------------------------------------------------------------------ the end

    def result(self, outcome: str, error: TrayaiError | None) -> StreamResult:
        """What the answer came to: its text (also partial), figures, tool calls, and how it ended."""
        clock = self.clock
        end = time.perf_counter()
        times = clock.times
        usage = clock.usage if clock.usage is not None else Usage(None, len(times), True)
        rate = None
        if len(times) >= 2 and times[-1] > times[0]:
            # Generation speed between first and last token (excludes time to first token).
            rate = (usage.completion_tokens - 1) / (times[-1] - times[0])
        thought = None
        if clock.thinking_started is not None:
            thought = (clock.thinking_ended or end) - clock.thinking_started
        return StreamResult(
            text=self.text,
            model=clock.model or self._model,
            finish_reason=outcome,
            usage=usage,
            ttft=clock.ttft,
            duration=end - clock.started,
            tokens_per_second=rate,
            error=error,
            thinking=self.thinking,
            thinking_seconds=thought,
            tool_calls=tuple(self._calls.calls()),
        )

    # ------------------------------------------------------------------ inside

    def _check_length(self) -> None:
        """Stop reading an answer far past its limit: the server ignored ``max_tokens`` (or none)."""
        clock, limit = self.clock, self._max_tokens
        if limit and clock.events > 2 * limit + 16:
            raise make_error(
                ErrorCode.LENGTH_IGNORED,
                f"{self._where} ignored max_tokens={limit}: stopped reading after {clock.events} tokens",
            )
        if clock.chars > MAX_ANSWER_CHARS:
            raise make_error(
                ErrorCode.TOO_LARGE,
                f"The answer from {self._where} passed {MAX_ANSWER_CHARS // 1_000_000} million characters: "
                "stopped reading",
            )

    def _note_progress(self, data: JSONObject) -> PromptProgress | None:
        """A prompt-reading report before the first token (llama.cpp sends them in chunks with an
        empty delta). The server is working: the first-token wait becomes a stall wait from here."""
        if self.clock.ttft is not None:
            return None  # progress attached to a later chunk says nothing new
        progress = parse_prompt_progress(data)
        if progress is None:
            return None
        self.clock.last_progress = time.perf_counter()
        self.progress = progress
        return progress

    def _note_model_and_usage(self, data: JSONObject) -> None:
        """The model's own name and the token usage, from whichever event carries them."""
        model = data.get("model")
        if isinstance(model, str) and model:
            self.clock.model = model[:200]
        usage = data.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            prompt = usage.get("prompt_tokens")
            prompt_tokens = prompt if isinstance(prompt, int) else None
            self.clock.usage = Usage(prompt_tokens, usage["completion_tokens"], False)

    def _took(self, part: StreamPart) -> StreamPart:
        """Account for one part: the clocks, the caps, and the answer or thinking it belongs to.

        Text is made valid UTF-8 first: a lone surrogate (valid JSON) must not break a write.
        """
        clock = self.clock
        now = time.perf_counter()
        if clock.ttft is None:
            clock.ttft = now - clock.started  # the server's first token, thinking or answer
        clock.last_progress = now
        clock.chars += len(part.text)
        clock.times.append(now)  # thinking tokens are generated tokens too (and in usage)
        if part.kind is PartKind.THINKING:
            clock.thinking_started = clock.thinking_started or now
            self._thinking.append(part.text)
        else:
            if clock.thinking_started is not None and clock.thinking_ended is None:
                clock.thinking_ended = now
            self._chunks.append(part.text)
        return part


__all__ = ["DONE", "MAX_ANSWER_CHARS", "MAX_EVENT_BYTES", "AnswerEvents", "Done", "Piece", "StreamClock"]
