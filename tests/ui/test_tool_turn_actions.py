"""The actions over a tool exchange's messages, end to end with the real ``mcp-server-time``: the
assistant turn that made the calls is a step inside the answer, so it offers Copy but no Regenerate;
the answer's last message (after the cards) offers Regenerate, which answers again from the same
question and tool results — the turn and its cards stay, the old answer is kept as ‹ 1/2 ›."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt

from tests.support.scripted_server import Reply, ScriptedServer, tool_reply
from tests.support.waiting import until
from tests.ui.test_chat_tools import TOKYO, ToolRig, access, rig  # noqa: F401 - access, rig: fixtures
from trayai.core.chat.history_records import MessageStatus
from trayai.core.tools.policy import Approval
from trayai.ui.chat.transcript_links import TranscriptAction


def _offered(rig: ToolRig, message_id: int) -> set[str]:  # noqa: F811 - rig: the fixture's type
    """The buttons the toolbar offers over ``message_id``'s card (as when it is hovered)."""
    view = rig.window.transcript
    assert view.toolbar.show_for(message_id)
    return {str(kind) for kind, button in view.toolbar.buttons.items() if not button.isHidden()}


def test_the_turn_that_made_tool_calls_has_no_regenerate_and_the_answer_does(
    rig: ToolRig,  # noqa: F811 - the fixture
    server: ScriptedServer,
    run: Callable[..., Any],
) -> None:
    server.script(
        tool_reply(TOKYO, text="Let me look."),
        Reply(text="It is evening in **Tokyo**."),
        Reply(text="Tokyo: evening, 19:00."),
    )
    rig.ask("What time is it in Tokyo?")
    run(rig.card_waits())
    rig.answer(Approval.ONCE)
    assert run(rig.reply()).status == MessageStatus.DONE
    cid = rig.controller.conversation_id
    assert cid is not None
    question, turn, result, answer = rig.controller.history.messages(cid)
    assert (turn.role, result.role, answer.role) == ("assistant", "tool", "assistant")

    assert _offered(rig, turn.id) == {"copy"}  # a step of the answer: nothing to regenerate there
    assert _offered(rig, answer.id) == {"copy", "regenerate"}
    assert _offered(rig, question.id) == {"copy", "edit"}

    regenerate = rig.window.transcript.toolbar.buttons[TranscriptAction.REGENERATE]
    assert _offered(rig, answer.id)  # the toolbar back over the answer, as the pointer would put it
    rig.qtbot.mouseClick(regenerate, Qt.MouseButton.LeftButton)
    outcome = run(rig.reply(2))
    assert outcome.status == MessageStatus.DONE and outcome.message.content == "Tokyo: evening, 19:00."
    again = server.chat_requests()[-1].json["messages"]
    assert [m["role"] for m in again] == ["user", "assistant", "tool"]  # the same question and results
    messages = rig.controller.history.messages(cid)
    assert [m.id for m in messages[:3]] == [question.id, turn.id, result.id]  # the exchange stays
    assert messages[3].content == "Tokyo: evening, 19:00." and messages[3].versions == 2
    run(until(lambda: "‹ 2/2 ›" in rig.text(), 10, "the answers' switcher"))
    assert "Let me look." in rig.text() and "✓ Done in" in rig.text()
