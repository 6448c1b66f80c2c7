"""Prompt-reading progress in the answer's placeholder (issue 25, "Feedback at every wait"): "Reading
the prompt… 45 % (1,840 / 4,096 tokens)" over the style's own progress bar, from a llama.cpp-shaped
server's ``prompt_progress`` chunks through the controller to the chat window — until the first word.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtGui import QColor, QImage, QTextDocument
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.test_chat_window import Rig, type_and_enter
from tests.ui.test_transcript_feedback import _placeholder, _view
from trayai.core.chat.history import HistoryStore
from trayai.core.net.prompt_progress import PromptProgress
from trayai.ui.chat.progress_bar import BAR_HEIGHT, BAR_WIDTH, bar_image


def _bar_images(document: QTextDocument) -> list[str]:
    html = document.toHtml()
    return [part.split('"', 1)[0] for part in html.split('src="trayai-bar:')[1:]]


def _filled_share(image: QImage) -> float:
    """The share of the bar's middle row painted in the highlight colour (the bar's chunk)."""
    highlight = QApplication.palette().highlight().color()
    row = image.height() // 2
    near = 0
    for x in range(image.width()):
        pixel = QColor(image.pixel(x, row))
        if (
            abs(pixel.red() - highlight.red()) + abs(pixel.green() - highlight.green())
            < 90 + abs(pixel.blue() - highlight.blue()) // 4
            and pixel.alpha() > 0
        ):
            near += 1
    return near / image.width()


def test_the_bar_is_the_styles_progress_bar_filled_to_the_fraction() -> None:
    empty, half, full = (_filled_share(bar_image(f, 1.0)) for f in (0.0, 0.5, 1.0))
    assert empty < 0.05 and 0.4 < half < 0.6 and full > 0.9
    sharp = bar_image(0.5, 2.0)
    assert (sharp.width(), sharp.height()) == (2 * BAR_WIDTH, 2 * BAR_HEIGHT)  # crisp at 2×
    assert sharp.devicePixelRatio() == 2.0


def test_the_wait_line_says_how_far_the_prompt_was_read(qtbot: QtBot) -> None:
    view, clock = _view(qtbot)
    view.begin_stream(_placeholder())
    assert not _bar_images(view.document())  # no figure from the server: no bar, no claim
    clock.now += 3.2
    view.show_prompt_progress(PromptProgress(4096, 1840))
    assert "Reading the prompt… 45 % (1,840 / 4,096 tokens) · 3 s" in view.toPlainText()
    assert "Waiting" not in view.toPlainText()
    assert len(_bar_images(view.document())) == 1
    clock.now += 2
    view.tick_timer.timeout.emit()  # the seconds move on; the figure stays the server's last one
    assert "Reading the prompt… 45 % (1,840 / 4,096 tokens) · 5 s" in view.toPlainText()
    view.show_prompt_progress(PromptProgress(4096, 4096))
    assert "100 % (4,096 / 4,096 tokens)" in view.toPlainText()
    view.add_delta("Hello")
    view.flush()
    assert "Reading" not in view.toPlainText() and "Hello" in view.toPlainText()
    assert not _bar_images(view.document())  # the bar went with the wait line
    view.show_prompt_progress(PromptProgress(4096, 10))  # late: the answer has started
    assert "Reading" not in view.toPlainText()


def test_the_chat_shows_a_llama_servers_progress_until_the_first_word(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.owned_by = "llamacpp"  # llama.cpp's /models: the switch sends return_progress
    server.models = ["ai/smollm2"]
    held = threading.Event()
    server.script(Reply(text="Read it.", progress_steps=[0, 1840], progress_total=4096, progress_hold=held))
    rig = Rig(history, server.base_url, qtbot)
    type_and_enter(qtbot, rig, "a long question")
    run(until(lambda: "Reading the prompt… 45 %" in rig.text(), 10, "the progress line"))
    assert "(1,840 / 4,096 tokens)" in rig.text()
    assert _bar_images(rig.window.transcript.document())
    assert (server.chat_requests()[-1].body or {}).get("return_progress") is True
    held.set()
    outcome = run(rig.wait_reply(1))
    assert outcome.message.content == "Read it."
    assert "Reading the prompt" not in rig.text() and "Read it." in rig.text()
