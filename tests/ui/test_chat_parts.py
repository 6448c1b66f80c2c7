"""The chat's small parts on their own: answer writes the disk refused kept and retried
(``answer_saves.py``), an answer's saved meta (``reply_meta.py``), what each drawn message is
(``transcript_drawn.py``) and the paging links at the transcript's edges (``transcript_edges.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QTextDocument
from pytestqt.qtbot import QtBot

from tests.support.smalldisk import small_disk
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.core.error_catalog import ErrorCode
from trayai.core.errors import make_error
from trayai.ui.chat.answer_saves import AnswerSaves
from trayai.ui.chat.reply_meta import FallbackUsed, answer_meta
from trayai.ui.chat.transcript import TranscriptView
from trayai.ui.chat.transcript_edges import EARLIER_TEXT, LATEST_TEXT, PageEdges
from trayai.ui.chat.transcript_links import ActionLinks


@pytest.mark.expect_log("trayai.ui.chat.answer_saves", "The disk holding the chat history")
def test_refused_writes_are_merged_kept_and_land_when_the_disk_allows(
    tmp_path: Path, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(AnswerSaves, "RETRY_MS", 50)
    with small_disk(tmp_path / "disk") as disk, HistoryStore(disk.path / "history.sqlite3") as history:
        conv = history.create_conversation("Long?", model="qwen3")
        answer = history.add_message(conv.id, "assistant", "", status=MessageStatus.STREAMING)
        saves = AnswerSaves(history)
        notices: list[str] = []
        saves.notice.connect(notices.append)
        disk.fill()
        saves.save(answer.id, {"content": "x" * 300_000})
        saves.save(answer.id, {"thinking": "y" * 300_000, "status": MessageStatus.DONE})  # merged, not queued
        assert saves.unsaved == 1 and len(notices) == 1  # said once, not at each refused write
        assert notices[0].startswith(f"The disk holding the chat history ({disk.path}) is full.")
        disk.free()
        qtbot.waitUntil(lambda: saves.unsaved == 0, timeout=10_000)  # the timer writes it, nobody acts
        stored = history.message(answer.id)
        assert (len(stored.content), len(stored.thinking), stored.status) == (300_000, 300_000, "done")
        assert notices[1:] == [""]  # and says so once
        saves.save(answer.id + 100, {"content": "gone"})  # deleted meanwhile: nothing to keep
        assert saves.unsaved == 0 and notices[1:] == [""]


def test_an_answers_meta_says_how_it_ended_and_who_answered() -> None:
    error = make_error(ErrorCode.SERVER_ERROR, "The server failed.", "Try again.")
    meta = answer_meta(
        {"model": "qwen3"},
        MessageStatus.ERROR,
        None,
        error,
        dropped=3,
        fallback=FallbackUsed("backup", "llama3", "qwen3 refused key sk-secret"),
        answer=None,
        redact=lambda text: text.replace("sk-secret", "[redacted]"),
    )
    assert meta == {
        "model": "llama3",  # the fallback's model answered
        "error": {"code": error.code.value, "message": "The server failed.", "hint": "Try again."},
        "dropped": 3,
        "fallback_profile": "backup",
        "fallback_reason": "qwen3 refused key [redacted]",
    }
    stopped = answer_meta(
        {"model": "qwen3"},
        MessageStatus.STOPPED,
        None,
        None,
        dropped=0,
        fallback=None,
        answer=None,
        redact=str,
    )
    assert stopped == {"model": "qwen3", "finish_reason": "stopped"}


def test_a_streamed_answer_has_no_actions_until_it_ended_and_its_code_is_copied(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    question = StoredMessage(1, 1, 1, "user", "Code?", MessageStatus.DONE, {})
    first = StoredMessage(2, 1, 2, "assistant", "```\none\n```\n", MessageStatus.DONE, {"model": "m"})
    view.set_messages([question, first], has_earlier=False)
    assert view.drawn.ids == [1, 2] and view.drawn.code_block(2, 0) == "one\n"
    live = StoredMessage(3, 1, 3, "assistant", "", MessageStatus.STREAMING, {"model": "m"})
    view.begin_stream(live)
    view.add_delta("```\ntwo\n```\n")
    view.flush()
    assert view.drawn.frame(3) is not None and view.drawn.message(3) is None  # nothing to act on yet
    assert not view.toolbar.show_for(3)
    assert view.message_text(3) == "```\ntwo\n```\n"  # the text so far, from the stream
    view.finish_stream(
        StoredMessage(3, 1, 3, "assistant", "```\ntwo\n```\n", MessageStatus.DONE, {"model": "m"})
    )
    qtbot.waitUntil(lambda: not view.streaming)
    assert view.drawn.message(3) is not None and view.toolbar.show_for(3)
    assert view.drawn.last_code_block() == "two\n" and view.drawn.code_block(3, 1) is None
    view.clear_messages()
    assert view.drawn.ids == [] and view.drawn.last_code_block() is None and view.message_text(2) is None


def test_the_paging_links_are_added_once_and_removed() -> None:
    document = QTextDocument()
    document.setPlainText("A message.")
    edges = PageEdges(lambda: document, ActionLinks())
    edges.set_earlier(show=True)
    edges.set_earlier(show=True)
    assert document.toPlainText().count(EARLIER_TEXT) == 1 and edges.has_earlier
    edges.append_latest()
    assert document.toPlainText().endswith(LATEST_TEXT)
    edges.set_earlier(show=False)
    text = document.toPlainText()
    assert text.startswith("A message.") and text.endswith(LATEST_TEXT) and EARLIER_TEXT not in text
    assert not edges.has_earlier
