"""The conversation sidebar alone: what it lists and what it tells the window (signals)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from trayai.core.chat.history import HistoryStore
from trayai.ui.chat.conversations import SharedConversations
from trayai.ui.chat.sidebar import ConversationSidebar


def make(history: HistoryStore, qtbot: QtBot, current: int | None = None) -> ConversationSidebar:
    sidebar = ConversationSidebar(SharedConversations(history), lambda: current)
    qtbot.addWidget(sidebar)
    sidebar.show()
    return sidebar


def record(signal: Any) -> list[tuple[Any, ...]]:
    seen: list[tuple[Any, ...]] = []
    signal.connect(lambda *args: seen.append(args))
    return seen


def test_lists_conversations_and_selects_the_current_one(history: HistoryStore, qtbot: QtBot) -> None:
    first = history.create_conversation("first")
    second = history.create_conversation("second")
    sidebar = make(history, qtbot, current=first.id)
    sidebar.refresh()
    titles = [sidebar.conversations.item(i).text() for i in range(sidebar.conversations.count())]
    assert sorted(titles) == ["first", "second"]
    current = sidebar.conversations.currentItem()
    assert current is not None and current.text() == "first"
    sidebar.select(second.id)
    current = sidebar.conversations.currentItem()
    assert current is not None and current.text() == "second"
    sidebar.select(12345)
    assert sidebar.conversations.selectedItems() == []


def test_a_click_asks_the_window_to_open_it(history: HistoryStore, qtbot: QtBot) -> None:
    conv = history.create_conversation("only")
    sidebar = make(history, qtbot)
    sidebar.refresh()
    chosen = record(sidebar.conversation_chosen)
    sidebar.conversations.itemClicked.emit(sidebar.conversations.item(0))
    assert chosen == [(conv.id,)]


def test_enter_in_search_opens_the_best_hit_at_its_message(history: HistoryStore, qtbot: QtBot) -> None:
    conv = history.create_conversation("animals")
    history.add_message(conv.id, "user", "tell me about cats")
    history.add_message(conv.id, "assistant", "zebras have stripes")
    sidebar = make(history, qtbot)
    hits = record(sidebar.hit_chosen)
    qtbot.keyClicks(sidebar.search, "zebras stripes")
    assert sidebar.searching
    qtbot.keyClick(sidebar.search, Qt.Key.Key_Return)
    assert hits == [(conv.id, 1, ["zebras", "stripes"])]
    assert "answer: «zebras» have «stripes»" in sidebar.conversations.item(0).text()


def test_no_match_is_said_and_cannot_be_chosen(history: HistoryStore, qtbot: QtBot) -> None:
    history.create_conversation("something")
    sidebar = make(history, qtbot)
    hits = record(sidebar.hit_chosen)
    chosen = record(sidebar.conversation_chosen)
    sidebar.search.setText("nothingmatchesthis")
    sidebar.open_first_result()
    assert sidebar.conversations.item(0).text() == "No matches"
    assert hits == [] and chosen == []


def test_context_menu_actions_become_signals(history: HistoryStore, qtbot: QtBot) -> None:
    conv = history.create_conversation("menu me")
    sidebar = make(history, qtbot)
    sidebar.refresh()
    exports = record(sidebar.export_requested)
    deletes = record(sidebar.delete_requested)
    rect = sidebar.conversations.visualItemRect(sidebar.conversations.item(0))
    sidebar._on_context_menu(rect.center())
    menu = sidebar._context_menu
    for action in menu.actions()[1:]:
        action.trigger()
    menu.close()
    assert exports == [(conv.id, "md"), (conv.id, "json")]
    assert deletes == [(conv.id,)]


def test_an_edited_title_is_reported_then_relisted(history: HistoryStore, qtbot: QtBot) -> None:
    conv = history.create_conversation("old title")
    conversations = SharedConversations(history)
    sidebar = ConversationSidebar(conversations, lambda: None)
    qtbot.addWidget(sidebar)
    sidebar.show()
    sidebar.refresh()
    renamed = record(sidebar.renamed)
    sidebar.renamed.connect(conversations.rename)  # as the window does (through the shared conversations)
    sidebar.conversations.item(0).setText("new title")
    assert renamed == [(conv.id, "new title")]
    qtbot.waitUntil(lambda: sidebar.conversations.item(0).text() == "new title")
    assert history.conversation(conv.id).title == "new title"


def test_new_chat_button_is_a_signal(history: HistoryStore, qtbot: QtBot) -> None:
    sidebar = make(history, qtbot)
    new = record(sidebar.new_requested)
    qtbot.mouseClick(sidebar.new_button, Qt.MouseButton.LeftButton)
    assert new == [()]


def test_headings_group_the_list_and_pinning_moves_a_chat_up(qtbot: QtBot, tmp_path: Path) -> None:
    from trayai.ui.chat.grouped_list import heading_of

    month_ago = iter([time.time() - 86_400 * 30])
    store = HistoryStore(tmp_path / "h.sqlite3", now=lambda: next(month_ago, time.time()))
    old = store.create_conversation("old one")
    store.create_conversation("new one")
    sidebar = ConversationSidebar(SharedConversations(store), lambda: None)
    qtbot.addWidget(sidebar)
    sidebar.refresh()
    model = sidebar.conversations.model()
    rows = [(model.index(r, 0).data(), heading_of(model.index(r, 0))) for r in range(model.rowCount())]
    assert rows == [("new one", "Today"), ("old one", "Earlier")]
    sidebar.set_pinned(old.id, pinned=True)  # what the context menu's Pin does
    rows = [(model.index(r, 0).data(), heading_of(model.index(r, 0))) for r in range(model.rowCount())]
    assert rows == [("old one", "Pinned"), ("new one", "Today")]
    store.close()
