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
