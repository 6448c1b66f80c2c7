"""Tool calls in the history: an answer's exchange stored (calls in meta, results as ``tool`` messages),
exported (JSON in the API's shape, Markdown fenced), and re-sent in a later turn in the shape the API
expects — a crash mid-call answered, an orphan result left out."""

from __future__ import annotations

import json
from pathlib import Path

from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_export import ExportFormat, export_json, export_text
from trayai.core.chat.history_wire import MISSING_RESULT, TOOL_CALL_ID, stored_turns, wire_messages
from trayai.core.chat.tool_loop import CANCELLED_CONTENT
from trayai.core.net.wire import ChatMessage
from trayai.core.redact import Redactor
from trayai.core.tools.calls import ToolCall, assistant_message, tool_message

TOKYO = ToolCall(0, "call_1", "time__get_current_time", '{"timezone": "Asia/Tokyo"}')
UTC = ToolCall(1, "call_2", "time__get_current_time", '{"timezone": "UTC"}')
EXCHANGE: list[ChatMessage] = [
    assistant_message("Let me check.", [TOKYO, UTC]),
    tool_message(TOKYO, '{"datetime": "12:00"}'),
    tool_message(UTC, "```\n# not a heading\n```"),
]


def conversation(store: HistoryStore) -> int:
    conv = store.create_conversation()
    store.add_message(conv.id, "user", "What time is it?")
    store.add_tool_exchange(conv.id, EXCHANGE)
    store.add_message(conv.id, "assistant", "It is noon in Tokyo.")
    return conv.id


def test_the_exchange_is_stored_and_resent_as_sent(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        conv = conversation(store)
        stored = store.messages(conv)
        assert [m.role for m in stored] == ["user", "assistant", "tool", "tool", "assistant"]
        assert stored[2].meta == {TOOL_CALL_ID: "call_1", "tool_name": "time__get_current_time"}
        wire = wire_messages(stored)
    assert wire == [
        {"role": "user", "content": "What time is it?"},
        *EXCHANGE,
        {"role": "assistant", "content": "It is noon in Tokyo."},
    ]
    json.dumps(wire)


def test_a_call_without_a_stored_result_is_answered_and_an_orphan_dropped(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        conv = store.create_conversation()
        store.add_message(conv.id, "user", "q")
        store.add_tool_exchange(conv.id, EXCHANGE[:2])  # the app crashed during the second call
        store.add_message(conv.id, "tool", "stray", meta={TOOL_CALL_ID: "nobody"})
        store.add_message(conv.id, "user", "again?")
        wire = wire_messages(store.messages(conv.id))
    assert [m["role"] for m in wire] == ["user", "assistant", "tool", "tool", "user"]
    assert wire[3] == {"role": "tool", "tool_call_id": "call_2", "content": MISSING_RESULT}


def test_a_stopped_exchange_keeps_its_cancelled_answers() -> None:
    stopped = [assistant_message("", [TOKYO]), tool_message(TOKYO, CANCELLED_CONTENT)]
    turns = stored_turns(stopped)
    assert [(t.role, t.content) for t in turns] == [("assistant", ""), ("tool", CANCELLED_CONTENT)]


def test_exports_carry_the_calls_and_fence_the_results(tmp_path: Path) -> None:
    with HistoryStore(tmp_path / "history.sqlite3") as store:
        conv = conversation(store)
        data = export_json(store, conv)
        markdown = export_text(store, conv, ExportFormat.MARKDOWN)
    assistant, first, _second = data["messages"][1:4]
    assert assistant["tool_calls"] == EXCHANGE[0]["tool_calls"] and "meta" not in assistant
    assert first["tool_call_id"] == "call_1" and first["meta"] == {"tool_name": "time__get_current_time"}
    assert "## Tool result (time__get_current_time)" in markdown
    assert "_Called `time__get_current_time` with:_" in markdown
    assert "````\n```\n# not a heading\n```\n````" in markdown  # a longer fence: stays inert


def test_keys_in_arguments_and_results_are_redacted(tmp_path: Path) -> None:
    redactor = Redactor()
    redactor.add_secret("sk-live-0123456789abcdef")
    leaky = ToolCall(0, "c", "web__fetch", '{"token": "sk-live-0123456789abcdef"}')
    exchange = [assistant_message("", [leaky]), tool_message(leaky, "echo sk-live-0123456789abcdef")]
    with HistoryStore(tmp_path / "history.sqlite3", redactor=redactor) as store:
        conv = store.create_conversation()
        store.add_message(conv.id, "user", "q")
        store.add_tool_exchange(conv.id, exchange)
        text = json.dumps(wire_messages(store.messages(conv.id)))
    assert "sk-live-0123456789abcdef" not in text
