"""``trayai bench``: TTFT and tokens/s over sequential runs, a concurrency sweep, endpoints side by
side (docs/architecture.md, "Batch and bench").
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypedDict

from trayai.core.errors import TrayaiError
from trayai.core.net.client import GenerationOptions, ModelClient, StreamResult

# A long answer capped by max_tokens: every run generates about the same number of tokens.
PROMPT = "Write a long, detailed story about a lighthouse keeper and the sea. Keep going."
Progress = Callable[[str], None]


def percentile(values: Sequence[float], fraction: float) -> float | None:
    """Nearest-rank percentile (``fraction`` in 0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


class SequentialDict(TypedDict):
    runs: int
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    tokens_per_s_p50: float | None
    tokens_per_s_p95: float | None
    tokens_per_run: float
    errors: list[str]


class ConcurrencyDict(TypedDict):
    streams: int
    aggregate_tokens_per_s: float
    latency_p50_s: float | None
    latency_p95_s: float | None
    ttft_p50_s: float | None
    errors: int


class BenchDict(TypedDict):
    """One endpoint's figures in ``trayai bench --json`` (seconds and rates to 4 decimals)."""

    endpoint: str
    model: str
    max_tokens: int
    sequential: SequentialDict
    concurrency: list[ConcurrencyDict]


@dataclass
class SequentialFigures:
    runs: int
    ttft_p50_s: float | None
    ttft_p95_s: float | None
    tokens_per_s_p50: float | None
    tokens_per_s_p95: float | None
    tokens_per_run: float
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> SequentialDict:
        return {
            "runs": self.runs,
            "ttft_p50_s": _rounded(self.ttft_p50_s),
            "ttft_p95_s": _rounded(self.ttft_p95_s),
            "tokens_per_s_p50": _rounded(self.tokens_per_s_p50),
            "tokens_per_s_p95": _rounded(self.tokens_per_s_p95),
            "tokens_per_run": round(self.tokens_per_run, 4),
            "errors": list(self.errors),
        }


@dataclass
class ConcurrencyFigures:
    streams: int
    aggregate_tokens_per_s: float
    latency_p50_s: float | None
    latency_p95_s: float | None
    ttft_p50_s: float | None
    errors: int

    def to_dict(self) -> ConcurrencyDict:
        return {
            "streams": self.streams,
            "aggregate_tokens_per_s": round(self.aggregate_tokens_per_s, 4),
            "latency_p50_s": _rounded(self.latency_p50_s),
            "latency_p95_s": _rounded(self.latency_p95_s),
            "ttft_p50_s": _rounded(self.ttft_p50_s),
            "errors": self.errors,
        }


@dataclass
class BenchReport:
    endpoint: str
    model: str
    max_tokens: int
    sequential: SequentialFigures
    concurrency: list[ConcurrencyFigures]

    @property
    def failed_runs(self) -> int:
        """Runs that did not complete (an error, a cut or interrupted answer): never silently averaged."""
        return len(self.sequential.errors) + sum(c.errors for c in self.concurrency)

    def to_dict(self) -> BenchDict:
        return {
            "endpoint": self.endpoint,
            "model": self.model,
            "max_tokens": self.max_tokens,
            "sequential": self.sequential.to_dict(),
            "concurrency": [c.to_dict() for c in self.concurrency],
        }


async def _one(client: ModelClient, model: str, options: GenerationOptions) -> StreamResult:
    chat = client.stream_chat([{"role": "user", "content": PROMPT}], model=model, options=options)
    async with chat:
        async for _ in chat:
            pass
    assert chat.result is not None
    return chat.result


async def run_bench(
    client: ModelClient,
    model: str,
    *,
    runs: int = 5,
    max_tokens: int = 64,
    levels: Sequence[int] = (1, 2, 4, 8),
    progress: Progress | None = None,
) -> BenchReport:
    """Measure ``client``'s endpoint (sequential runs, then the sweep); failures are counted, not raised."""

    say = progress or (lambda _msg: None)
    options = GenerationOptions(max_tokens=max_tokens, temperature=0.0)
    await _one(client, model, GenerationOptions(max_tokens=4, temperature=0.0))  # warm-up (model load)

    results: list[StreamResult] = []
    errors: list[str] = []
    for index in range(runs):
        say(f"sequential run {index + 1}/{runs}")
        try:
            results.append(await _one(client, model, options))
        except TrayaiError as exc:
            errors.append(exc.message)
    ttfts = [r.ttft for r in results if r.ttft is not None]
    rates = [r.tokens_per_second for r in results if r.tokens_per_second]
    sequential = SequentialFigures(
        runs=runs,
        ttft_p50_s=percentile(ttfts, 0.5),
        ttft_p95_s=percentile(ttfts, 0.95),
        tokens_per_s_p50=percentile(rates, 0.5),
        tokens_per_s_p95=percentile(rates, 0.95),
        tokens_per_run=(sum(r.usage.completion_tokens for r in results) / len(results)) if results else 0.0,
        errors=errors,
    )

    sweep: list[ConcurrencyFigures] = []
    for streams in levels:
        say(f"{streams} concurrent stream(s)")
        started = time.perf_counter()
        outcomes = await asyncio.gather(
            *(_one(client, model, options) for _ in range(streams)), return_exceptions=True
        )
        wall = time.perf_counter() - started
        good = [o for o in outcomes if isinstance(o, StreamResult)]
        tokens = sum(r.usage.completion_tokens for r in good)
        sweep.append(
            ConcurrencyFigures(
                streams=streams,
                aggregate_tokens_per_s=tokens / wall if wall > 0 else 0.0,
                latency_p50_s=percentile([r.duration for r in good], 0.5),
                latency_p95_s=percentile([r.duration for r in good], 0.95),
                ttft_p50_s=percentile([r.ttft for r in good if r.ttft is not None], 0.5),
                errors=len(outcomes) - len(good),
            )
        )
    return BenchReport(client.base_url, model, max_tokens, sequential, sweep)


def format_reports(reports: Sequence[BenchReport]) -> str:
    """A plain-text table; with two reports, side by side."""

    def ms(value: float | None) -> str:
        return "–" if value is None else f"{value * 1000:.0f} ms"

    def rate(value: float | None) -> str:
        return "–" if value is None else f"{value:.1f} tok/s"

    header = ["", *[f"{r.endpoint} ({r.model})" for r in reports]]
    rows: list[list[str]] = [
        ["time to first token p50", *[ms(r.sequential.ttft_p50_s) for r in reports]],
        ["time to first token p95", *[ms(r.sequential.ttft_p95_s) for r in reports]],
        ["generation speed p50", *[rate(r.sequential.tokens_per_s_p50) for r in reports]],
        ["generation speed p95", *[rate(r.sequential.tokens_per_s_p95) for r in reports]],
        ["tokens per run", *[f"{r.sequential.tokens_per_run:.0f}" for r in reports]],
        ["failed runs", *[str(len(r.sequential.errors)) for r in reports]],
    ]
    for position, level in enumerate(reports[0].concurrency):
        cells = []
        for report in reports:
            c = report.concurrency[position] if position < len(report.concurrency) else None
            cells.append(
                "–"
                if c is None
                else f"{c.aggregate_tokens_per_s:.1f} tok/s, p50 {ms(c.latency_p50_s)}"
                + (f", {c.errors} failed" if c.errors else "")
            )
        rows.append([f"{level.streams} concurrent stream(s)", *cells])
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(header)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
    return "\n".join(lines)
