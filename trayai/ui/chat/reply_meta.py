"""What is saved with a chat answer besides its text (``AnswerRecord``): the timings, how it ended
(stopped, an error), the turns trimmed away, the fallback that answered and the server and model
that really did — the footer, the error box and the export read it back.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import cast

from trayai.core.chat.answer import Answer
from trayai.core.chat.history_records import MessageStatus
from trayai.core.chat.modelcheck import other_model
from trayai.core.errors import TrayaiError
from trayai.core.net.client import StreamResult
from trayai.core.net.wire import AnswerRecord


@dataclass(frozen=True)
class FallbackUsed:
    """A fallback profile answered instead of the chosen server: which, with which model, and why."""

    profile: str
    model: str
    why: str


def answer_meta(
    started: Mapping[str, object],
    status: MessageStatus,
    result: StreamResult | None,
    error: TrayaiError | None,
    *,
    dropped: int,
    fallback: FallbackUsed | None,
    answer: Answer | None,
    redact: Callable[[str], str],
) -> AnswerRecord:
    """The meta of an answer that ended: ``started`` (the placeholder's, ``{"model": …}``) with the
    result's figures, the way it ended and where it came from. ``redact`` cleans the fallback's reason
    (a server's words may quote the key)."""
    meta = cast(AnswerRecord, dict(started))
    if result is not None:
        meta.update(result.to_dict())
        meta.pop("error", None)
    if status == MessageStatus.STOPPED:
        meta["finish_reason"] = "stopped"
    if error is not None:
        meta["error"] = {"code": error.code.value, "message": error.message, "hint": error.hint}
    if dropped:
        meta["dropped"] = dropped
    if fallback is not None:
        meta.update(
            {
                "fallback_profile": fallback.profile,
                "fallback_reason": redact(fallback.why),
                "model": fallback.model,
            }
        )
    if answer is not None and answer.used is not None:  # its server; the profile only if its own
        meta.update({"endpoint": answer.used.client.base_url, "profile": answer.used.profile})
        sent, answered = answer.sent, result.model if result is not None else None
        if sent and answered and other_model(sent, answered) is not None:
            meta.update({"model": answered, "asked_model": sent})
    return meta


__all__ = ["FallbackUsed", "answer_meta"]
