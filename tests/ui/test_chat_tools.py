"""Tools in the chat window, end to end: the scripted model (tests/support/scripted_server.py) asks
for ``get_current_time``, the card appears and waits, the test answers in the approval bar like a
person (a click on a button, or Tab and Enter), the real ``mcp-server-time`` answers through a real ToolHub, the
final answer streams — and the chat, reopened, shows the same cards and answer. Also Deny (the model
is told), Always (no more questions in the answer, remembered), Stop while a card waits, and a model
its server says cannot call tools (no ``tools`` sent, the switch off)."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QTextCursor
from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedCall, ScriptedServer, tool_reply
from tests.support.waiting import until
from tests.ui.conftest import client_for
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_records import MessageStatus
from trayai.core.chat.tool_loop import ToolSource
from trayai.core.tools.config import ServerConfig, StdioLaunch, ToolsConfig
from trayai.core.tools.hub import HubTool, ToolHub
from trayai.core.tools.policy import Approval, refusal_content
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.chat.transcript import TranscriptView
from trayai.ui.chat.transcript_links import TranscriptAction
from trayai.ui.chat.window import ChatWindow

BIN = Path(sys.executable).parent
TOKYO = ScriptedCall("time__get_current_time", '{"timezone": "Asia/Tokyo"}', id="call_tokyo")
LONDON = ScriptedCall("time__get_current_time", '{"timezone": "Europe/London"}', id="call_london")


class HubAccess:
    """The app's ToolsKeeper in small: a real hub, and "Always" recorded."""

    def __init__(self, hub: ToolHub) -> None:
        self.hub = hub
        self.remembered: list[HubTool] = []

    def current_hub(self) -> ToolSource | None:
        return self.hub if self.hub.tools() else None

    def remember(self, tool: HubTool) -> None:
        self.remembered.append(tool)


@pytest.fixture
def access(run: Callable[..., Any]) -> Iterator[HubAccess]:
    launch = StdioLaunch(str(BIN / "mcp-server-time"), ("--local-timezone", "UTC"))
    hub = ToolHub()
    hub.apply(ToolsConfig({"time": ServerConfig("time", stdio=launch)}))
    assert run(hub.settled(30)) and hub.tools(), hub.statuses()
    yield HubAccess(hub)
    run(hub.close())


class ToolRig:
    def __init__(
        self, history: HistoryStore, server: ScriptedServer, access: HubAccess, qtbot: QtBot
    ) -> None:
        self.client = client_for(server.base_url)
        self.controller = ChatController(history, self.target, tools=access)
        self.window = ChatWindow(self.controller, history)
        qtbot.addWidget(self.window)
        self.window.show()
        self.outcomes: list[Any] = []
        self.controller.finished.connect(self.outcomes.append)
        self.controller.failed.connect(self.outcomes.append)
        self.qtbot = qtbot

    def target(self) -> ChatTarget:
        return ChatTarget(client=self.client, model="ai/smollm2", profile="default")

    def ask(self, text: str) -> None:
        self.window.prompt.setFocus()
        self.qtbot.keyClicks(self.window.prompt, text)
        self.qtbot.keyClick(self.window.prompt, Qt.Key.Key_Return)

    async def card_waits(self) -> int:
        await until(lambda: bool(self.controller.tools.waiting), 20, "a card waiting for the person")
        return self.controller.tools.waiting[0]

    async def reply(self, count: int = 1) -> Any:
        await until(lambda: len(self.outcomes) >= count, 30, "the answer")
        await until(lambda: not self.window.transcript.streaming, 10, "the answer painted")
        return self.outcomes[count - 1]

    def click(self, kind: TranscriptAction) -> None:
        """Click a link of the transcript like a person (a card's "Show result")."""
        view = self.window.transcript
        self.qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=link_point(view, kind))

    def answer(self, approval: Approval) -> None:
        """Press the approval bar's button for ``approval``, as a person clicks it."""
        button = self.window.tool_approval.buttons[approval]
        assert button.isVisible(), "the approval bar is not showing"
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def text(self) -> str:
        return self.window.transcript.toPlainText()


def link_point(view: TranscriptView, kind: TranscriptAction) -> QPoint:
    """The middle of the last link of ``kind`` in the view (viewport coordinates), scrolled into sight."""
    found: int | None = None
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            fragment = it.fragment()
            if f"/{kind}/" in fragment.charFormat().anchorHref():
                found = fragment.position() + fragment.length() // 2
            it += 1
        block = block.next()
    assert found is not None, f"no {kind} link in the transcript"
    cursor = QTextCursor(view.document())
    cursor.setPosition(found)
    view.setTextCursor(cursor)
    view.ensureCursorVisible()
    return view.cursorRect(cursor).center()


@pytest.fixture
def rig(history: HistoryStore, server: ScriptedServer, access: HubAccess, qtbot: QtBot) -> ToolRig:
    return ToolRig(history, server, access, qtbot)


def _normalised(html: str) -> str:
    return re.sub(r"trayai:[^\"']*", "trayai:…", html)


def _last_tool_message(server: ScriptedServer, request: int) -> dict[str, Any]:
    messages = server.chat_requests()[request].json["messages"]
    message = messages[-1]
    assert isinstance(message, dict) and message["role"] == "tool"
    return message


def test_allow_runs_the_real_time_server_and_reopens_the_same(
    rig: ToolRig, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.script(tool_reply(TOKYO, text="Let me look."), Reply(text="It is evening in **Tokyo**."))
    rig.ask("What time is it in Tokyo?")
    run(rig.card_waits())
    shown = rig.text()
    assert "⚒ time/get_current_time" in shown and '"timezone": "Asia/Tokyo"' in shown
    assert "Waiting for you" in shown
    bar = rig.window.tool_approval
    assert bar.isVisible() and bar.title.text() == "Run time · get_current_time?"
    assert "Asia/Tokyo" in bar.detail.text()
    assert [b.text().replace("&", "") for b in bar.buttons.values()] == [
        "Allow once",
        "Always for this tool",
        "Deny",
    ]
    assert all(b.toolTip() and not b.icon().isNull() for b in bar.buttons.values())
    assert bar.buttons[Approval.ONCE].hasFocus()  # the keyboard starts on Allow once
    rig.answer(Approval.ONCE)
    outcome = run(rig.reply())
    assert outcome.status == MessageStatus.DONE and outcome.message.content == "It is evening in **Tokyo**."
    result = json.loads(_last_tool_message(server, 1)["content"])
    assert result["timezone"] == "Asia/Tokyo" and str(result["datetime"]).endswith("+09:00")
    assert {t["function"]["name"] for t in server.chat_requests()[0].json["tools"]} == {
        "time__get_current_time",
        "time__convert_time",
    }
    text = rig.text()
    assert "Let me look." in text and "✓ Done in" in text and "Show result (" in text
    assert "It is evening in Tokyo." in text and "Waiting for you" not in text
    assert not rig.window.tool_approval.isVisible()
    assert rig.window.prompt.hasFocus()

    # the history holds the exchange the API expects, in order
    cid = rig.controller.conversation_id
    assert cid is not None
    roles = [m.role for m in rig.controller.history.messages(cid)]
    assert roles == ["user", "assistant", "tool", "assistant"]

    document = rig.window.transcript.document()
    finished_md, finished_html = document.toMarkdown(), _normalised(document.toHtml())
    rig.window.close()
    rig.window.new_conversation()
    rig.window.show()
    rig.window.open_conversation(cid)
    reopened = rig.window.transcript.document()
    assert reopened.toMarkdown() == finished_md
    assert _normalised(reopened.toHtml()) == finished_html

    # the result folds open under the card, as plain text
    rig.click(TranscriptAction.TOOL_RESULT)
    assert "Asia/Tokyo" in rig.text().split("Hide result")[1]


def test_a_question_typed_meanwhile_keeps_the_keyboard_and_space_never_approves(
    rig: ToolRig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    """Someone already typing their next question when a call starts waiting keeps typing: the bar
    does not take the keyboard, so a space is a space; Alt+A answers it from the prompt box."""
    server.script(tool_reply(TOKYO), Reply(text="Evening."))
    rig.ask("Time in Tokyo?")
    prompt = rig.window.prompt
    qtbot.keyClicks(prompt, "and then")  # before the model asked: the loop has not run yet
    run(rig.card_waits())
    assert rig.window.tool_approval.isVisible() and prompt.hasFocus()
    qtbot.keyClick(prompt, Qt.Key.Key_Space)
    assert prompt.toPlainText() == "and then " and rig.controller.tools.waiting  # nothing approved
    with qtbot.waitSignal(rig.window.tool_approval.decided, timeout=5000):
        qtbot.keyClick(rig.window, Qt.Key.Key_A, Qt.KeyboardModifier.AltModifier)
    assert run(rig.reply()).message.content == "Evening."
    assert prompt.toPlainText() == "and then "  # the question being typed is untouched


def test_deny_from_the_keyboard_tells_the_model(
    rig: ToolRig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.script(tool_reply(TOKYO), Reply(text="I could not look it up."))
    rig.ask("Time in Tokyo?")
    run(rig.card_waits())
    buttons = rig.window.tool_approval.buttons
    assert buttons[Approval.ONCE].hasFocus()
    qtbot.keyClick(buttons[Approval.ONCE], Qt.Key.Key_Tab)  # Allow once → Always for this tool
    assert buttons[Approval.ALWAYS].hasFocus()
    qtbot.keyClick(buttons[Approval.ALWAYS], Qt.Key.Key_Tab)  # → Deny
    assert buttons[Approval.DENY].hasFocus()
    qtbot.keyClick(buttons[Approval.DENY], Qt.Key.Key_Return)
    run(rig.reply())
    told = _last_tool_message(server, 1)
    assert told["tool_call_id"] == "call_tokyo"
    assert told["content"] == refusal_content("time__get_current_time", by_person=True)
    assert "✕ Denied — the model was told you said no" in rig.text()


def test_always_stops_asking_and_is_remembered(
    rig: ToolRig, server: ScriptedServer, access: HubAccess, run: Callable[..., Any]
) -> None:
    server.script(tool_reply(TOKYO), tool_reply(LONDON), Reply(text="Both looked up."))
    rig.ask("Tokyo and London?")
    run(rig.card_waits())
    rig.answer(Approval.ALWAYS)
    outcome = run(rig.reply())
    assert outcome.message.content == "Both looked up."
    assert [(t.info.server, t.info.name) for t in access.remembered] == [("time", "get_current_time")]
    assert json.loads(_last_tool_message(server, 2)["content"])["timezone"] == "Europe/London"
    assert rig.text().count("✓ Done in") == 2 and not rig.window.tool_approval.isVisible()


def test_stop_while_a_card_waits_cancels_it(
    rig: ToolRig, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    server.script(tool_reply(TOKYO))
    rig.ask("Time?")
    run(rig.card_waits())
    qtbot.mouseClick(rig.window.stop_button, Qt.MouseButton.LeftButton)
    outcome = run(rig.reply())
    assert outcome.status == MessageStatus.STOPPED
    assert "■ Cancelled" in rig.text() and not rig.window.tool_approval.isVisible()
    assert rig.window.prompt.hasFocus()
    assert len(server.chat_requests()) == 1  # nothing more was asked of the model
    cid = rig.controller.conversation_id
    assert cid is not None
    stored = rig.controller.history.messages(cid)
    assert [m.role for m in stored] == ["user", "assistant", "tool", "assistant"]
    assert stored[2].content.startswith("The call was cancelled")


def test_a_model_that_cannot_call_tools_gets_none(
    rig: ToolRig, server: ScriptedServer, run: Callable[..., Any]
) -> None:
    server.props = {"chat_template_caps": {"supports_tools": False}}
    server.script(Reply(text="No tools here."))
    switch = rig.window.options_bar.tools_button
    assert switch.isVisibleTo(rig.window) and switch.isChecked()  # not asked yet: on
    rig.ask("Time?")
    run(rig.reply())
    assert "tools" not in server.chat_requests()[0].json
    assert not switch.isEnabled() and not switch.isChecked()
    assert "cannot call tools" in switch.toolTip()


def test_the_switch_off_sends_no_tools(rig: ToolRig, server: ScriptedServer, run: Callable[..., Any]) -> None:
    server.props = {"chat_template_caps": {"supports_tools": True}}
    server.script(Reply(text="Plain."), Reply(text="With tools now."))
    switch = rig.window.options_bar.tools_button
    switch.click()  # off for this (new) conversation
    rig.ask("Time?")
    run(rig.reply())
    assert "tools" not in server.chat_requests()[0].json
    assert not switch.isChecked() and "can call tools" in switch.toolTip()
    switch.click()
    rig.ask("And now?")
    run(rig.reply(2))
    assert "tools" in server.chat_requests()[1].json


def test_the_quick_prompt_says_tools_are_the_chats(
    history: HistoryStore, server: ScriptedServer, access: HubAccess, qtbot: QtBot
) -> None:
    # lazy: the quick prompt's module only for this test
    from trayai.ui.prompt.window import TOOLS_NOTE, QuickPromptWindow

    client = client_for(server.base_url)
    controller = ChatController(history, lambda: ChatTarget(client=client, model="ai/smollm2", profile=None))
    hub: list[HubAccess | None] = [access]
    prompt = QuickPromptWindow(
        controller, has_tools=lambda: hub[0] is not None and hub[0].current_hub() is not None
    )
    qtbot.addWidget(prompt)
    assert prompt.summon()
    assert prompt.tools_note.isVisible() and prompt.tools_note.text() == TOOLS_NOTE
    prompt.dismiss()
    hub[0] = None
    assert prompt.summon()
    assert not prompt.tools_note.isVisible()


def test_stored_cards_say_each_outcome_and_never_act(qtbot: QtBot) -> None:
    """Hostile tool text and arguments stay text (no links, no images); each outcome in words."""
    # lazy: only this test draws stored cards alone
    from trayai.core.chat.history_records import StoredMessage
    from trayai.ui.chat.tool_cards import CARD_META, NOT_RUN

    view = TranscriptView()
    qtbot.addWidget(view)
    hostile = '<a href="http://evil.example">click</a><img src="http://evil.example/x.png"> [x](http://evil.example)'
    messages = []
    outcomes = ["ran", "failed", "denied", "refused", "invalid", "unknown", "cancelled"]
    for number, outcome in enumerate(outcomes, start=1):
        look = {"title": "srv/tool", "arguments": hostile, "outcome": outcome, "error": "it hung for 60 s"}
        meta = {"tool_call_id": f"c{number}", CARD_META: look}
        messages.append(StoredMessage(number, 1, number, "tool", hostile, MessageStatus.DONE, meta))
    view.set_messages(messages, has_earlier=False)
    for key in range(1, len(outcomes) + 1):
        view.cards.toggle(key, view.renderer.palette)  # every result open
    text = view.toPlainText()
    assert text.count('<img src="http://evil.example/x.png">') == 2 * len(outcomes)  # arguments + result
    assert "✕ Failed — it hung for 60 s" in text and "✓ Done" in text
    for words in NOT_RUN.values():
        assert words in text
    anchors = []
    block = view.document().begin()
    while block.isValid():
        it = block.begin()
        while not it.atEnd():
            href = it.fragment().charFormat().anchorHref()
            if href:
                anchors.append(href)
            it += 1
        block = block.next()
    assert anchors and all(href.startswith("trayai:") for href in anchors)
    assert view.document().toHtml().count("<img") == 0
