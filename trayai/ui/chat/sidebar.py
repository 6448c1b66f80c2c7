"""The chat window's conversation list: listing, search hits, selection and the item context menu.

The window only hears what the user chose (signals) and does the opening, deleting and exporting;
the list follows the shared :class:`SharedConversations` (refreshed on its signals, pinned through it).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from trayai.core.chat.chatgroups import group_of
from trayai.core.chat.history_db import HistoryError
from trayai.core.chat.history_search import MATCH_END, MATCH_START, SearchHit
from trayai.core.textsafe import not_markup
from trayai.ui.chat.conversations import SharedConversations
from trayai.ui.chat.grouped_list import ROLE_GROUP, GroupedDelegate

ROLE_CONVERSATION = Qt.ItemDataRole.UserRole
ROLE_HIT = Qt.ItemDataRole.UserRole + 1
ROLE_PINNED = Qt.ItemDataRole.UserRole + 3


class ConversationSidebar(QWidget):
    """The search box, the New chat button and the list of conversations (or search hits).

    Signals:
        new_requested()                     New chat was pressed
        back_requested()                    Back was pressed (a narrow window shows one pane at a time)
        conversation_chosen(int)            a conversation of the listing was clicked/activated
        hit_chosen(int, object, list)       a search hit: conversation, message index (None for a
                                            title hit), the query's words to highlight
        export_requested(int, str)          context menu: export as "md" or "json"
        delete_requested(int)               context menu: delete
        renamed(int, str)                   an item was edited in place: the new title
        failed(str)                         the history could not be read (a sentence)
    """

    new_requested = Signal()
    back_requested = Signal()
    conversation_chosen = Signal(int)
    hit_chosen = Signal(int, object, list)
    export_requested = Signal(int, str)
    delete_requested = Signal(int)
    renamed = Signal(int, str)
    failed = Signal(str)

    SEARCH_DELAY_MS = 150

    def __init__(
        self,
        conversations: SharedConversations,
        current: Callable[[], int | None],
        parent: QWidget | None = None,
    ) -> None:
        """``current`` says which conversation the window shows (selected after each refresh)."""
        super().__init__(parent)
        self._source = conversations  # the shared conversations: read, pinned, followed
        self._current = current
        self._renaming = False  # an item's edit is being reported: the list is relisted after it
        self.search = QLineEdit(placeholderText="Search conversations (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.new_button = QPushButton("New chat")
        self.new_button.setToolTip("Start a new conversation (Ctrl+N)")
        self.back_button = QPushButton("Back")
        self.back_button.setToolTip("Back to the conversation (Esc or Ctrl+B)")
        self.back_button.hide()  # only when the list stands in for the conversation (narrow window)
        self.conversations = QListWidget()
        self.conversations.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.conversations.setEditTriggers(QListWidget.EditTrigger.EditKeyPressed)
        self.conversations.setItemDelegate(GroupedDelegate(self.conversations))
        self.conversations.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.conversations.setTextElideMode(Qt.TextElideMode.ElideRight)  # long titles end in "…"
        self.conversations.setAccessibleName("Conversations")
        self.search.setAccessibleName("Search conversations")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 0, 6)
        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.new_button)
        top.addWidget(self.back_button)
        layout.addLayout(top)
        layout.addWidget(self.conversations, 1)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(self.SEARCH_DELAY_MS)

        self.new_button.clicked.connect(self._on_new_clicked)
        self.back_button.clicked.connect(self._on_back_clicked)
        self.conversations.itemClicked.connect(self._on_item_clicked)
        self.conversations.itemActivated.connect(self._on_item_clicked)
        self.conversations.itemChanged.connect(self._on_item_renamed)
        self.conversations.customContextMenuRequested.connect(self._on_context_menu)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.search.returnPressed.connect(self.open_first_result)
        self._search_timer.timeout.connect(self.refresh)
        conversations.history_changed.connect(self._on_history_changed)
        conversations.hits_changed.connect(self._on_hits_changed)

    def _on_new_clicked(self) -> None:
        self.new_requested.emit()

    def _on_back_clicked(self) -> None:
        self.back_requested.emit()

    @property
    def searching(self) -> bool:
        """The list shows search hits, not the conversations."""
        return bool(self.search.text().strip())

    def _on_history_changed(self) -> None:
        """The listing follows every change; search hits stay as they are while the user reads them."""
        if not self.searching and not self._renaming:
            self.refresh()

    def _on_hits_changed(self) -> None:
        if self.searching:
            self.refresh()

    def refresh(self) -> None:
        """List the conversations (or the hits for the search box), the current one selected."""
        query = self.search.text().strip()
        self.conversations.blockSignals(True)
        self.conversations.clear()
        try:
            if query:
                hits = self._source.search(query)
                for hit in hits:
                    self.conversations.addItem(self._hit_item(hit, query))
                if not hits:
                    item = QListWidgetItem("No matches")
                    item.setFlags(Qt.ItemFlag.NoItemFlags)
                    self.conversations.addItem(item)
            else:
                now = time.time()
                for conv in self._source.listing():
                    item = QListWidgetItem(conv.title)
                    item.setData(ROLE_CONVERSATION, conv.id)
                    item.setData(ROLE_GROUP, str(group_of(conv.updated, pinned=conv.pinned, now=now)))
                    item.setData(ROLE_PINNED, conv.pinned)
                    item.setToolTip(
                        not_markup(
                            f"{conv.title}\n{time.strftime('%Y-%m-%d %H:%M', time.localtime(conv.updated))}"
                            f" · {conv.message_count} messages"
                        )
                    )
                    item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
                    self.conversations.addItem(item)
        except HistoryError as exc:
            self.failed.emit(str(exc))
        finally:
            self.conversations.blockSignals(False)
        current = self._current()
        if not query and current is not None:
            self.select(current)

    def _hit_item(self, hit: SearchHit, query: str) -> QListWidgetItem:
        snippet = hit.snippet.replace(MATCH_START, "«").replace(MATCH_END, "»")
        where = "title" if hit.message_id is None else ("you" if hit.role == "user" else "answer")
        item = QListWidgetItem(f"{hit.title}\n  {where}: {snippet}")
        item.setData(ROLE_CONVERSATION, hit.conversation_id)
        item.setData(ROLE_HIT, (hit.index if hit.message_id is not None else None, query))
        item.setToolTip(not_markup(snippet))
        return item

    def select(self, conversation_id: int) -> None:
        """Select that conversation's item without emitting anything; clear if it is not listed."""
        for row in range(self.conversations.count()):
            item = self.conversations.item(row)
            if item.data(ROLE_CONVERSATION) == conversation_id:
                self.conversations.blockSignals(True)
                self.conversations.setCurrentItem(item)
                self.conversations.blockSignals(False)
                return
        self.conversations.clearSelection()

    def _on_item_clicked(self, item: QListWidgetItem) -> None:
        conversation_id = item.data(ROLE_CONVERSATION)
        if conversation_id is None:
            return
        hit = item.data(ROLE_HIT)
        if hit is not None:
            index, query = hit
            self.hit_chosen.emit(int(conversation_id), index, re.findall(r"\w+", query))
        else:
            self.conversation_chosen.emit(int(conversation_id))

    def _on_item_renamed(self, item: QListWidgetItem) -> None:
        conversation_id = item.data(ROLE_CONVERSATION)
        if conversation_id is None:
            return
        self._renaming = True  # not relisted inside the item's own signal: once it returned
        try:
            self.renamed.emit(int(conversation_id), item.text())
        finally:
            self._renaming = False
        QTimer.singleShot(0, self.refresh)

    def _on_context_menu(self, pos: QPoint) -> None:
        item = self.conversations.itemAt(pos)
        if item is None or item.data(ROLE_CONVERSATION) is None:
            return
        conversation_id = int(item.data(ROLE_CONVERSATION))
        menu = QMenu(self)
        rename = QAction("&Rename", menu)
        rename.triggered.connect(lambda: self._rename_item(item))
        md = QAction("Export as &Markdown…", menu)
        md.triggered.connect(lambda: self.export_requested.emit(conversation_id, "md"))
        js = QAction("Export as &JSON…", menu)
        js.triggered.connect(lambda: self.export_requested.emit(conversation_id, "json"))
        pinned = bool(item.data(ROLE_PINNED))
        pin = QAction("Un&pin" if pinned else "&Pin to the top", menu)
        pin.triggered.connect(lambda: self.set_pinned(conversation_id, pinned=not pinned))
        delete = QAction("&Delete", menu)
        delete.triggered.connect(lambda: self.delete_requested.emit(conversation_id))
        for action in (rename, pin, md, js, delete):
            menu.addAction(action)
        menu.popup(self.conversations.viewport().mapToGlobal(pos))
        self._context_menu = menu

    def set_pinned(self, conversation_id: int, *, pinned: bool) -> None:
        try:
            self._source.set_pinned(conversation_id, pinned=pinned)  # relisted on its signal
        except HistoryError as exc:
            self.failed.emit(str(exc))

    def _rename_item(self, item: QListWidgetItem) -> None:
        if self.searching:
            self.search.clear()
            self.refresh()
            return
        self.conversations.editItem(item)

    def open_first_result(self) -> None:
        """Enter in the search box: search now and open the best hit (Spotlight-style)."""
        self._search_timer.stop()
        self.refresh()
        item = self.conversations.item(0)
        if item is not None and item.data(ROLE_CONVERSATION) is not None:
            self.conversations.setCurrentItem(item)
            self._on_item_clicked(item)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()


__all__ = ["ConversationSidebar"]
