"""Message actions as real controls (issue 25): icon buttons with tooltips over the hovered card,
"✓ Copied" in place for a moment, a ‹ n/m › switcher whose arrows are at least 24 px wide, and keys
for it that desktops leave alone (Ctrl+Alt+←/→ switches workspaces in openbox and GNOME)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QPointF, Qt, QUrl
from PySide6.QtGui import QGuiApplication, QMouseEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QToolButton
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


def hover(view: TranscriptView, message_id: int) -> None:
    """The pointer moved onto a message's card (a real mouse-move event on the view's viewport)."""
    frame = view._frames[message_id]
    rect = view.document().documentLayout().frameBoundingRect(frame)
    at = QPointF(rect.left() + 30, rect.top() + 12 - view.verticalScrollBar().value())
    event = QMouseEvent(
        QEvent.Type.MouseMove,
        at,
        QPointF(view.viewport().mapToGlobal(at.toPoint())),
        Qt.MouseButton.NoButton,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(view.viewport(), event)


def _shown_buttons(view: TranscriptView) -> dict[str, QToolButton]:
    return {str(k): b for k, b in view.toolbar.buttons.items() if not b.isHidden()}


def test_actions_are_icon_buttons_with_tooltips_shown_on_hover(qtbot: QtBot) -> None:
    view = TranscriptView()
    qtbot.addWidget(view)
    view.resize(600, 400)
    view.show()
    question = StoredMessage(6, 1, 1, "user", "Capital?", MessageStatus.DONE, {})
    view.set_messages([question, _answer(versions=3, version=2)], has_earlier=False)
    assert view.toolbar.isHidden()  # nothing hovered: no buttons in the way
    hover(view, 7)
    assert view.toolbar.isVisible() and view.toolbar.message_id == 7
    buttons = _shown_buttons(view)
    assert set(buttons) == {"copy", "copythinking", "regenerate"}
    assert buttons["copy"].toolTip().startswith("Copy this message")
    assert "Ctrl+Shift+R" in buttons["regenerate"].toolTip()
    assert buttons["copythinking"].toolTip() == "Copy the thinking"
    for button in buttons.values():
        assert not button.icon().isNull() and button.width() >= 24 and button.height() >= 24
        assert button.accessibleName()
    card = view.document().documentLayout().frameBoundingRect(view._frames[7])
    toolbar = view.toolbar.geometry()
    assert card.top() <= toolbar.top() and toolbar.right() <= card.right()  # over its card's corner
    hover(view, 6)
    buttons = _shown_buttons(view)
    assert set(buttons) == {"copy", "edit"} and "Edit" in buttons["edit"].toolTip()
    QApplication.sendEvent(view.viewport(), QEvent(QEvent.Type.Leave))
    assert view.toolbar.isHidden()
    # The switcher stays in sight in the card, its arrows links with tooltips.
    tips = _tooltips(view)
    assert tips["\u00a0‹"] == "Previous answer (Alt+[)" and tips["›\u00a0"] == "Next answer (Alt+])"
    assert "‹ 2/3 ›" in view.toPlainText()
    assert "Copy" not in view.toPlainText() and "Regenerate" not in view.toPlainText()


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
    hover(view, outcome.message.id)
    copy = view.toolbar.buttons[TranscriptAction.COPY]
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "Paris." and copy.text() == "✓\u00a0Copied"
    assert copy.toolButtonStyle() is Qt.ToolButtonStyle.ToolButtonTextOnly  # the words, in place
    view.copied.timer.timeout.emit()
    assert copy.text() != "✓\u00a0Copied" and copy.toolButtonStyle() is Qt.ToolButtonStyle.ToolButtonIconOnly
    # A code block's Copy button (a link in the document) too.
    type_and_enter(qtbot, rig, "Print one?")
    coded = run(rig.wait_reply(2))
    assert "❐ Copy code" in rig.text()
    view.anchorClicked.emit(QUrl(view.action_href(TranscriptAction.COPY_CODE, coded.message.id, 0)))
    assert QGuiApplication.clipboard().text() == "print(1)\n" and "✓ Copied" in rig.text()
    assert "❐ Copy code" not in rig.text()
    view.copied.timer.timeout.emit()
    assert "❐ Copy code" in rig.text()
    hover(view, outcome.message.id)
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
    assert view.toolbar.copied_text() == "copy" and "Copied" not in rig.text()  # the button, not the text
    assert view.copied.timer.isActive() and view.copied.timer.interval() == 1500
    view.copied.timer.timeout.emit()
    assert view.toolbar.copied_text() is None and rig.text().count("❐ Copy") == 1  # only the code's link
    # Still a button: clicking it again copies again.
    QGuiApplication.clipboard().setText("")
    qtbot.mouseClick(copy, Qt.MouseButton.LeftButton)
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
