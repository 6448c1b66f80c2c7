"""One record of a finished answer (core's ``AnswerRecord``): the JSON ``--json`` and ``batch`` have
always printed, and the meta the chat has always stored — a history database written before the two
were one record still opens, and its answers read and show as they did."""

from __future__ import annotations

import json
from pathlib import Path

from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import MessageStatus
from trayai.core.chat.render import reply_footer
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import ErrorRecord, TrayaiError
from trayai.core.net.wire import AnswerRecord, StreamResult, Usage

RECORD_KEYS = AnswerRecord.__required_keys__ | AnswerRecord.__optional_keys__

# What StreamResult.to_dict() printed before (the old ResultDict), key for key and in order.
FIGURES = [
    "model",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "usage_estimated",
    "ttft_s",
    "duration_s",
    "tokens_per_second",
    "thinking_s",
    "error",
]

# Answers' meta as the chat stored it before (the old AnswerMeta, written by the controller).
OLD_ANSWER = {
    "model": "qwen3:4b",
    "finish_reason": "stop",
    "prompt_tokens": 21,
    "completion_tokens": 128,
    "usage_estimated": False,
    "ttft_s": 0.2345,
    "duration_s": 3.1,
    "tokens_per_second": 41.29,
    "thinking_s": None,
    "dropped": 2,
    "fallback_profile": "Laptop",
    "fallback_reason": "the server was not running",
    "endpoint": "http://localhost:11434/v1",
    "profile": "Laptop",
    "asked_model": "qwen3",
}
OLD_ERROR = {"code": "stalled", "message": "The answer stalled for 30 s.", "hint": "Try again."}
OLD_FAILED = {
    "model": "qwen3:4b",
    "finish_reason": "error",
    "prompt_tokens": None,
    "completion_tokens": 3,
    "usage_estimated": True,
    "ttft_s": 0.5,
    "duration_s": 30.5,
    "tokens_per_second": None,
    "thinking_s": None,
    "error": OLD_ERROR,
}


def result(error: TrayaiError | None = None) -> StreamResult:
    return StreamResult(
        text="Hi",
        model="qwen3:4b",
        finish_reason="error" if error else "stop",
        usage=Usage(prompt_tokens=None, completion_tokens=3, estimated=True),
        ttft=0.123456,
        duration=1.0000049,
        tokens_per_second=2.996,
        error=error,
    )


def test_the_json_of_an_answer_is_the_shape_it_always_was() -> None:
    fine = result().to_dict()
    assert list(fine) == FIGURES
    assert fine["ttft_s"] == 0.1235 and fine["duration_s"] == 1.0 and fine["tokens_per_second"] == 3.0
    assert fine["error"] is None and set(fine) <= RECORD_KEYS
    failed = result(TrayaiError(ErrorCode.STALLED, "It stalled.", "Try again.", status=200)).to_dict()
    error = failed["error"]
    assert error is not None
    assert list(error) == ["code", "message", "hint", "detail", "status", "suggestions"]
    assert (error["code"], error["status"], error["suggestions"]) == ("stalled", 200, [])
    assert json.loads(json.dumps(failed)) == failed  # plain JSON, nothing else


def test_every_key_the_chat_stored_is_a_key_of_the_record() -> None:
    assert set(OLD_ANSWER) | set(OLD_FAILED) <= RECORD_KEYS
    assert set(OLD_ERROR) == ErrorRecord.__required_keys__  # the chat keeps the words only


def test_a_history_database_written_with_the_old_shape_reads_and_shows_as_before(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    with HistoryStore(path) as store:
        conversation = store.create_conversation()
        store.add_message(conversation.id, "user", "Hello?")
        store.add_message(conversation.id, "assistant", "Hi!", status=MessageStatus.DONE, meta=OLD_ANSWER)
        store.add_message(conversation.id, "assistant", "Hm", status=MessageStatus.ERROR, meta=OLD_FAILED)

    with HistoryStore(path) as reopened:
        _, answer, failed = reopened.messages(conversation.id)
    assert answer.meta == OLD_ANSWER and failed.meta == OLD_FAILED  # nothing lost, nothing renamed
    assert reply_footer(answer.meta, answer.status) == (
        "qwen3:4b (answered instead of qwen3) · 128 tokens · 41.3 tok/s · first token 0.23 s"
        " · via fallback Laptop (the server was not running) · 2 earlier messages not sent (context window)"
    )
    assert reply_footer(failed.meta, failed.status).endswith("· failed")
    assert failed.meta["error"]["message"] == "The answer stalled for 30 s."  # the error box's words
