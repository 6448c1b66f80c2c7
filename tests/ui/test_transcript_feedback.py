"""Feedback at every wait (issue 25): the answer's placeholder counts the seconds until the first
word — "Loading … into memory" only when the server's model list says so — and thinking shows a live
timer, then "Thought for N s". The clock is the view's own, set by the test (no sleeps)."""

from __future__ import annotations

import re

from PySide6.QtGui import QTextTable
from pytestqt.qtbot import QtBot

from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.core.net.backends.records import ModelRecord, ModelState
from trayai.core.theme import LIGHT
from trayai.ui.chat.transcript import TranscriptView


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _view(qtbot: QtBot) -> tuple[TranscriptView, Clock]:
    view = TranscriptView()
    qtbot.addWidget(view)
    clock = Clock()
    view.clock = clock
    return view, clock


def _placeholder() -> StoredMessage:
    return StoredMessage(7, 1, 2, "assistant", "", MessageStatus.STREAMING, {"model": "qwen3"})


def test_the_wait_counts_seconds_until_the_first_word(qtbot: QtBot) -> None:
    view, clock = _view(qtbot)
    view.begin_stream(_placeholder())
    assert "Waiting for qwen3… 0 s" in view.toPlainText()
    assert view.wait_line.timer.isActive() and view.wait_line.timer.interval() == 1000
    clock.now += 4.2
    view.wait_line.timer.timeout.emit()
    assert "Waiting for qwen3… 4 s" in view.toPlainText()
    assert "0 s" not in view.toPlainText()
    view.add_delta("Hello")
    view.flush()
    assert not view.wait_line.timer.isActive()  # the first token stops it
    assert "Waiting" not in view.toPlainText() and "Hello" in view.toPlainText()


def test_loading_is_said_only_where_the_server_says_so(qtbot: QtBot) -> None:
    view, clock = _view(qtbot)
    loading = [ModelRecord("qwen3", ModelState.LOADING)]
    view.wait_line.set_model_records(lambda: loading)
    view.begin_stream(_placeholder())
    clock.now += 12
    view.wait_line.timer.timeout.emit()
    assert "Loading qwen3 into memory… 12 s" in view.toPlainText()
    loading = [ModelRecord("qwen3", ModelState.LOADED)]
    clock.now += 1
    view.wait_line.timer.timeout.emit()
    assert "Waiting for qwen3… 13 s" in view.toPlainText()


def test_a_failure_or_stop_ends_the_wait_line(qtbot: QtBot) -> None:
    view, _clock = _view(qtbot)
    placeholder = _placeholder()
    view.begin_stream(placeholder)
    failed = StoredMessage(
        7, 1, 2, "assistant", "", MessageStatus.ERROR, {"model": "qwen3", "error": {"message": "Down"}}
    )
    view.finish_stream(failed)
    assert not view.wait_line.timer.isActive()
    assert "Waiting" not in view.toPlainText() and "Down" in view.toPlainText()


def test_thinking_has_a_live_timer_then_says_how_long(qtbot: QtBot) -> None:
    view, clock = _view(qtbot)
    view.begin_stream(_placeholder())
    clock.now += 2
    view.add_thinking("Paris is the capital.")
    view.flush()
    text = view.toPlainText()
    assert "Thinking… 0 s" in text and "Waiting" not in text and "Paris is the capital." in text
    clock.now += 3.4
    view.wait_line.timer.timeout.emit()
    assert "Thinking… 3 s" in view.toPlainText()
    clock.now += 1
    view.add_delta("Paris.")
    view.flush()
    assert not view.wait_line.timer.isActive()
    assert "Thought for 4.4 s" in view.toPlainText()


def _tables(view: TranscriptView) -> list[tuple[str, str]]:
    """(background, text) of each table in the document (the thinking box is one)."""
    found = []
    for frame in view.document().rootFrame().childFrames():
        for child in frame.childFrames():
            if isinstance(child, QTextTable):
                cell = child.cellAt(0, 0)
                text = view.document().toPlainText()[cell.firstPosition() : cell.lastPosition()]
                found.append((child.format().background().color().name(), text))
    return found


def test_expanded_thinking_sits_in_its_own_tinted_box(qtbot: QtBot) -> None:
    view, _clock = _view(qtbot)
    thought = "First, the map.\nThen the river."
    answer = StoredMessage(
        7,
        1,
        2,
        "assistant",
        "Paris.",
        MessageStatus.DONE,
        {"model": "qwen3", "thinking_s": 12.4},
        thinking=thought,
    )
    view.set_messages([answer], has_earlier=False)
    assert "Thought for 12 s" in view.toPlainText() and "the river" not in view.toPlainText()
    for _ in range(2):  # open and shut twice: the answer below is never touched
        view.toggle_thinking(7)
        boxes = _tables(view)
        assert [bg for bg, _text in boxes] == [LIGHT.thinking_background]
        assert "Then the river." in boxes[0][1] and "Paris." not in boxes[0][1]
        assert "Then the river.\n\nParis." in view.toPlainText()  # the answer after the box, apart
        expanded = view.document().toHtml()
        view.toggle_thinking(7)
        assert _tables(view) == [] and "Paris." in view.toPlainText()
    view.toggle_thinking(7)
    view.set_messages([answer], has_earlier=False)  # drawn again with its thinking still open

    def same(h: str) -> str:
        return re.sub(r"trayai:[^\"']*", "trayai:…", h)

    assert same(view.document().toHtml()) == same(expanded)
