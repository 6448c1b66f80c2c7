"""Each message a clear card (issue 25): the theme's card colour and edge, the same padding and gap
everywhere, the user's turns in their own tint; and a wide code line scrolls nothing sideways."""

from __future__ import annotations

from PySide6.QtGui import QTextFrame, QTextFrameFormat
from pytestqt.qtbot import QtBot

from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.core.theme import LIGHT
from trayai.ui.chat.transcript import TranscriptView


def _cards(view: TranscriptView) -> list[QTextFrameFormat]:
    return [
        frame.frameFormat()
        for frame in view.document().rootFrame().childFrames()
        if isinstance(frame, QTextFrame) and frame.frameFormat().isFrameFormat()
    ]


def test_every_message_is_a_card_and_the_user_turns_stand_apart(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    question = StoredMessage(1, 1, 1, "user", "Capital?", MessageStatus.DONE, {})
    answer = StoredMessage(2, 1, 2, "assistant", "Paris.", MessageStatus.DONE, {"model": "qwen3"})
    view.set_messages([question, answer], has_earlier=False)
    view.begin_stream(StoredMessage(3, 1, 3, "assistant", "", MessageStatus.STREAMING, {"model": "qwen3"}))
    cards = _cards(view)
    assert len(cards) == 3
    assert [c.background().color().name() for c in cards] == [LIGHT.user_card, LIGHT.card, LIGHT.card]
    for card in cards:
        assert card.border() == 1 and card.borderBrush().color().name() == LIGHT.card_border
        assert card.borderStyle() == QTextFrameFormat.BorderStyle.BorderStyle_Solid
        assert (card.padding(), card.topMargin(), card.bottomMargin()) == (10, 6, 6)


def test_a_wide_code_line_wraps_instead_of_scrolling_the_transcript(qtbot: QtBot) -> None:
    """Slip 5 of the review: the line wraps in the view; Copy code still gives it whole."""
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    line = "print('" + "x" * 400 + "')"
    huge = "\n".join([line] * 40)  # past the highlighting limit: drawn as plain monospace
    for n, code in enumerate((line, huge), start=1):
        text = f"Here:\n\n```python\n{code}\n```\n"
        stored = StoredMessage(n, 1, n, "assistant", text, MessageStatus.DONE, {"model": "qwen3"})
        view.append_message(stored)  # as a reopened chat draws it
        view.begin_stream(StoredMessage(10 + n, 1, 10 + n, "assistant", "", MessageStatus.STREAMING, {}))
        view.add_delta(text[: len(text) // 2])
        view.flush()
        assert view.horizontalScrollBar().maximum() == 0  # an open fence, mid-stream
        view.add_delta(text[len(text) // 2 :])
        view.finish_stream(
            StoredMessage(10 + n, 1, 10 + n, "assistant", text, MessageStatus.DONE, {"model": "qwen3"})
        )
        qtbot.waitUntil(lambda: not view.streaming)
        assert view.horizontalScrollBar().maximum() == 0
        assert view.drawn.code_block(n, 0) == code + "\n" and view.drawn.code_block(10 + n, 0) == code + "\n"
