"""``trayai batch``: JSONL prompts in, JSONL answers out, resumable (docs/architecture.md,
"Batch and bench").
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypedDict, cast

from trayai.core.chat.answer import Answer, AnswerTarget, Done, Failed, FellBack, Trimmed
from trayai.core.chat.modelcheck import ServerModels
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import TrayaiError, make_error
from trayai.core.net.client import GenerationOptions, ModelClient, StreamResult
from trayai.core.net.wire import ChatMessage
from trayai.core.settings.precedence import options_over

PASSTHROUGH_PARAMS = ("stop", "seed", "presence_penalty", "frequency_penalty")


@dataclass
class BatchItem:
    """One input line, parsed; ``error`` is set (and nothing is sent) when the line is unusable."""

    index: int
    id: str
    messages: list[ChatMessage] = field(default_factory=list)
    model: str | None = None
    options: GenerationOptions = field(default_factory=GenerationOptions)
    error: str | None = None


def parse_item(line: str, index: int, *, system: str = "") -> BatchItem:
    """Parse a line ``{"id"?, "prompt" | "messages", "model"?, "system"?, "temperature"?, …}``."""
    fallback_id = f"line-{index + 1}"
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return BatchItem(index, fallback_id, error=f"not valid JSON ({exc.msg}; column {exc.colno})")
    if not isinstance(data, dict):
        return BatchItem(index, fallback_id, error="expected a JSON object")
    item_id = str(data["id"]) if data.get("id") not in (None, "") else fallback_id
    item = BatchItem(index, item_id)
    prompt, messages = data.get("prompt"), data.get("messages")
    if messages is not None:
        if not (
            isinstance(messages, list)
            and messages
            and all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages)
        ):
            item.error = "'messages' must be a non-empty list of {role, content} objects"
            return item
        # Checked to be {role, …} objects; sent as the line gives them (other keys and content kinds too).
        item.messages = [cast(ChatMessage, dict(m)) for m in messages]
    elif isinstance(prompt, str) and prompt.strip():
        item.messages = [{"role": "user", "content": prompt}]
    else:
        item.error = "each line needs a non-empty 'prompt' or a 'messages' list"
        return item
    line_system = data.get("system", system)
    if isinstance(line_system, str) and line_system and item.messages[0].get("role") != "system":
        item.messages.insert(0, {"role": "system", "content": line_system})
    if data.get("model") is not None:
        item.model = str(data["model"])
    try:
        item.options = GenerationOptions(
            temperature=_number(data, "temperature"),
            top_p=_number(data, "top_p"),
            max_tokens=_whole(data, "max_tokens"),
            extra={k: data[k] for k in PASSTHROUGH_PARAMS if k in data},
        )
    except ValueError as exc:
        item.error = str(exc)
    return item


def _number(data: Mapping[str, Any], key: str) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"'{key}' must be a number")
    return float(value)


def _whole(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"'{key}' must be a positive whole number")
    return value


def read_items(path: Path, *, system: str = "") -> list[BatchItem]:
    """All non-blank lines of ``path`` as items (blank lines are skipped, not errors)."""
    items = []
    with path.open(encoding="utf-8") as handle:
        for index, line in enumerate(handle):
            if line.strip():
                items.append(parse_item(line, index, system=system))
    return items


def completed_ids(output: Path) -> set[str]:
    """Ids already answered successfully in ``output`` (for ``--resume``); a torn last line is ignored."""
    done: set[str] = set()
    if not output.exists():
        return done
    with output.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("error") is None and "id" in record:
                done.add(str(record["id"]))
    return done


class RecordUsage(TypedDict):
    prompt_tokens: int | None
    completion_tokens: int
    estimated: bool


class RecordTimings(TypedDict):
    ttft_s: float | None
    duration_s: float
    tokens_per_second: float | None


class RecordError(TypedDict):
    code: str
    message: str
    hint: str


class BatchRecord(TypedDict, total=False):
    """One output line (docs/api-reference.md, ``trayai batch``): an answer, or ``error`` and the
    partial ``answer``; ``endpoint`` is the URL that answered, ``profile`` its profile or None."""

    id: str
    line: int
    endpoint: str | None
    profile: str | None
    model: str | None
    asked_model: str
    answer: str | None
    thinking: str | None
    finish_reason: str
    usage: RecordUsage
    timings: RecordTimings
    error: RecordError | None


def success_record(
    item: BatchItem, result: StreamResult, endpoint: str | None = None, *, asked: str | None = None
) -> BatchRecord:
    """A line's answer; ``asked`` is the model name sent when the answer's own ``model`` differs."""
    record: BatchRecord = {
        "id": item.id,
        "line": item.index + 1,
        "endpoint": endpoint,
        "profile": None,
        "model": result.model,
        "answer": result.text,
        "thinking": result.thinking or None,  # a reasoning model's, kept apart from the answer
        "finish_reason": result.finish_reason,
        "usage": {
            "prompt_tokens": result.usage.prompt_tokens,
            "completion_tokens": result.usage.completion_tokens,
            "estimated": result.usage.estimated,
        },
        "timings": {
            "ttft_s": None if result.ttft is None else round(result.ttft, 4),
            "duration_s": round(result.duration, 4),
            "tokens_per_second": None
            if result.tokens_per_second is None
            else round(result.tokens_per_second, 2),
        },
        "error": None,
    }
    if asked:
        record["asked_model"] = asked
    return record


def error_record(item: BatchItem, error: TrayaiError, partial: str = "") -> BatchRecord:
    return {
        "id": item.id,
        "line": item.index + 1,
        "endpoint": None,
        "profile": None,
        "model": item.model,
        "answer": partial or None,
        "error": {"code": error.code.value, "message": error.message, "hint": error.hint},
    }


@dataclass
class BatchStats:
    total: int
    skipped: int = 0
    done: int = 0
    failed: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> int:
        return self.done + self.failed

    @property
    def pending(self) -> int:
        return self.total - self.skipped - self.finished

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.finished / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        rate = self.rate()
        return self.pending / rate if rate > 0 else None


Writer = Callable[[BatchRecord], None]

_DOWN_CODES = {ErrorCode.CONNECTION_REFUSED, ErrorCode.DNS, ErrorCode.CONNECT_TIMEOUT}
DOWN_RECHECK_SECONDS = 15.0  # a server found down is skipped this long before it is tried again


@dataclass
class BatchTarget:
    """One endpoint lines may go to: the profile's own first, then its fallbacks in order.

    Each record names the server that answered: ``endpoint`` is its URL, ``profile`` the profile's
    name only when the server is that profile's own (not an ``--endpoint`` run).
    """

    profile: str | None
    client: ModelClient
    model: str
    down_until: float = 0.0  # while a connection-level failure is fresh, later lines skip it
    # The server's list for the model check, read once for the whole run.
    models: ServerModels | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        """How notes name it: the profile, else the URL."""
        return self.profile or self.client.base_url

    def usable(self) -> bool:
        return time.monotonic() >= self.down_until

    def answer_target(self, model: str | None, *, stream: bool) -> AnswerTarget:
        """Where one line goes: this server with the line's model (else the profile's)."""
        if self.models is None:
            self.models = ServerModels(self.client, keep=float("inf"))
        return AnswerTarget(self.client, model or self.model, self.profile, stream=stream, models=self.models)

    def stamp(self, record: BatchRecord) -> BatchRecord:
        record["endpoint"] = self.client.base_url
        record["profile"] = self.profile
        return record


AnswerNote = Callable[[str], None]  # a fallback's or a trim's words (FellBack.note, Trimmed.note)


async def run_batch(
    client: ModelClient | list[BatchTarget],
    items: Iterable[BatchItem],
    write: Writer,
    *,
    default_model: str,
    default_options: GenerationOptions,
    concurrency: int = 4,
    ordered: bool = True,
    skip_ids: set[str] | None = None,
    stream: bool = True,
    on_progress: Callable[[BatchStats], None] | None = None,
    on_note: AnswerNote | None = None,
) -> BatchStats:
    """Answer every item, calling ``write`` once per finished item (in input order when ``ordered``).

    ``client`` may be a list of targets: a line that fails before its first token on one (down,
    5xx, model missing) goes to the next, and its record names the ``endpoint`` that answered.

    Cancelling the task that runs this stops the requests in flight; everything already written
    stays written (in ordered mode, out-of-order results finished before the cancel are flushed).
    """
    targets = client if isinstance(client, list) else [BatchTarget(None, client, default_model)]
    todo = list(items)
    skip = skip_ids or set()
    stats = BatchStats(total=len(todo))
    semaphore = asyncio.Semaphore(max(1, concurrency))
    out = _Output(
        write, stats, on_progress, order=[i.index for i in todo if i.id not in skip] if ordered else None
    )

    async def one(item: BatchItem) -> None:
        if item.error is not None:
            out.emit(item, _line_error(item))
            return
        async with semaphore:
            record = await _answer_anywhere(targets, item, default_options, stream=stream, on_note=on_note)
        out.emit(item, record)

    stats.skipped += sum(1 for item in todo if item.id in skip)
    if on_progress is not None:
        on_progress(stats)
    tasks = [asyncio.ensure_future(one(item)) for item in todo if item.id not in skip]
    try:
        await asyncio.gather(*tasks)
    except asyncio.CancelledError:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        out.flush_held()  # keep the finished ones (in input order) even though earlier lines never ran
        raise
    return stats


class _Output:
    """Hands each finished record to ``write``: at once, or — given the input ``order`` — held until
    every line before it is written."""

    def __init__(
        self,
        write: Writer,
        stats: BatchStats,
        on_progress: Callable[[BatchStats], None] | None,
        *,
        order: list[int] | None,
    ) -> None:
        self._write = write
        self._stats = stats
        self._on_progress = on_progress
        self._order = order
        self._held: dict[int, BatchRecord] = {}
        self._next = 0

    def emit(self, item: BatchItem, record: BatchRecord) -> None:
        if record["error"] is None:
            self._stats.done += 1
        else:
            self._stats.failed += 1
        if self._order is None:
            self._write(record)
        else:
            self._held[item.index] = record
            while self._next < len(self._order) and self._order[self._next] in self._held:
                self._write(self._held.pop(self._order[self._next]))
                self._next += 1
        if self._on_progress is not None:
            self._on_progress(self._stats)

    def flush_held(self) -> None:
        """Write the records still held, in input order (after a cancel: their turn never comes)."""
        for index in sorted(self._held):
            self._write(self._held.pop(index))


def _line_error(item: BatchItem) -> BatchRecord:
    """The record for a line that could not be parsed (``item.error`` says why)."""
    return error_record(
        item,
        make_error(
            ErrorCode.BAD_REQUEST,
            f"Line {item.index + 1}: {item.error}",
            "Fix the line and run again with --resume (only unanswered lines are sent).",
        ),
    )


async def _answer_anywhere(
    targets: list[BatchTarget],
    item: BatchItem,
    default_options: GenerationOptions,
    *,
    stream: bool,
    on_note: AnswerNote | None,
) -> BatchRecord:
    """The record for one line: its answer from the first target that can give it, or the error
    (the events come from the one answer pipeline, core/chat/answer.py)."""
    usable = [t for t in targets if t.usable()] or targets[-1:]
    chain = [t.answer_target(item.model, stream=stream) for t in usable]
    owner = {id(a): b for a, b in zip(chain, usable, strict=True)}
    answer = Answer(chain, item.messages, options_over(default_options, item.options))
    async with contextlib.aclosing(answer.events()) as events:
        async for event in events:
            if isinstance(event, FellBack):
                source = owner[id(event.source)]
                if event.why.code in _DOWN_CODES:
                    source.down_until = time.monotonic() + DOWN_RECHECK_SECONDS
                if on_note is not None:
                    on_note(event.note)
            elif isinstance(event, Trimmed):
                if on_note is not None:
                    on_note(event.note)
            elif isinstance(event, Done):
                asked = event.sent if event.other_model else None
                return owner[id(event.target)].stamp(success_record(item, event.result, asked=asked))
            elif isinstance(event, Failed):
                record = error_record(item, event.error, event.partial)
                return owner[id(event.target)].stamp(record)
    raise AssertionError("unreachable: an answer always ends in Done or Failed")
