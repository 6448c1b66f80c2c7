"""History that reads well (issue 25): the quick prompt's exchanges under a heading of their own
instead of flooding Today, failed exchanges titled from their question, and search hits whose
snippet shows the match even in a narrow list.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pytestqt.qtbot import QtBot

from tests.support.scripted_server import Reply, ScriptedServer
from tests.support.waiting import until
from tests.ui.conftest import client_for
from tests.ui.test_chat_sidebar import make
from trayai.core.chat.chatgroups import ORIGIN_KEY, QUICK_PROMPT_ORIGIN, ChatGroup
from trayai.core.chat.history import HistoryStore
from trayai.core.chat.history_search import MATCH_END, MATCH_START, centred
from trayai.ui.chat.controller import ChatController, ChatTarget
from trayai.ui.chat.conversations import SharedConversations
from trayai.ui.chat.grouped_list import ROLE_GROUP


def listed(sidebar: Any) -> list[tuple[str, str]]:
    items = [sidebar.conversations.item(i) for i in range(sidebar.conversations.count())]
    return [(item.text(), item.data(ROLE_GROUP)) for item in items]


def test_quick_prompt_exchanges_go_under_their_own_heading_after_the_chats(
    history: HistoryStore, server: ScriptedServer, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    shared = SharedConversations(history)
    client = client_for(server.base_url)

    def target() -> ChatTarget:
        return ChatTarget(client=client, model="ai/smollm2", profile="default")

    chat = ChatController(history, target, conversations=shared)
    quick = ChatController(history, target, conversations=shared, origin=QUICK_PROMPT_ORIGIN)
    done: list[Any] = []
    for controller in (chat, quick):
        controller.finished.connect(done.append)
    server.script(Reply(text="a"), Reply(text="b"), Reply(text="c"))
    assert chat.send("a real chat")

    async def replies(count: int) -> None:
        await until(lambda: len(done) >= count, 10.0, "the replies")

    run(replies(1))
    assert quick.send("explain this selection")
    run(replies(2))
    quick.new_conversation()
    assert quick.send("translate that")
    run(replies(3))
    cid = quick.conversation_id
    assert cid is not None and history.conversation(cid).settings[ORIGIN_KEY] == QUICK_PROMPT_ORIGIN
    sidebar = make(history, qtbot)
    sidebar.refresh()
    assert listed(sidebar) == [
        ("a real chat", ChatGroup.TODAY.value),
        ("translate that", ChatGroup.QUICK_PROMPT.value),
        ("explain this selection", ChatGroup.QUICK_PROMPT.value),
    ]


def test_a_failed_exchange_is_titled_from_its_question(
    history: HistoryStore, qtbot: QtBot, run: Callable[..., Any]
) -> None:
    client = client_for("http://127.0.0.1:9")  # nothing listens on the discard port
    controller = ChatController(history, lambda: ChatTarget(client=client, model="m", profile="default"))
    failed: list[Any] = []
    controller.failed.connect(failed.append)
    assert controller.send("why is the sky blue?")

    async def failure() -> None:
        await until(lambda: bool(failed), 10.0, "the failure")

    run(failure())
    sidebar = make(history, qtbot)
    sidebar.refresh()
    assert listed(sidebar) == [("why is the sky blue?", ChatGroup.TODAY.value)]


def test_a_snippet_is_centred_on_its_match() -> None:
    before = " ".join(f"word{i}" for i in range(30))
    snippet = f"…{before} {MATCH_START}zebra{MATCH_END} runs after {' '.join(['more'] * 20)}…"
    cut = centred(snippet)
    assert cut.startswith("…") and cut.endswith("…")
    assert cut.index(MATCH_START) <= 35  # in sight at the start of a narrow list's line
    assert len(cut) < 80 and "zebra" in cut
    assert centred(f"{MATCH_START}short{MATCH_END} text") == f"{MATCH_START}short{MATCH_END} text"
    cut_late = centred(f"{MATCH_START}a{MATCH_END} {'x' * 20} {MATCH_START}bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
    assert cut_late.count(MATCH_START) == cut_late.count(MATCH_END)


def test_the_sidebar_shows_a_hit_with_its_match_near_the_start(history: HistoryStore, qtbot: QtBot) -> None:
    conv = history.create_conversation("long one")
    history.add_message(conv.id, "user", "tell me")
    history.add_message(conv.id, "assistant", " ".join(f"filler{i}" for i in range(40)) + " zebras gallop")
    sidebar = make(history, qtbot)
    sidebar.search.setText("zebras")
    sidebar.refresh()
    line = sidebar.conversations.item(0).text().split("\n")[1]
    assert "«zebras»" in line and line.index("«zebras»") < 50
