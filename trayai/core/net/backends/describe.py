"""Model records in words, the same in the terminal and the tray: "loaded · 4.1 GB in memory (62%
GPU) · ctx 8192 of 131072 · unloads in 4 min". Memory is called memory only where it is real.
"""

from __future__ import annotations

import math

from trayai.core.net.backends.records import ModelRecord, PullProgress


def human_bytes(size: int | None) -> str:
    if size is None:
        return "?"
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1000:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"


def memory_text(record: ModelRecord) -> str | None:
    if record.memory_bytes:
        text = f"{human_bytes(record.memory_bytes)} in memory"
        if record.vram_bytes is not None:
            share = round(100 * record.vram_bytes / record.memory_bytes)
            text += " (CPU)" if share == 0 else f" ({share}% GPU)"
        return text
    if record.size_bytes:
        return f"{human_bytes(record.size_bytes)} file size"
    return None


def context_text(record: ModelRecord) -> str | None:
    if record.context_loaded and record.context_trained and record.context_trained != record.context_loaded:
        return f"ctx {record.context_loaded} of {record.context_trained}"
    if record.context_loaded:
        return f"ctx {record.context_loaded}"
    if record.context_trained:
        return f"trained ctx {record.context_trained}"
    return None


def expiry_text(record: ModelRecord, now: float) -> str | None:
    if record.detail == "stopping":
        return "stopping"
    if record.expires_at is None:
        return None
    if math.isinf(record.expires_at):
        return "kept loaded"
    left = record.expires_at - now
    if left < 60:
        return f"unloads in {max(0, int(left))} s"
    if left < 3600:
        return f"unloads in {int(left // 60)} min"
    return f"unloads in {left / 3600:.1f} h"


def record_facts(record: ModelRecord, now: float) -> list[str]:
    """The facts after the name, in the order a person scans them."""
    facts = [record.state.value + (" (cloud)" if record.remote else "")]
    for part in (memory_text(record), context_text(record), expiry_text(record, now)):
        if part:
            facts.append(part)
    if record.detail and record.detail != "stopping":
        facts.append(record.detail)
    return facts


def progress_text(step: PullProgress) -> str:
    """ "pulling 45% (1.2 GB of 2.7 GB)" or the phase alone when the server gives no sizes."""
    if step.done:
        return "done"
    fraction = step.fraction
    if fraction is None or step.total is None:
        return step.phase
    return f"{step.phase} {fraction * 100:.0f}% ({human_bytes(step.completed)} of {human_bytes(step.total)})"
