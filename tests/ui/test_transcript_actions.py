"""Message actions as real controls (issue 25): glyph buttons with tooltips, "✓ Copied" in place for
a moment, a ‹ n/m › switcher whose arrows are at least 24 px wide, and keys for it that desktops
leave alone (Ctrl+Alt+←/→ switches workspaces in openbox and GNOME)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QGuiApplication, QTextCursor
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.test_chat_window import Rig, rig, type_and_enter  # noqa: F401 - rig: a fixture
from trayai.core.chat.history_records import MessageStatus, StoredMessage
from trayai.ui.chat.transcript import TranscriptView
from trayai.ui.chat.transcript_links import TranscriptAction


def _answer(**extra: Any) -> StoredMessage:
    return StoredMessage(
        7, 1, 2, "assistant", "Paris.", MessageStatus.DONE, {"model": "qwen3"}, thinking="Hmm.", **extra
    )


def _tooltips(view: TranscriptView) -> dict[str, str]:
    """Link text → tooltip of every link in the document."""
    found: dict[str, str] = {}
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fmt = it.fragment().charFormat()
            if fmt.isAnchor():
                found[it.fragment().text()] = fmt.toolTip()
            it += 1
        block = block.next()
    return found


def test_actions_are_glyph_buttons_with_tooltips(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    question = StoredMessage(6, 1, 1, "user", "Capital?", MessageStatus.DONE, {})
    view.set_messages([question, _answer(versions=3, version=2)], has_earlier=False)
    tips = _tooltips(view)
    assert tips["❐\u00a0Copy"] == "Copy this message"
    assert "Edit" in tips["✎\u00a0Edit"]
    assert "Ctrl+Shift+R" in tips["↻\u00a0Regenerate"]
    assert tips["❐\u00a0Copy thinking"] == "Copy the thinking"
    assert tips["\u00a0‹"] == "Previous answer (Alt+[)" and tips["›\u00a0"] == "Next answer (Alt+])"
    assert "‹ 2/3 ›" in view.toPlainText()


def test_each_arrow_of_the_switcher_is_at_least_24_px_wide(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    view.set_messages([_answer(versions=3, version=2)], has_earlier=False)  # both arrows are links
    text = view.document().toPlainText()
    for glyph in ("‹", "›"):
        at = text.index(glyph)
        start, end = QTextCursor(view.document()), QTextCursor(view.document())
        at = at - 1 if glyph == "‹" else at  # each arrow's link: a no-break space and the glyph
        start.setPosition(at)
        end.setPosition(at + 2)
        width = view.cursorRect(end).left() - view.cursorRect(start).left()
        assert width >= 24, (glyph, width)


def test_copy_says_copied_in_place_for_a_moment(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
) -> None:
    server.script(Reply(text="Paris."), Reply(text="Like this:\n\n```python\nprint(1)\n```\n"))
    type_and_enter(qtbot, rig, "Capital of France?")
    outcome = run(rig.wait_reply(1))
    view = rig.window.transcript
    view.anchorClicked.emit(QUrl(view.action_href(TranscriptAction.COPY, outcome.message.id)))
    assert QGuiApplication.clipboard().text() == "Paris." and "✓ Copied" in rig.text()
    view.copied.timer.timeout.emit()
    # A code block's Copy button too.
    type_and_enter(qtbot, rig, "Print one?")
    coded = run(rig.wait_reply(2))
    assert "❐ Copy code" in rig.text()
    view.anchorClicked.emit(QUrl(view.action_href(TranscriptAction.COPY_CODE, coded.message.id, 0)))
    assert QGuiApplication.clipboard().text() == "print(1)\n" and "✓ Copied" in rig.text()
    assert "❐ Copy code" not in rig.text()
    view.copied.timer.timeout.emit()
    assert "❐ Copy code" in rig.text()
    view.anchorClicked.emit(QUrl(view.action_href(TranscriptAction.COPY, outcome.message.id)))
    assert rig.text().count("✓ Copied") == 1  # plain text: no-break spaces as spaces
    assert view.copied.timer.isActive() and view.copied.timer.interval() == 1500
    view.copied.timer.timeout.emit()
    assert "Copied" not in rig.text() and rig.text().count("❐ Copy") == 5  # 2 questions, 2 answers, the code
    # Still a button: clicking it again copies again.
    QGuiApplication.clipboard().setText("")
    view.anchorClicked.emit(QUrl(view.action_href(TranscriptAction.COPY, outcome.message.id)))
    assert QGuiApplication.clipboard().text() == "Paris."


def test_alt_brackets_switch_the_alternatives(
    rig: Rig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    qtbot: QtBot,
    run: Callable[..., Any],
) -> None:
    server.script(Reply(text="Tom"), Reply(text="Felix"))
    type_and_enter(qtbot, rig, "A name for a cat?")
    run(rig.wait_reply(1))
    assert rig.window.controller.regenerate()
    run(rig.wait_reply(2))
    run(until(lambda: "‹ 2/2 ›" in rig.text(), 10, "two answers"))
    qtbot.keyClick(rig.window, Qt.Key.Key_BracketLeft, Qt.KeyboardModifier.AltModifier)
    run(until(lambda: "‹ 1/2 ›" in rig.text() and "Tom" in rig.text(), 10, "the first answer again"))
    qtbot.keyClick(rig.window, Qt.Key.Key_BracketRight, Qt.KeyboardModifier.AltModifier)
    run(until(lambda: "‹ 2/2 ›" in rig.text() and "Felix" in rig.text(), 10, "the second answer again"))
